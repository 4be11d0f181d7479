namespace Wren.Protocol;

/// <summary>
/// The size limits every frame and message is checked against. Each default says why it has that value.
/// </summary>
/// <remarks>
/// Limits are checked before anything is allocated: a frame's declared length before its body is read,
/// a body's structure before it is deserialized. Crossing a limit yields a documented error code
/// (see docs/protocol.md, "Limits").
/// </remarks>
public sealed record ProtocolLimits
{
    /// <summary>The defaults the server advertises in Welcome.</summary>
    public static ProtocolLimits Default { get; } = new();

    /// <summary>
    /// Largest value of a frame's length field (type + flags + request id + body).
    /// Default 1 MiB: matches nats-server's max_payload; large files travel in chunks, not in one frame.
    /// </summary>
    public int MaxFrameLength { get; init; } = 1024 * 1024;

    /// <summary>
    /// Largest message body (the opaque content of Send). Default 64 KiB: a long text message with
    /// rich-text markup fits; media goes through file upload.
    /// </summary>
    public int MaxMessageBodyBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// Deepest MessagePack nesting accepted in a body. Default 16: the deepest v1 message nests 4 levels
    /// (HistoryPage → messages → message → body); the margin leaves room for future fields.
    /// </summary>
    public int MaxBodyDepth { get; init; } = 16;

    /// <summary>
    /// Most elements (array items plus map entries, summed over the whole body). Default 65,536:
    /// more than any v1 message needs (a full sync page) and small enough to bound decoding work.
    /// </summary>
    public int MaxBodyElements { get; init; } = 65_536;

    /// <summary>Longest client message id in UTF-8 bytes. Default 64: a UUID in any textual form fits.</summary>
    public int MaxClientMessageIdBytes { get; init; } = 64;

    /// <summary>Longest short text field (names, titles, versions, capability names) in UTF-8 bytes. Default 256.</summary>
    public int MaxNameBytes { get; init; } = 256;

    /// <summary>Longest credential field (token, password, OIDC JWT) in UTF-8 bytes. Default 8 KiB: fits real-world JWTs.</summary>
    public int MaxCredentialBytes { get; init; } = 8 * 1024;

    /// <summary>Most ids in one list field (members to add, users to resolve, acks in one frame). Default 1,000.</summary>
    public int MaxListItems { get; init; } = 1000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first limit outside its supported range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrameLength, 1024, nameof(MaxFrameLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBodyBytes, 0, nameof(MaxMessageBodyBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxMessageBodyBytes, MaxFrameLength - 1024, nameof(MaxMessageBodyBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBodyDepth, 4, nameof(MaxBodyDepth));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBodyDepth, MessagePackStructure.MaxSupportedDepth, nameof(MaxBodyDepth));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBodyElements, 16, nameof(MaxBodyElements));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxClientMessageIdBytes, 1, nameof(MaxClientMessageIdBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxNameBytes, 1, nameof(MaxNameBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxCredentialBytes, 1, nameof(MaxCredentialBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxListItems, 1, nameof(MaxListItems));
    }

    /// <summary>Lowest protocol version the server speaks.</summary>
    public const ushort MinVersion = 1;

    /// <summary>Highest protocol version the server speaks.</summary>
    public const ushort MaxVersion = 1;
}
