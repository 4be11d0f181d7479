using Wren.Storage;

namespace Wren.Broker.Core;

/// <summary>An operation on a conversation, as the permission table names it.</summary>
public enum Operation
{
    /// <summary>Append a message (Send).</summary>
    Send,
    /// <summary>Read entries: History, SyncConversation, the conversation's part of SyncAll, Ack.</summary>
    Read,
    /// <summary>List the members.</summary>
    ListMembers,
    /// <summary>Move the caller's read cursor.</summary>
    MarkRead,
    /// <summary>Tell the others that the caller is typing.</summary>
    Typing,
    /// <summary>Add members to a group.</summary>
    AddMembers,
    /// <summary>Remove other members from a group.</summary>
    RemoveMembers,
    /// <summary>Leave a group (LeaveGroup, or RemoveMembers naming only the caller).</summary>
    Leave,
    /// <summary>Change a member's role.</summary>
    SetRole,
    /// <summary>Change the group's title or read-only mode.</summary>
    UpdateGroup,
    /// <summary>Read the group's settings.</summary>
    GetGroupSettings,
    /// <summary>Recall one's own message (within the recall window unless admin or owner).</summary>
    RecallOwn,
    /// <summary>Recall someone else's message.</summary>
    RecallOthers,
    /// <summary>Edit one's own message.</summary>
    EditOwn,
    /// <summary>Delete a message as a moderator.</summary>
    Delete,
    /// <summary>Hide messages from one's own view (DeleteForMe, ListHidden).</summary>
    DeleteForMe,
}

/// <summary>What the permission check decided.</summary>
public enum Decision
{
    /// <summary>The operation may proceed.</summary>
    Allowed,
    /// <summary>The caller cannot see the conversation: answered exactly like a conversation that does not exist.</summary>
    NotFound,
    /// <summary>The caller sees the conversation but may not do this.</summary>
    Forbidden,
}

/// <summary>A decision and, for Forbidden, the reason sent to the client.</summary>
/// <param name="Decision">The decision.</param>
/// <param name="Reason">Why it was refused (null when allowed or not found).</param>
public readonly record struct Verdict(Decision Decision, string? Reason)
{
    /// <summary>Allowed.</summary>
    public static Verdict Allow => new(Decision.Allowed, null);

    /// <summary>Not found (the caller cannot see the conversation).</summary>
    public static Verdict Hidden => new(Decision.NotFound, null);

    /// <summary>True when allowed.</summary>
    public bool IsAllowed => Decision == Decision.Allowed;

    /// <summary>Forbidden with a reason.</summary>
    public static Verdict Deny(string reason) => new(Decision.Forbidden, reason);
}

/// <summary>
/// The one place that decides who may do what in a conversation. docs/security.md ("Permissions") shows the same
/// table; every conversation operation of <see cref="Session"/> asks here before acting.
/// </summary>
/// <remarks>
/// Group roles only: a server administrator (UserRecord.IsAdmin) is an ordinary user here and acts on conversations
/// they are not a member of only through the administration requests. A caller who is not a member (never was, was
/// removed, or names a conversation that does not exist) always gets <see cref="Decision.NotFound"/>, so conversation
/// ids do not leak existence.
/// </remarks>
public static class Permissions
{
    private enum Access : byte
    {
        Deny,
        Allow,

        /// <summary>Allowed unless the group is in read-only mode.</summary>
        UnlessReadOnly,
    }

    private readonly record struct Rule(Access Muted, Access Member, Access Admin, Access Owner, bool GroupOnly, string Denied);

    private const string MutedMayNotSend = "muted members may not send";

    private static readonly Dictionary<Operation, Rule> s_table = new()
    {
        //                                      muted                member                 admin         owner         groups only
        [Operation.Send] = new(Access.Deny, Access.UnlessReadOnly, Access.Allow, Access.Allow, false, MutedMayNotSend),
        [Operation.EditOwn] = new(Access.Deny, Access.UnlessReadOnly, Access.Allow, Access.Allow, false, MutedMayNotSend),
        [Operation.Typing] = new(Access.Deny, Access.UnlessReadOnly, Access.Allow, Access.Allow, false, MutedMayNotSend),
        [Operation.Read] = new(Access.Allow, Access.Allow, Access.Allow, Access.Allow, false, ""),
        [Operation.ListMembers] = new(Access.Allow, Access.Allow, Access.Allow, Access.Allow, false, ""),
        [Operation.MarkRead] = new(Access.Allow, Access.Allow, Access.Allow, Access.Allow, false, ""),
        [Operation.DeleteForMe] = new(Access.Allow, Access.Allow, Access.Allow, Access.Allow, false, ""),
        [Operation.RecallOwn] = new(Access.Allow, Access.Allow, Access.Allow, Access.Allow, false, ""),
        [Operation.GetGroupSettings] = new(Access.Allow, Access.Allow, Access.Allow, Access.Allow, true, "direct conversations have no settings"),
        [Operation.Leave] = new(Access.Allow, Access.Allow, Access.Allow, Access.Allow, true, "direct conversations have fixed members"),
        [Operation.RecallOthers] = new(Access.Deny, Access.Deny, Access.Allow, Access.Allow, true, "only admins and owners recall others' messages"),
        [Operation.Delete] = new(Access.Deny, Access.Deny, Access.Allow, Access.Allow, true, "only admins and owners delete messages"),
        [Operation.AddMembers] = new(Access.Deny, Access.Deny, Access.Allow, Access.Allow, true, "only admins and owners of a group manage members"),
        [Operation.RemoveMembers] = new(Access.Deny, Access.Deny, Access.Allow, Access.Allow, true, "only admins and owners of a group manage members"),
        [Operation.SetRole] = new(Access.Deny, Access.Deny, Access.Allow, Access.Allow, true, "only admins and owners of a group change roles"),
        [Operation.UpdateGroup] = new(Access.Deny, Access.Deny, Access.Allow, Access.Allow, true, "only admins and owners change a group's settings"),
    };

    /// <summary>Decides whether a caller with <paramref name="role"/> (null: not a member) may perform <paramref name="operation"/>.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="role">The caller's role, or null when the caller is not a member (or the conversation does not exist).</param>
    /// <param name="kind">The conversation's kind.</param>
    /// <param name="readOnly">True when the group is in read-only mode.</param>
    public static Verdict Check(Operation operation, MemberRole? role, ConversationKind kind, bool readOnly)
    {
        if (role is not { } r)
        {
            return Verdict.Hidden;
        }

        var rule = s_table[operation];
        if (rule.GroupOnly && kind != ConversationKind.Group)
        {
            return Verdict.Deny(operation is Operation.RecallOthers or Operation.Delete
                ? "direct conversations have no moderators"
                : rule.Denied);
        }

        var access = r switch
        {
            MemberRole.Muted => rule.Muted,
            MemberRole.Member => rule.Member,
            MemberRole.Admin => rule.Admin,
            _ => rule.Owner,
        };
        return access switch
        {
            Access.Allow => Verdict.Allow,
            Access.UnlessReadOnly when !readOnly => Verdict.Allow,
            Access.UnlessReadOnly => Verdict.Deny("the group is read-only: only admins and owners send"),
            _ => Verdict.Deny(rule.Denied),
        };
    }

    /// <summary>True when the recall window limits this role's recalls of its own messages (members and muted members).</summary>
    public static bool RecallWindowApplies(MemberRole role) => role < MemberRole.Admin;

    /// <summary>
    /// Decides a role change once <see cref="Operation.SetRole"/> is allowed: nobody raises their own role; admins
    /// change only members and muted members (and may step down themselves) and never grant owner; owners change
    /// anyone; the last owner is never demoted.
    /// </summary>
    /// <param name="callerId">The caller.</param>
    /// <param name="callerRole">The caller's role (admin or owner).</param>
    /// <param name="targetId">The member whose role changes.</param>
    /// <param name="targetRole">That member's current role.</param>
    /// <param name="newRole">The requested role.</param>
    /// <param name="owners">Number of owners of the group now.</param>
    public static Verdict CheckSetRole(ulong callerId, MemberRole callerRole, ulong targetId, MemberRole targetRole, MemberRole newRole, int owners)
    {
        bool self = callerId == targetId;
        if (self && Rank(newRole) > Rank(callerRole))
        {
            return Verdict.Deny("nobody raises their own role");
        }

        if (callerRole == MemberRole.Admin)
        {
            if (newRole == MemberRole.Owner)
            {
                return Verdict.Deny("only owners make owners");
            }

            if (!self && targetRole >= MemberRole.Admin)
            {
                return Verdict.Deny("admins change the roles of members and muted members only");
            }
        }

        if (targetRole == MemberRole.Owner && newRole != MemberRole.Owner && owners <= 1)
        {
            return Verdict.Deny("the group's last owner cannot be demoted; make another member owner first");
        }

        return Verdict.Allow;
    }

    /// <summary>
    /// Decides a server administrator's role change (AdminSetRole): any role for any existing member of a group, except
    /// demoting its last owner.
    /// </summary>
    public static Verdict CheckAdminSetRole(MemberRole targetRole, MemberRole newRole, int owners) =>
        targetRole == MemberRole.Owner && newRole != MemberRole.Owner && owners <= 1
            ? Verdict.Deny("the group's last owner cannot be demoted; make another member owner first")
            : Verdict.Allow;

    /// <summary>
    /// Decides removing another member once <see cref="Operation.RemoveMembers"/> is allowed: only members of a lower
    /// role than the caller's (admins remove members and muted members; owners also remove admins).
    /// </summary>
    public static Verdict CheckRemove(MemberRole callerRole, MemberRole targetRole) =>
        Rank(targetRole) < Rank(callerRole) ? Verdict.Allow : Verdict.Deny("cannot remove a member of equal or higher role");

    /// <summary>Decides leaving once <see cref="Operation.Leave"/> is allowed: the last owner stays.</summary>
    public static Verdict CheckLeave(MemberRole role, int owners) =>
        role == MemberRole.Owner && owners <= 1
            ? Verdict.Deny("the group's last owner cannot leave; make another member owner first")
            : Verdict.Allow;

    /// <summary>Rank for comparisons: muted below member below admin below owner.</summary>
    private static int Rank(MemberRole role) => role switch
    {
        MemberRole.Muted => 0,
        MemberRole.Member => 1,
        MemberRole.Admin => 2,
        _ => 3,
    };
}
