using System.Buffers;
using Wren.Protocol;
using Wren.Storage;

namespace Wren.Broker.Core;

/// <summary>
/// Encodes a run of stored entries as consecutive Deliver frames in one array, so that a catch-up queues one buffer per
/// storage read instead of one array per entry. The bytes are exactly those of <see cref="Frames.Deliver"/> for each
/// entry, back to back: the connection writes bytes, and the client sees the same frames either way.
/// </summary>
internal static class DeliverBatch
{
    /// <summary>
    /// Largest batch buffer in bytes (a single entry larger than this still gets its own buffer). 64 KiB: a few hundred
    /// typical messages, small enough that the outbound queue's limits still act in fine steps.
    /// </summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>
    /// Encodes entries from <paramref name="index"/> on, as many as fit in <paramref name="maxBytes"/> (at least one),
    /// and advances <paramref name="index"/> past them.
    /// </summary>
    /// <param name="requestId">The request id every frame carries (0 for pushes).</param>
    /// <param name="entries">The entries, in the order they are to be delivered.</param>
    /// <param name="index">The first entry to encode; on return, the first entry not encoded.</param>
    /// <param name="maxBytes">Size above which the batch ends (unless it would be empty).</param>
    /// <param name="transform">Applied to each entry before it is encoded (for example what this reader may see).</param>
    public static byte[] Encode(uint requestId, IReadOnlyList<LogEntry> entries, ref int index, int maxBytes = MaxBytes, Func<LogEntry, LogEntry>? transform = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, entries.Count);
        int start = index;
        int end = start;
        long total = 0;
        // Body sizes are computed once, for the buffer's size and again as each header's length field.
        Span<int> bodySizes = stackalloc int[Math.Min(entries.Count - start, 512)];
        var visible = transform is null ? null : new LogEntry[bodySizes.Length];
        while (end < entries.Count && end - start < bodySizes.Length)
        {
            var entry = entries[end];
            if (visible is not null)
            {
                entry = visible[end - start] = transform!(entry);
            }

            int bodySize = DeliverEncoder.BodySize(Envelope(entry), entry.Body.Length);
            if (end > start && total + FrameHeader.Size + bodySize > maxBytes)
            {
                break;
            }

            bodySizes[end - start] = bodySize;
            total += FrameHeader.Size + bodySize;
            end++;
        }

        // Not zeroed: the frames below fill it exactly (their sizes were computed above).
        var buffer = GC.AllocateUninitializedArray<byte>(checked((int)total));
        var writer = new SliceWriter(buffer);
        for (int i = start; i < end; i++)
        {
            var entry = visible is not null ? visible[i - start] : entries[i];
            int bodySize = bodySizes[i - start];
            writer.Limit(FrameHeader.Size + bodySize);
            FrameWriter.WriteHeader(writer, MessageType.Deliver, requestId, bodySize);
            DeliverEncoder.WriteBody(writer, Envelope(entry), entry.Body.Span);
        }

        index = end;
        return buffer;
    }

    private static DeliverEnvelope Envelope(LogEntry entry) => new(
        entry.ConversationId, entry.Seq, entry.Epoch, entry.SenderUserId, entry.SenderDeviceId,
        entry.ServerTimeMs, entry.ClientMsgId, (Protocol.Messages.EntryKind)entry.Kind);

    /// <summary>An <see cref="IBufferWriter{T}"/> over an array, handing out one frame's slice at a time.</summary>
    private sealed class SliceWriter(byte[] buffer) : IBufferWriter<byte>
    {
        private int _written;
        private int _end;

        /// <summary>Lets the next frame use the <paramref name="size"/> bytes after what is written.</summary>
        public void Limit(int size) => _end = _written + size;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => buffer.AsMemory(_written, _end - _written);

        public Span<byte> GetSpan(int sizeHint = 0) => buffer.AsSpan(_written, _end - _written);
    }
}
