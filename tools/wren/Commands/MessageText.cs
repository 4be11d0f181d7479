using System.Text;
using Wren.Protocol.Messages;

namespace Wren.Cli.Commands;

/// <summary>Message bodies as text: the CLI sends UTF-8 and shows anything else as a size.</summary>
internal static class MessageText
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] Encode(string text) => Strict.GetBytes(text);

    /// <summary>The body as text, or a placeholder for non-UTF-8 bodies and non-message entries.</summary>
    public static string Decode(Deliver entry)
    {
        if (entry.Kind != EntryKind.Message)
        {
            return $"[{entry.Kind.ToString().ToLowerInvariant()}]";
        }

        try
        {
            return Strict.GetString(entry.Body);
        }
        catch (DecoderFallbackException)
        {
            return $"[{entry.Body.Length} bytes, not UTF-8 text]";
        }
    }
}

/// <summary>One log entry as <c>wren tail --json</c> prints it.</summary>
internal sealed record MessageView(ulong Conversation, ulong Seq, uint Epoch, ulong SenderId, string Sender, uint SenderDevice, string? Time, string ClientMsgId, string Text)
{
    public static MessageView From(Deliver entry, IReadOnlyDictionary<ulong, string> names) => new(
        entry.ConversationId,
        entry.Seq,
        entry.Epoch,
        entry.SenderUserId,
        names.TryGetValue(entry.SenderUserId, out var name) ? name : "#" + entry.SenderUserId,
        entry.SenderDeviceId,
        Users.IsoTime(entry.ServerTimeMs),
        entry.ClientMsgId,
        MessageText.Decode(entry));
}
