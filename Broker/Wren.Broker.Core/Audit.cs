namespace Wren.Broker.Core;

/// <summary>A security-relevant action recorded in the audit log.</summary>
public enum AuditAction : ushort
{
    /// <summary>A session authenticated.</summary>
    LoginSucceeded = 1,
    /// <summary>An authentication attempt failed.</summary>
    LoginFailed = 2,
    /// <summary>A login was refused by throttling.</summary>
    LoginThrottled = 3,
    /// <summary>A device token was issued.</summary>
    TokenIssued = 10,
    /// <summary>A device token was refreshed (the old one is revoked).</summary>
    TokenRefreshed = 11,
    /// <summary>A device token was revoked (logout or administrator).</summary>
    TokenRevoked = 12,
    /// <summary>A user was created.</summary>
    UserCreated = 20,
    /// <summary>A user was disabled.</summary>
    UserDisabled = 21,
    /// <summary>A user was enabled again.</summary>
    UserEnabled = 22,
    /// <summary>A password was set or changed.</summary>
    PasswordChanged = 23,
    /// <summary>TOTP MFA was enabled.</summary>
    MfaEnabled = 24,
    /// <summary>TOTP MFA was disabled.</summary>
    MfaDisabled = 25,
    /// <summary>A member's role in a group changed.</summary>
    RoleChanged = 30,
    /// <summary>Members were added to a group.</summary>
    MembersAdded = 31,
    /// <summary>Members were removed from a group.</summary>
    MembersRemoved = 32,
    /// <summary>A group's settings changed.</summary>
    GroupSettingsChanged = 33,
    /// <summary>A message was recalled.</summary>
    MessageRecalled = 40,
    /// <summary>A message was deleted by a moderator.</summary>
    MessageDeleted = 41,
    /// <summary>Another administrator action (inspect log, checkpoint, …).</summary>
    AdminAction = 50,
    /// <summary>The at-rest encryption key was rotated.</summary>
    KeyRotated = 51,
    /// <summary>The TLS certificate was reloaded.</summary>
    TlsReloaded = 52,
}

/// <summary>One audit record.</summary>
/// <param name="Action">What happened.</param>
/// <param name="ActorUserId">Who did it (0 = anonymous or the server).</param>
/// <param name="ActorDeviceId">The actor's device (0 when unknown).</param>
/// <param name="SubjectUserId">Whom it concerns (0 when nobody in particular).</param>
/// <param name="ConversationId">The conversation it concerns (0 when none).</param>
/// <param name="Detail">Short free text (never a secret).</param>
/// <param name="RemoteAddress">The actor's address, when known.</param>
public readonly record struct AuditEvent(
    AuditAction Action,
    ulong ActorUserId,
    uint ActorDeviceId,
    ulong SubjectUserId,
    ulong ConversationId,
    string? Detail,
    string? RemoteAddress);

/// <summary>Records security-relevant events in the durable, append-only audit log.</summary>
public sealed class AuditTrail
{
    private long _recorded;

    /// <summary>Events recorded since start.</summary>
    public long Recorded => Interlocked.Read(ref _recorded);

    /// <summary>Records one event. Never throws and never blocks the caller on I/O.</summary>
    public void Record(in AuditEvent auditEvent)
    {
        // The durable implementation is built in the audit-log work; callers already report every event here.
        _ = auditEvent;
        Interlocked.Increment(ref _recorded);
    }
}
