using System.Text;
using Wren.Broker.Core;
using Wren.Client;
using Wren.Protocol;
using Wren.Protocol.Messages;
using Wren.Storage;

namespace Wren.Broker.Tests;

/// <summary>
/// The audit log: administrator actions are recorded with actor, subject and address, survive a restart, page and
/// filter, and only administrators can read them.
/// </summary>
public class AuditTests
{
    private static async Task<string> AdminTokenAsync(string dataDirectory) =>
        (await File.ReadAllTextAsync(Path.Combine(dataDirectory, WrenServer.AdminTokenFile))).Trim();

    /// <summary>Reads the whole audit log (every page).</summary>
    private static async Task<List<AdminAuditEvent>> ReadAllAsync(WrenClient admin, string? user = null, string? action = null, uint pageSize = 0)
    {
        var all = new List<AdminAuditEvent>();
        ulong after = 0;
        while (true)
        {
            var page = await admin.AdminAuditAsync(after, pageSize, user, action);
            all.AddRange(page.Items);
            if (!page.More)
            {
                return all;
            }

            Assert.True(page.LastId > after, "a page must move forward");
            after = page.LastId;
        }
    }

    /// <summary>Polls the audit log until <paramref name="done"/> holds: recording is asynchronous by design.</summary>
    private static Task<List<AdminAuditEvent>> WaitForAsync(WrenClient admin, Func<List<AdminAuditEvent>, bool> done, string what) =>
        Await.UntilAsync(() => ReadAllAsync(admin), done, all => $"{what}; the log holds: {string.Join(", ", all.Select(e => e.ActionName))}");

    [Fact]
    public async Task Administrator_actions_are_recorded_and_survive_a_restart()
    {
        string directory = Path.Combine(Path.GetTempPath(), "wren-audit-" + Guid.NewGuid().ToString("N"));
        try
        {
            List<AdminAuditEvent> before;
            ulong carolId, daveId, groupId, adminId;
            await using (var broker = await TestBroker.StartAsync(o => o.DataDirectory = directory))
            {
                await using var admin = await broker.ConnectAsync(await AdminTokenAsync(directory));
                adminId = admin.Session!.UserId;
                var carol = await admin.AdminCreateUserAsync("carol");
                var dave = await admin.AdminCreateUserAsync("dave");
                carolId = carol.UserId;
                daveId = dave.UserId;
                var carolToken = await admin.AdminIssueTokenAsync("carol", "phone");
                await admin.AdminIssueTokenAsync("dave", "laptop");
                await admin.AdminSetDisabledAsync(dave.UserId, disabled: true);
                await admin.AdminSetDisabledAsync(dave.UserId, disabled: false);
                var daveTokens = await admin.AdminListTokensAsync("dave");
                await admin.AdminRevokeTokenAsync("dave", daveTokens.Items[0].TokenId);

                await using (var c = await broker.ConnectAsync(carolToken.Token))
                {
                    var group = await c.CreateGroupAsync("ops", [dave.UserId]);
                    groupId = group.ConversationId;
                    await c.SendAsync(groupId, Encoding.UTF8.GetBytes("hello"));
                }

                await admin.AdminSetRoleAsync(groupId, dave.UserId, Protocol.Messages.MemberRole.Admin);
                await admin.AdminInspectLogAsync(groupId);
                await admin.AdminCheckpointAsync(Path.Combine(directory, "checkpoint-1"));
                await admin.AdminRotateKeyAsync();
                await admin.AdminReloadTlsAsync();

                string[] expected =
                [
                    nameof(AuditAction.UserCreated), nameof(AuditAction.TokenIssued), nameof(AuditAction.UserDisabled),
                    nameof(AuditAction.UserEnabled), nameof(AuditAction.TokenRevoked), nameof(AuditAction.RoleChanged),
                    nameof(AuditAction.AdminAction), nameof(AuditAction.KeyRotated), nameof(AuditAction.TlsReloaded),
                ];
                before = await WaitForAsync(admin, all => expected.All(a => all.Any(e => e.ActionName == a && e.ActorUserId == adminId)) && all.Count(e => e.ActionName == nameof(AuditAction.AdminAction)) >= 2, "every administrator action");

                var mine = before.Where(e => e.ActorUserId == adminId).ToList();
                Assert.All(mine, e => Assert.StartsWith("127.0.0.1", e.RemoteAddress, StringComparison.Ordinal));
                Assert.All(mine, e => Assert.NotEqual(0u, e.ActorDeviceId));
                Assert.Equal([carolId, daveId], mine.Where(e => e.ActionName == nameof(AuditAction.UserCreated)).Select(e => e.SubjectUserId));
                Assert.Equal([carolId, daveId], mine.Where(e => e.ActionName == nameof(AuditAction.TokenIssued)).Select(e => e.SubjectUserId));
                Assert.Equal(daveId, Assert.Single(mine, e => e.ActionName == nameof(AuditAction.UserDisabled)).SubjectUserId);
                Assert.Equal(daveId, Assert.Single(mine, e => e.ActionName == nameof(AuditAction.UserEnabled)).SubjectUserId);
                var revoked = Assert.Single(mine, e => e.ActionName == nameof(AuditAction.TokenRevoked));
                Assert.Equal(daveId, revoked.SubjectUserId);
                Assert.Contains(daveTokens.Items[0].TokenId, revoked.Detail, StringComparison.Ordinal);
                var role = Assert.Single(mine, e => e.ActionName == nameof(AuditAction.RoleChanged));
                Assert.Equal((daveId, groupId), (role.SubjectUserId, role.ConversationId));
                Assert.Contains("Admin", role.Detail, StringComparison.Ordinal);
                Assert.Contains(mine, e => e.ActionName == nameof(AuditAction.AdminAction) && e.ConversationId == groupId && e.Detail.Contains("inspect", StringComparison.Ordinal));
                Assert.Contains(mine, e => e.ActionName == nameof(AuditAction.AdminAction) && e.Detail.Contains("checkpoint", StringComparison.Ordinal));
                Assert.Contains(broker.Server.Fingerprint!, Assert.Single(mine, e => e.ActionName == nameof(AuditAction.TlsReloaded)).Detail, StringComparison.Ordinal);

                // Ids are dense and increasing; times are stamped.
                Assert.Equal(Enumerable.Range(1, before.Count).Select(i => (ulong)i), before.Select(e => e.Id));
                Assert.All(before, e => Assert.True(e.TimeMs > 0));

                // No secret ends up in the log: the issued token never appears.
                Assert.DoesNotContain(before, e => e.Detail.Contains(carolToken.Token, StringComparison.Ordinal));
            }

            // The log is durable: a new broker on the same directory reads the same records and keeps counting.
            await using (var broker = await TestBroker.StartAsync(o => o.DataDirectory = directory))
            {
                await using var admin = await broker.ConnectAsync(await AdminTokenAsync(directory));
                var after = await ReadAllAsync(admin);
                Assert.True(after.Count >= before.Count);
                Assert.Equal(
                    before.Select(e => (e.Id, e.TimeMs, e.ActionName, e.ActorUserId, e.SubjectUserId, e.ConversationId, e.Detail)),
                    after.Take(before.Count).Select(e => (e.Id, e.TimeMs, e.ActionName, e.ActorUserId, e.SubjectUserId, e.ConversationId, e.Detail)));

                var erin = await admin.AdminCreateUserAsync("erin");
                var latest = await WaitForAsync(admin, all => all.Any(e => e.SubjectUserId == erin.UserId), "the record of a user created after the restart");
                Assert.True(latest.Single(e => e.SubjectUserId == erin.UserId && e.ActionName == nameof(AuditAction.UserCreated)).Id > before[^1].Id);
            }
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Audit_log_pages_and_filters_by_user_action_and_time()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var admin = await broker.ConnectAsync(await AdminTokenAsync(broker.Directory));
        var ids = new List<ulong>();
        for (int i = 0; i < 23; i++)
        {
            ids.Add((await admin.AdminCreateUserAsync($"user{i:D2}")).UserId);
        }

        await admin.AdminSetDisabledAsync(ids[5], disabled: true);
        await WaitForAsync(admin, all => all.Count(e => e.ActionName == nameof(AuditAction.UserCreated)) == 23 && all.Any(e => e.ActionName == nameof(AuditAction.UserDisabled)), "24 records");

        // Pages of 5 over the filtered log: every record exactly once, in order.
        var created = await ReadAllAsync(admin, action: "usercreated", pageSize: 5);
        Assert.Equal(ids, created.Select(e => e.SubjectUserId));
        Assert.True(created.Select(e => e.Id).SequenceEqual(created.Select(e => e.Id).Order()));

        var firstPage = await admin.AdminAuditAsync(0, 5, action: nameof(AuditAction.UserCreated));
        Assert.Equal(5, firstPage.Items.Length);
        Assert.True(firstPage.More);
        var secondPage = await admin.AdminAuditAsync(firstPage.LastId, 5, action: nameof(AuditAction.UserCreated));
        Assert.Equal(ids.Skip(5).Take(5), secondPage.Items.Select(e => e.SubjectUserId));

        // By user: the records that name user05 as actor or subject.
        var user05 = await ReadAllAsync(admin, user: "user05");
        Assert.Equal([nameof(AuditAction.UserCreated), nameof(AuditAction.UserDisabled)], user05.Select(e => e.ActionName));

        // By time: nothing in the future; everything since a minute ago.
        Assert.Empty((await admin.AdminAuditAsync(since: DateTimeOffset.UtcNow.AddMinutes(5))).Items);
        Assert.Equal(24, (await admin.AdminAuditAsync(limit: AdminAuditQuery.MaxPage, since: DateTimeOffset.UtcNow.AddMinutes(-1))).Items.Count(e => e.ActionName is nameof(AuditAction.UserCreated) or nameof(AuditAction.UserDisabled)));

        var unknownAction = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminAuditAsync(action: "Nonsense"));
        Assert.Equal(ErrorCode.InvalidArgument, unknownAction.Code);
        var unknownUser = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminAuditAsync(userName: "nobody"));
        Assert.Equal(ErrorCode.NotFound, unknownUser.Code);
    }

    [Fact]
    public async Task Non_administrators_get_Forbidden_for_audit_TLS_and_key_requests()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var admin = await broker.ConnectAsync(await AdminTokenAsync(broker.Directory));
        var mallory = await broker.CreateUserAsync("mallory");
        await using var m = await broker.ConnectAsync(mallory.Token);

        Func<WrenClient, Task>[] requests =
        [
            c => c.AdminAuditAsync(),
            c => c.AdminReloadTlsAsync(),
            c => c.AdminRotateKeyAsync(),
            c => c.AdminKeyStatusAsync(),
        ];
        foreach (var request in requests)
        {
            var refused = await Assert.ThrowsAsync<WrenClientException>(() => request(m));
            Assert.Equal(ErrorCode.Forbidden, refused.Code);
        }

        Assert.Equal(0u, (await admin.AdminKeyStatusAsync()).ActiveKeyId);

        // Negative control: the same requests succeed for the administrator, so the refusals above are about the role.
        foreach (var request in requests)
        {
            await request(admin);
        }

        Assert.Equal(1u, (await admin.AdminKeyStatusAsync()).ActiveKeyId);
    }

    /// <summary>
    /// Fault: a store that stops completing writes. Recording still returns at once, the queue holds
    /// <see cref="AuditTrail.QueueCapacity"/> events, the rest are counted as dropped and a warning is logged; once the
    /// store recovers, everything queued is written.
    /// </summary>
    [Fact]
    public async Task A_stalled_store_makes_the_trail_drop_and_count_events_instead_of_blocking()
    {
        var store = new StalledAuditStore();
        var logs = new LogCapture();
        var trail = new AuditTrail(store, TimeProvider.System, logs.CreateLogger("audit"));
        const int count = AuditTrail.QueueCapacity + 5000;
        for (int i = 0; i < count; i++)
        {
            trail.Record(new AuditEvent(AuditAction.LoginFailed, 0, 0, (ulong)i, 0, null, null));
        }

        // The drain task holds at most one batch (512) outside the queue while the store is stalled.
        Assert.InRange(trail.Dropped, count - AuditTrail.QueueCapacity - 512, count - AuditTrail.QueueCapacity);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 1701);

        store.Release();
        await trail.DisposeAsync();
        Assert.Equal(count - trail.Dropped, trail.Written);
        Assert.Equal(trail.Written, store.Appended);
    }

    /// <summary>An audit store whose writes wait until <see cref="Release"/> (a stalled disk).</summary>
    private sealed class StalledAuditStore : IAuditStore
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _appended;

        public long Appended => Interlocked.Read(ref _appended);

        public void Release() => _release.TrySetResult();

        public async Task<ulong> AppendAuditAsync(IReadOnlyList<AuditRecord> records)
        {
            int n = records.Count;
            await _release.Task;
            return (ulong)Interlocked.Add(ref _appended, n);
        }

        public AuditPage ReadAudit(ulong afterId, int limit, AuditFilter filter, int maxScanned = 10_000) => new([], afterId, false);
    }

    [Fact]
    public async Task Disposing_the_trail_writes_every_queued_event()
    {
        string directory = Path.Combine(Path.GetTempPath(), "wren-audit-store-" + Guid.NewGuid().ToString("N"));
        try
        {
            const int count = 5000;
            await using (var store = WrenStore.Open(new StoreOptions { DataDirectory = directory }))
            {
                var trail = new AuditTrail(store, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
                for (int i = 0; i < count; i++)
                {
                    trail.Record(new AuditEvent(AuditAction.LoginFailed, 0, 0, (ulong)i + 1, 0, "attempt " + i, "10.0.0.1:1"));
                }

                await trail.DisposeAsync();
                Assert.Equal(count, trail.Written);
                Assert.Equal(0, trail.Dropped + trail.Failed);
            }

            await using (var store = WrenStore.Open(new StoreOptions { DataDirectory = directory }))
            {
                var records = new List<AuditRecord>();
                ulong after = 0;
                AuditPage page;
                do
                {
                    page = store.ReadAudit(after, 1000, default);
                    records.AddRange(page.Items);
                    after = page.LastScannedId;
                }
                while (page.More);

                Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), records.Select(r => r.SubjectUserId));
                Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), records.Select(r => r.Id));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
