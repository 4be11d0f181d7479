using MessagePack;

namespace Wren.Protocol.Messages;

/// <summary>
/// Client → server (administrators only): a page of the audit log, ascending by id, optionally filtered. Answered with
/// AdminAuditPage.
/// </summary>
[MessagePackObject]
public sealed class AdminAuditQuery : IMessage
{
    /// <summary>Most events in one page (each event is at most about 2 KiB, so a full page fits a 1 MiB frame).</summary>
    public const int MaxPage = 256;

    /// <summary>Longest detail or address text in an event, in UTF-8 bytes.</summary>
    public const int MaxTextBytes = 1024;

    /// <summary>Return events with ids above this one; 0 = from the start.</summary>
    [Key(0)] public ulong AfterId { get; set; }

    /// <summary>Most events to return; 0 = 100; at most <see cref="MaxPage"/>.</summary>
    [Key(1)] public uint Limit { get; set; }

    /// <summary>Keep events whose actor or subject is this user (login name); empty = any user.</summary>
    [Key(2)] public string UserName { get; set; } = "";

    /// <summary>Keep events of this action (its name, e.g. <c>LoginFailed</c>, case-insensitive); empty = any action.</summary>
    [Key(3)] public string Action { get; set; } = "";

    /// <summary>Keep events at or after this time, Unix milliseconds; 0 = any time.</summary>
    [Key(4)] public long SinceMs { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminAuditQuery;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (Limit > MaxPage) return FieldViolation.TooLarge("limit");
        if (!Fields.Text(UserName, limits.MaxNameBytes)) return FieldViolation.Invalid("user_name");
        if (!Fields.Text(Action, limits.MaxNameBytes)) return FieldViolation.Invalid("action");
        if (SinceMs < 0) return FieldViolation.Invalid("since_ms");
        return FieldViolation.None;
    }
}

/// <summary>One audit event as administrators see it.</summary>
[MessagePackObject]
public sealed class AdminAuditEvent : IValidated
{
    /// <summary>Position in the audit log (strictly increasing).</summary>
    [Key(0)] public ulong Id { get; set; }

    /// <summary>When it happened, Unix milliseconds.</summary>
    [Key(1)] public long TimeMs { get; set; }

    /// <summary>The action's number.</summary>
    [Key(2)] public ushort Action { get; set; }

    /// <summary>The action's name (e.g. <c>LoginFailed</c>); empty when this broker does not know the number.</summary>
    [Key(3)] public string ActionName { get; set; } = "";

    /// <summary>Who did it (0 = anonymous or the server).</summary>
    [Key(4)] public ulong ActorUserId { get; set; }

    /// <summary>The actor's device (0 when unknown).</summary>
    [Key(5)] public uint ActorDeviceId { get; set; }

    /// <summary>Whom it concerns (0 when nobody in particular).</summary>
    [Key(6)] public ulong SubjectUserId { get; set; }

    /// <summary>The conversation it concerns (0 when none).</summary>
    [Key(7)] public ulong ConversationId { get; set; }

    /// <summary>Short free text (never a secret).</summary>
    [Key(8)] public string Detail { get; set; } = "";

    /// <summary>The actor's address, or empty.</summary>
    [Key(9)] public string RemoteAddress { get; set; } = "";

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.Text(ActionName, limits.MaxNameBytes)) return FieldViolation.Invalid("action_name");
        if (!Fields.Text(Detail, AdminAuditQuery.MaxTextBytes)) return FieldViolation.Invalid("detail");
        if (!Fields.Text(RemoteAddress, AdminAuditQuery.MaxTextBytes)) return FieldViolation.Invalid("remote_address");
        return FieldViolation.None;
    }
}

/// <summary>Server → client: a page of the audit log.</summary>
[MessagePackObject]
public sealed class AdminAuditPage : IMessage
{
    /// <summary>The matching events, ascending by id.</summary>
    [Key(0)] public AdminAuditEvent[] Items { get; set; } = [];

    /// <summary>The last id the broker examined; pass it as the next query's <c>after_id</c> (filtered events are skipped).</summary>
    [Key(1)] public ulong LastId { get; set; }

    /// <summary>True when events after <see cref="LastId"/> exist.</summary>
    [Key(2)] public bool More { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminAuditPage;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.List(Items, AdminAuditQuery.MaxPage)) return FieldViolation.TooLarge("items");
        return Fields.AllValid(Items, limits) ? FieldViolation.None : FieldViolation.Invalid("items");
    }
}

/// <summary>
/// Client → server (administrators only): read the configured TLS certificate file again. New connections use it, live
/// ones keep theirs; an unusable file keeps the current certificate and is answered with an error. Answered with
/// AdminCertificate. The body is an empty array.
/// </summary>
[MessagePackObject]
public sealed class AdminTlsReload : IMessage
{
    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminTlsReload;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
}

/// <summary>Server → client: the TLS certificate in force.</summary>
[MessagePackObject]
public sealed class AdminCertificate : IMessage
{
    /// <summary>The certificate's subject.</summary>
    [Key(0)] public string Subject { get; set; } = "";

    /// <summary>SHA-256 fingerprint, uppercase hex pairs separated by colons (as clients pin it).</summary>
    [Key(1)] public string Fingerprint { get; set; } = "";

    /// <summary>Expiry, Unix milliseconds.</summary>
    [Key(2)] public long NotAfterMs { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminCertificate;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.Text(Subject, AdminAuditQuery.MaxTextBytes) && Fields.Text(Fingerprint, limits.MaxNameBytes) ? FieldViolation.None : FieldViolation.Invalid("subject");
}

/// <summary>
/// Client → server (administrators only): generate a new at-rest data key, persist the key ring and make the key
/// current for new writes (older entries stay readable with their key). Answered with AdminKeyRing. The body is an
/// empty array.
/// </summary>
[MessagePackObject]
public sealed class AdminRotateKey : IMessage
{
    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminRotateKey;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
}

/// <summary>Client → server (administrators only): the at-rest key ring. Answered with AdminKeyRing. The body is an empty array.</summary>
[MessagePackObject]
public sealed class AdminKeyStatus : IMessage
{
    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminKeyStatus;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
}

/// <summary>Server → client: the at-rest key ring (ids only, never key material).</summary>
[MessagePackObject]
public sealed class AdminKeyRing : IMessage
{
    /// <summary>The key id that seals new message bodies; 0 when bodies are written in plaintext.</summary>
    [Key(0)] public uint ActiveKeyId { get; set; }

    /// <summary>Every key id the broker can read, ascending.</summary>
    [Key(1)] public uint[] KeyIds { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminKeyRing;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.List(KeyIds, 256) && ActiveKeyId <= 255 ? FieldViolation.None : FieldViolation.Invalid("key_ids");
}
