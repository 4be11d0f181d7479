using System.Buffers;

namespace Wren.Protocol;

/// <summary>Flag bits of a frame header. Version 1 defines none; every bit is reserved and must be zero.</summary>
[Flags]
public enum FrameFlags : byte
{
    /// <summary>No flag set.</summary>
    None = 0,
}

/// <summary>The fixed part of a frame: <c>u32 length | u8 type | u8 flags | u32 request id</c>, all big-endian.</summary>
/// <param name="Length">Bytes after the length field: 6 + body length.</param>
/// <param name="Type">The type byte, possibly one this version does not know.</param>
/// <param name="Flags">Flag bits; zero in version 1.</param>
/// <param name="RequestId">Correlates a response with its request; 0 on pushes and fire-and-forget frames.</param>
public readonly record struct FrameHeader(uint Length, byte Type, FrameFlags Flags, uint RequestId)
{
    /// <summary>Size of the length field.</summary>
    public const int LengthFieldSize = 4;

    /// <summary>Size of the whole header: length, type, flags, request id.</summary>
    public const int Size = 10;

    /// <summary>Smallest valid value of the length field: type + flags + request id with an empty body.</summary>
    public const uint MinLength = Size - LengthFieldSize;

    /// <summary>Body length in bytes.</summary>
    public int BodyLength => (int)(Length - MinLength);

    /// <summary>The type as the enum (may be a value the enum does not name).</summary>
    public MessageType MessageType => (MessageType)Type;
}

/// <summary>A complete frame: its header and a slice of the input holding its body.</summary>
/// <remarks>The body aliases the reader's buffer and is valid only until the buffer is advanced past it.</remarks>
public readonly struct Frame(FrameHeader header, ReadOnlySequence<byte> body)
{
    /// <summary>The frame header.</summary>
    public FrameHeader Header { get; } = header;

    /// <summary>The body bytes (possibly empty).</summary>
    public ReadOnlySequence<byte> Body { get; } = body;
}

/// <summary>Outcome of <see cref="FrameReader.TryRead"/>.</summary>
public enum FrameStatus : byte
{
    /// <summary>A whole frame was read and the reader advanced past it.</summary>
    Complete,
    /// <summary>The input ends inside a frame; the reader did not move. Read more and call again.</summary>
    NeedMoreData,
    /// <summary>The input can never become a valid frame; the connection must be closed with the error.</summary>
    Invalid,
}
