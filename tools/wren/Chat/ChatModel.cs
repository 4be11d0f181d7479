using Wren.Protocol.Messages;

namespace Wren.Cli.Chat;

/// <summary>A conversation as the chat lists it.</summary>
/// <param name="Id">Conversation id.</param>
/// <param name="Label">A group's title, or "@peer" for a direct conversation.</param>
/// <param name="Kind">Direct or group.</param>
/// <param name="Members">Member count.</param>
/// <param name="Head">Last seq.</param>
/// <param name="ReadSeq">The user's read cursor.</param>
internal sealed record ChatConversation(ulong Id, string Label, ConversationKind Kind, uint Members, ulong Head, ulong ReadSeq)
{
    public ulong Unread => Head > ReadSeq ? Head - ReadSeq : 0;
}

/// <summary>A message as the chat shows it.</summary>
internal sealed record ChatMessage(ulong ConversationId, ulong Seq, ulong SenderId, string Sender, bool Mine, long TimeMs, string Text);

/// <summary>Something the chat shows as it happens.</summary>
internal abstract record ChatEvent;

/// <summary>A new message in the open conversation.</summary>
internal sealed record MessageArrived(ChatMessage Message) : ChatEvent;

/// <summary>Another member read the open conversation up to a seq.</summary>
internal sealed record ReadUpTo(ulong ConversationId, string Reader, ulong Seq) : ChatEvent;

/// <summary>Another member started or stopped typing in the open conversation.</summary>
internal sealed record TypingChanged(ulong ConversationId, string User, bool Active) : ChatEvent;

/// <summary>A message arrived in a conversation that is not open (shown once until that conversation is opened).</summary>
internal sealed record ActivityElsewhere(ulong ConversationId, string Label, string Sender) : ChatEvent;

/// <summary>A user sharing a conversation came online or went offline.</summary>
internal sealed record PresenceChanged(string User, bool Online) : ChatEvent;

/// <summary>The session ended (credentials refused after a reconnect, user disabled).</summary>
internal sealed record SessionEnded(string Reason) : ChatEvent;
