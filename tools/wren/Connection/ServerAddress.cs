using System.Globalization;

namespace Wren.Cli.Connection;

/// <summary>A broker address given as <c>host:port</c>, <c>host</c> or <c>[v6-address]:port</c>.</summary>
internal readonly record struct ServerAddress(string Host, int Port)
{
    public const int DefaultPort = 7400;

    public static ServerAddress Default => new("127.0.0.1", DefaultPort);

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses an address; a malformed one is a usage error naming <paramref name="origin"/>.</summary>
    public static ServerAddress Parse(string text, string origin)
    {
        string value = text.Trim();
        string host;
        string? port = null;
        if (value.StartsWith('['))
        {
            int close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw Invalid(text, origin);
            }

            host = value[1..close];
            string rest = value[(close + 1)..];
            if (rest.Length > 0)
            {
                if (!rest.StartsWith(':'))
                {
                    throw Invalid(text, origin);
                }

                port = rest[1..];
            }
        }
        else
        {
            int colon = value.LastIndexOf(':');
            if (colon >= 0 && value.IndexOf(':', StringComparison.Ordinal) == colon)
            {
                host = value[..colon];
                port = value[(colon + 1)..];
            }
            else
            {
                host = value;
            }
        }

        if (host.Length == 0 || host.Any(char.IsWhiteSpace))
        {
            throw Invalid(text, origin);
        }

        int number = DefaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number is < 1 or > 65535))
        {
            throw Invalid(text, origin);
        }

        return new ServerAddress(host, number);
    }

    private static CliException Invalid(string text, string origin) =>
        CliException.Usage($"{origin} '{text}' is not a broker address; expected HOST:PORT, e.g. 127.0.0.1:7400");
}
