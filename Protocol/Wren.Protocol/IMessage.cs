using System.Text;

namespace Wren.Protocol;

/// <summary>A contract (a message, or an item nested in one) whose fields are checked against the limits after decoding.</summary>
public interface IValidated
{
    /// <summary>
    /// Checks every field against <paramref name="limits"/>. Returns <see cref="FieldViolation.None"/> when all hold,
    /// otherwise the error code and the name of the first field that does not.
    /// </summary>
    FieldViolation Validate(ProtocolLimits limits);
}

/// <summary>A message contract: the decoded body of one frame type.</summary>
public interface IMessage : IValidated
{
    /// <summary>The frame type that carries this message.</summary>
    MessageType Type { get; }
}

/// <summary>A field that breaks a limit: the error to report and the field's name (safe to send to the client).</summary>
public readonly record struct FieldViolation(ErrorCode Code, string? Field)
{
    /// <summary>No violation.</summary>
    public static FieldViolation None => default;

    /// <summary>True when there is no violation.</summary>
    public bool IsNone => Code == ErrorCode.None;

    internal static FieldViolation Invalid(string field) => new(ErrorCode.InvalidArgument, field);

    internal static FieldViolation TooLarge(string field) => new(ErrorCode.LimitExceeded, field);
}

/// <summary>Field checks shared by the message contracts.</summary>
internal static class Fields
{
    /// <summary>True when the text is present (or optional and absent) and at most <paramref name="maxBytes"/> UTF-8 bytes.</summary>
    public static bool Text(string? value, int maxBytes, bool required = true)
    {
        if (value is null)
        {
            return !required;
        }

        // A char encodes to at most 3 UTF-8 bytes; skip the count when even that fits.
        return value.Length * 3 <= maxBytes || Encoding.UTF8.GetByteCount(value) <= maxBytes;
    }

    /// <summary>True when the list is present and holds at most <paramref name="maxItems"/> items.</summary>
    public static bool List<T>(T[]? items, int maxItems) => items is not null && items.Length <= maxItems;

    /// <summary>True when the list is present and every item is present and passes its own validation.</summary>
    public static bool AllValid<T>(T[]? items, ProtocolLimits limits)
        where T : IValidated
    {
        if (items is null)
        {
            return false;
        }

        foreach (var item in items)
        {
            if (item is null || !item.Validate(limits).IsNone)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when every text of the list passes <see cref="Text"/>.</summary>
    public static bool TextList(string[]? items, int maxItems, int maxBytes)
    {
        if (!List(items, maxItems))
        {
            return false;
        }

        foreach (var item in items!)
        {
            if (!Text(item, maxBytes))
            {
                return false;
            }
        }

        return true;
    }
}
