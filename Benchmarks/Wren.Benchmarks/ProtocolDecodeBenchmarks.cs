using System.Buffers;
using BenchmarkDotNet.Attributes;
using MessagePack;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Benchmarks;

/// <summary>
/// <see cref="MessageCodec.TryDecode(in Frame, ProtocolLimits, out IMessage?)"/> of a Send frame: structure check,
/// MessagePack deserialization under the untrusted-data options, and field validation. The baseline is the bare
/// <see cref="MessagePackSerializer.Deserialize{T}(in ReadOnlySequence{byte}, MessagePackSerializerOptions, CancellationToken)"/>
/// of the same body, so the ratio is the cost of the safety checks.
/// </summary>
/// <remarks>Both allocate the decoded message (object, client message id string, body array); that is expected.</remarks>
[Config(typeof(ProtocolBenchmarkConfig))]
[MemoryDiagnoser]
public class ProtocolDecodeBenchmarks
{
    private readonly ProtocolLimits _limits = ProtocolLimits.Default;
    private MessagePackSerializerOptions _options = MessageCodec.WriteOptions;
    private Frame _frame;

    /// <summary>Message body size.</summary>
    [Params(ProtocolPayload.SmallText, ProtocolPayload.Typical, ProtocolPayload.Large)]
    public ProtocolPayload Payload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _frame = ProtocolDecodeInputs.ReadFrame(ProtocolCorpus.SendFrame(ProtocolCorpus.Body(Payload)));
        _options = MessageCodec.ReadOptions(_limits);
        if (!MessageCodec.TryDecode(_frame, _limits, out var message).IsSuccess || message is not Send)
        {
            throw new InvalidOperationException("Benchmark input is wrong: the Send frame does not decode.");
        }
    }

    [Benchmark(Baseline = true)]
    public Send Deserialize_Send() => MessagePackSerializer.Deserialize<Send>(_frame.Body, _options);

    [Benchmark]
    public IMessage? TryDecode_Send()
    {
        MessageCodec.TryDecode(_frame, _limits, out var message);
        return message;
    }
}

/// <summary>
/// Decoding a Ping (empty body, shared instance): <see cref="MessageCodec.TryDecode(in Frame, ProtocolLimits, out IMessage?)"/>
/// alone (baseline) and together with <see cref="FrameReader.TryRead"/> from bytes. Target: 0 bytes allocated.
/// </summary>
/// <remarks>The payload corpus does not apply: a Ping has no body.</remarks>
[Config(typeof(ProtocolBenchmarkConfig))]
[MemoryDiagnoser]
public class ProtocolDecodePingBenchmarks
{
    private readonly ProtocolLimits _limits = ProtocolLimits.Default;
    private ReadOnlySequence<byte> _bytes;
    private Frame _frame;

    [GlobalSetup]
    public void Setup()
    {
        byte[] ping = FrameWriter.ToArray(requestId: 9, EmptyMessage.Ping);
        _bytes = new ReadOnlySequence<byte>(ping);
        _frame = ProtocolDecodeInputs.ReadFrame(ping);
        if (!ReferenceEquals(TryDecode_Ping(), EmptyMessage.Ping) || !ReferenceEquals(ReadAndDecode_Ping(), EmptyMessage.Ping))
        {
            throw new InvalidOperationException("Benchmark input is wrong: the Ping frame does not decode.");
        }
    }

    [Benchmark(Baseline = true)]
    public IMessage? TryDecode_Ping()
    {
        MessageCodec.TryDecode(_frame, _limits, out var message);
        return message;
    }

    [Benchmark]
    public IMessage? ReadAndDecode_Ping()
    {
        var reader = new SequenceReader<byte>(_bytes);
        FrameReader.TryRead(ref reader, _limits.MaxFrameLength, out var frame, out _);
        MessageCodec.TryDecode(frame, _limits, out var message);
        return message;
    }
}

/// <summary>Shared setup for the decode benchmarks.</summary>
internal static class ProtocolDecodeInputs
{
    /// <summary>Reads the one frame in <paramref name="bytes"/>; its body aliases the array.</summary>
    public static Frame ReadFrame(byte[] bytes)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        if (FrameReader.TryRead(ref reader, ProtocolLimits.Default.MaxFrameLength, out var frame, out var error) != FrameStatus.Complete)
        {
            throw new InvalidOperationException($"Benchmark input is wrong: not a whole frame ({error}).");
        }

        return frame;
    }
}
