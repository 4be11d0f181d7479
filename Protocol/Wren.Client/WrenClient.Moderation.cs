using System.Globalization;
using System.Security.Cryptography;
using Wren.Protocol.Messages;

namespace Wren.Client;

/// <summary>Group roles and settings, leaving, recall, edit, delete and delete-for-me.</summary>
/// <remarks>
/// Recall, Edit and Delete append an event entry that every device of every member receives like any message (live and
/// through sync); applying it to the target is the client's job. They are plain requests: after a lost connection
/// the caller retries with the same client message id, which the server answers with the original seq.
/// </remarks>
public sealed partial class WrenClient
{
    /// <summary>Sets a member's role in a group (group owners and admins, within the permission table).</summary>
    public Task SetRoleAsync(ulong conversationId, ulong userId, MemberRole role, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new SetRole { ConversationId = conversationId, UserId = userId, Role = role }, cancellationToken);

    /// <summary>Changes a group's title and/or read-only mode (null keeps a value); returns the settings after the change.</summary>
    public Task<GroupSettings> UpdateGroupAsync(ulong conversationId, string? title = null, bool? readOnly = null, CancellationToken cancellationToken = default) =>
        RequestAsync<GroupSettings>(new UpdateGroup { ConversationId = conversationId, Title = title, ReadOnly = readOnly }, cancellationToken);

    /// <summary>A group's settings.</summary>
    public Task<GroupSettings> GetGroupSettingsAsync(ulong conversationId, CancellationToken cancellationToken = default) =>
        RequestAsync<GroupSettings>(new GetGroupSettings { ConversationId = conversationId }, cancellationToken);

    /// <summary>Leaves a group (refused for its last owner).</summary>
    public Task LeaveGroupAsync(ulong conversationId, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new LeaveGroup { ConversationId = conversationId }, cancellationToken);

    /// <summary>Recalls a message: one's own within the server's recall window, anyone's as a group admin or owner.</summary>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="targetSeq">The message to recall.</param>
    /// <param name="clientMsgId">Idempotency key of the Recall event; a new GUID when null.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public Task<SendAck> RecallAsync(ulong conversationId, ulong targetSeq, string? clientMsgId = null, CancellationToken cancellationToken = default) =>
        RequestAsync<SendAck>(new Recall { ConversationId = conversationId, TargetSeq = targetSeq, ClientMsgId = clientMsgId ?? NewClientMsgId() }, cancellationToken);

    /// <summary>Replaces the content of one's own message.</summary>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="targetSeq">The message to edit.</param>
    /// <param name="body">The new opaque content.</param>
    /// <param name="clientMsgId">Idempotency key of the Edit event; a new GUID when null.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public Task<SendAck> EditAsync(ulong conversationId, ulong targetSeq, ReadOnlyMemory<byte> body, string? clientMsgId = null, CancellationToken cancellationToken = default) =>
        RequestAsync<SendAck>(new Edit { ConversationId = conversationId, TargetSeq = targetSeq, Body = body.ToArray(), ClientMsgId = clientMsgId ?? NewClientMsgId() }, cancellationToken);

    /// <summary>Deletes a message as a group admin or owner.</summary>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="targetSeq">The message to delete.</param>
    /// <param name="clientMsgId">Idempotency key of the Delete event; a new GUID when null.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public Task<SendAck> DeleteMessageAsync(ulong conversationId, ulong targetSeq, string? clientMsgId = null, CancellationToken cancellationToken = default) =>
        RequestAsync<SendAck>(new Delete { ConversationId = conversationId, TargetSeq = targetSeq, ClientMsgId = clientMsgId ?? NewClientMsgId() }, cancellationToken);

    /// <summary>Hides messages from this user's view on all of the user's devices (the others see HiddenList pushes).</summary>
    public Task DeleteForMeAsync(ulong conversationId, IEnumerable<ulong> seqs, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new DeleteForMe { ConversationId = conversationId, Seqs = [.. seqs] }, cancellationToken);

    /// <summary>A page of the seqs this user hid in a conversation.</summary>
    public Task<HiddenList> ListHiddenAsync(ulong conversationId, ulong afterSeq = 0, uint limit = 0, CancellationToken cancellationToken = default) =>
        RequestAsync<HiddenList>(new ListHidden { ConversationId = conversationId, AfterSeq = afterSeq, Limit = limit }, cancellationToken);

    /// <summary>
    /// A new client message id: a version 7 UUID in 32 hex digits, so one device's ids sort in the order it sent them.
    /// The server indexes every id for deduplication; ids in send order land next to the previous ones in its index
    /// instead of at a random place (W1: the broker's CPU for that index insert fell from about 10 % of its samples to a
    /// few; docs/benchmarks.md).
    /// </summary>
    /// <remarks>
    /// Layout (RFC 9562, version 7 with a dedicated counter): 48 bits of Unix milliseconds, the version, 12 counter
    /// bits, the variant, 30 more counter bits, and 32 random bits drawn once per process. The 42-bit counter starts at a
    /// random value and grows by one per id, so ids of one process never repeat and sort in creation order within a
    /// millisecond; another process differs in its random bits and counter. Nothing here reads the random source per id
    /// (<see cref="Guid.CreateVersion7()"/> does: 3.5 % of the benchmark generator's CPU in W1).
    /// </remarks>
    internal static string NewClientMsgId()
    {
        ulong counter = (ulong)Interlocked.Increment(ref s_idCounter) & IdCounterMask;
        ulong millis = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() & 0xFFFF_FFFF_FFFF;
        ulong high = (millis << 16) | 0x7000 | (counter >> 30);
        ulong low = 0x8000_0000_0000_0000 | ((counter & 0x3FFF_FFFF) << 32) | s_idRandom;
        return string.Create(32, (high, low), static (span, parts) =>
        {
            parts.high.TryFormat(span, out _, "x16", CultureInfo.InvariantCulture);
            parts.low.TryFormat(span[16..], out _, "x16", CultureInfo.InvariantCulture);
        });
    }

    private const ulong IdCounterMask = (1UL << 42) - 1;

    /// <summary>The per-process random bits of <see cref="NewClientMsgId"/>.</summary>
    private static readonly ulong s_idRandom = (ulong)(uint)RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);

    /// <summary>The counter of <see cref="NewClientMsgId"/>, from a random start.</summary>
    private static long s_idCounter = RandomNumberGenerator.GetInt32(int.MaxValue) * 1024L;
}
