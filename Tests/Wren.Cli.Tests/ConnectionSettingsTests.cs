using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Wren.Cli.Connection;

namespace Wren.Cli.Tests;

public class ConnectionSettingsTests
{
    [Theory]
    [InlineData("127.0.0.1:7401", "127.0.0.1", 7401)]
    [InlineData("broker.example", "broker.example", 7400)]
    [InlineData("[::1]:9000", "::1", 9000)]
    [InlineData("[::1]", "::1", 7400)]
    [InlineData("::1", "::1", 7400)]
    public void ServerAddress_Parse_AcceptsHostPortForms(string text, string host, int port)
    {
        Assert.Equal(new ServerAddress(host, port), ServerAddress.Parse(text, "--server"));
    }

    [Theory]
    [InlineData("host:")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData(":7400")]
    [InlineData("[::1")]
    [InlineData("[::1]x")]
    public void ServerAddress_Parse_MalformedIsAUsageError(string text)
    {
        var error = Assert.Throws<CliException>(() => ServerAddress.Parse(text, "--server"));
        Assert.Equal(ExitCodes.BadArguments, error.ExitCode);
    }

    [Theory]
    [InlineData("30d", 30 * 86_400)]
    [InlineData("12h", 12 * 3600)]
    [InlineData("45m", 45 * 60)]
    [InlineData("90s", 90)]
    [InlineData("2w", 14 * 86_400)]
    [InlineData("3600", 3600)]
    [InlineData("0", 0)]
    public void Durations_TryParse_ReadsUnits(string text, long seconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("d")]
    [InlineData("-1d")]
    [InlineData("1y")]
    [InlineData("5000000000")]
    [InlineData("100000w")]
    public void Durations_TryParse_RejectsWhatTheWireCannotCarry(string text)
    {
        Assert.False(Durations.TryParse(text, out _));
    }

    [Fact]
    public void Fingerprints_Normalize_AcceptsColonsAndCase()
    {
        string hex = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

        Assert.Equal(hex, Fingerprints.Normalize(Fingerprints.Display(hex).ToLowerInvariant()));
        Assert.Null(Fingerprints.Normalize(hex[..62]));
        Assert.Null(Fingerprints.Normalize(hex[..62] + "ZZ"));
    }

    [Fact]
    public void Resolve_FlagsWinOverEnvironmentWhichWinsOverTheDataDirectory()
    {
        string root = Directory.CreateTempSubdirectory("wren-cli-resolve-").FullName;
        try
        {
            string data = Path.Combine(root, "data");
            Directory.CreateDirectory(data);
            File.WriteAllText(Path.Combine(data, "admin.token"), "wren_from_file\n");
            string pfxFingerprint = WriteCertificate(Path.Combine(data, "dev-cert.pfx"));
            string envFingerprint = new('B', 64);
            var host = new CliHost
            {
                WorkingDirectory = root,
                Environment = new Dictionary<string, string> { ["WREN_SERVER"] = "10.1.2.3:7500" },
            };

            var fromFiles = ConnectionResolver.Resolve(new ConnectionSettings(), host, TokenUse.Admin);
            Assert.Equal(new ServerAddress("10.1.2.3", 7500), fromFiles.Server);
            Assert.Equal("wren_from_file", fromFiles.Token);
            Assert.Equal(pfxFingerprint, fromFiles.Fingerprint);

            var withEnvironment = new CliHost
            {
                WorkingDirectory = root,
                Environment = new Dictionary<string, string> { ["WREN_TOKEN"] = "wren_from_env", ["WREN_FINGERPRINT"] = envFingerprint },
            };
            var fromEnvironment = ConnectionResolver.Resolve(new ConnectionSettings(), withEnvironment, TokenUse.Admin);
            Assert.Equal(ServerAddress.Default, fromEnvironment.Server);
            Assert.Equal("wren_from_env", fromEnvironment.Token);
            Assert.Equal(envFingerprint, fromEnvironment.Fingerprint);

            var fromFlags = ConnectionResolver.Resolve(new ConnectionSettings { Server = "h:1", Token = "wren_from_flag", Fingerprint = new string('c', 64) }, withEnvironment, TokenUse.Admin);
            Assert.Equal(("h", 1, "wren_from_flag", new string('C', 64)), (fromFlags.Server.Host, fromFlags.Server.Port, fromFlags.Token, fromFlags.Fingerprint));

            // A user's own commands never fall back to the administrator's token.
            var error = Assert.Throws<CliException>(() => ConnectionResolver.Resolve(new ConnectionSettings(), host, TokenUse.User));
            Assert.Equal(ExitCodes.BadArguments, error.ExitCode);

            var plaintext = ConnectionResolver.Resolve(new ConnectionSettings { InsecurePlaintext = true }, host, TokenUse.Admin);
            Assert.False(plaintext.UseTls);
            Assert.Null(plaintext.Fingerprint);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string WriteCertificate(string path)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=test", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12));
        return Convert.ToHexString(SHA256.HashData(certificate.RawData));
    }
}
