using Wren.Protocol.Messages;

namespace Wren.Client;

/// <summary>Administrator calls for security operations: the audit log, TLS certificate reload, at-rest key rotation.</summary>
public sealed partial class WrenClient
{
    /// <summary>Administrators: a page of the audit log with ids above <paramref name="afterId"/>, ascending.</summary>
    /// <param name="afterId">0 for the first page, then the previous page's <see cref="AdminAuditPage.LastId"/>.</param>
    /// <param name="limit">Most events (0 = 100, at most <see cref="AdminAuditQuery.MaxPage"/>).</param>
    /// <param name="userName">Only events whose actor or subject is this user; null = any.</param>
    /// <param name="action">Only events of this action name (e.g. <c>LoginFailed</c>); null = any.</param>
    /// <param name="since">Only events at or after this time; null = any time.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public Task<AdminAuditPage> AdminAuditAsync(ulong afterId = 0, uint limit = 0, string? userName = null, string? action = null, DateTimeOffset? since = null, CancellationToken cancellationToken = default) =>
        RequestAsync<AdminAuditPage>(
            new AdminAuditQuery { AfterId = afterId, Limit = limit, UserName = userName ?? "", Action = action ?? "", SinceMs = since?.ToUnixTimeMilliseconds() ?? 0 },
            cancellationToken);

    /// <summary>Administrators: the broker reads its certificate file again; new connections get the new certificate.</summary>
    /// <remarks>An unusable file keeps the old certificate and fails with <c>Conflict</c>.</remarks>
    public Task<AdminCertificate> AdminReloadTlsAsync(CancellationToken cancellationToken = default) =>
        RequestAsync<AdminCertificate>(new AdminTlsReload(), cancellationToken);

    /// <summary>Administrators: generate a new at-rest data key and make it current for new writes.</summary>
    public Task<AdminKeyRing> AdminRotateKeyAsync(CancellationToken cancellationToken = default) =>
        RequestAsync<AdminKeyRing>(new AdminRotateKey(), cancellationToken);

    /// <summary>Administrators: the at-rest key ring (ids only).</summary>
    public Task<AdminKeyRing> AdminKeyStatusAsync(CancellationToken cancellationToken = default) =>
        RequestAsync<AdminKeyRing>(new AdminKeyStatus(), cancellationToken);
}
