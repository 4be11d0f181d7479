using System.Globalization;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Cli.Commands;

/// <summary>Finds users by name or id and formats times.</summary>
internal static class Users
{
    /// <summary>Resolves a user given as a login name or a numeric id (a name wins when both match).</summary>
    public static async Task<UserInfo> ResolveAsync(WrenClient client, string nameOrId, CancellationToken cancellationToken)
    {
        var found = await ResolveManyAsync(client, [nameOrId], cancellationToken).ConfigureAwait(false);
        return found[0];
    }

    /// <summary>Resolves several users in one request; any unknown one fails the command, naming it.</summary>
    public static async Task<IReadOnlyList<UserInfo>> ResolveManyAsync(WrenClient client, IReadOnlyList<string> namesOrIds, CancellationToken cancellationToken)
    {
        var ids = namesOrIds.Select(n => ulong.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0).Where(id => id != 0).Distinct();
        var list = await client.ResolveUsersAsync(ids, namesOrIds.Distinct(), cancellationToken).ConfigureAwait(false);
        var result = new List<UserInfo>();
        foreach (var text in namesOrIds)
        {
            var user = list.Items.FirstOrDefault(u => u.UserName == text)
                ?? list.Items.FirstOrDefault(u => u.UserId.ToString(CultureInfo.InvariantCulture) == text)
                ?? throw new CliException($"no user named '{text}' (and no user with that id)");
            result.Add(user);
        }

        return result;
    }

    /// <summary>Names of users by id, for display; unknown ids show as "#id".</summary>
    public static async Task<Dictionary<ulong, string>> NamesAsync(WrenClient client, IEnumerable<ulong> ids, CancellationToken cancellationToken)
    {
        var wanted = ids.Where(id => id != 0).Distinct().ToList();
        var names = new Dictionary<ulong, string>();
        foreach (var chunk in wanted.Chunk(1000))
        {
            var list = await client.ResolveUsersAsync(chunk, null, cancellationToken).ConfigureAwait(false);
            foreach (var user in list.Items)
            {
                names[user.UserId] = user.UserName;
            }
        }

        foreach (var id in wanted)
        {
            names.TryAdd(id, "#" + id.ToString(CultureInfo.InvariantCulture));
        }

        return names;
    }

    /// <summary>A Unix-millisecond time as UTC "yyyy-MM-dd HH:mm:ss", or "never"/"-" for 0.</summary>
    public static string Time(long unixMs, string zero = "-") =>
        unixMs <= 0 ? zero : DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>A Unix-millisecond time as ISO 8601 UTC for JSON, or null for 0.</summary>
    public static string? IsoTime(long unixMs) =>
        unixMs <= 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>A number with thousands separators.</summary>
    public static string Count(ulong value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
