using System.Buffers;
using BenchmarkDotNet.Attributes;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Benchmarks;

/// <summary>
/// Encoding Deliver frames into a reused output buffer: <see cref="DeliverEncoder.Write"/> (envelope + body bytes,
/// straight into the output) against the baseline <see cref="FrameWriter.Write{T}"/> with a <see cref="Deliver"/>
/// object (MessagePack serializer into a scratch buffer, then copied).
/// </summary>
/// <remarks>
/// Single: one frame per operation, the output reset before each. Batch64: <see cref="ProtocolCorpus.BatchSize"/>
/// consecutive entries coalesced into one output (reset once per invocation), reported per frame. Each category has
/// its own baseline. The output buffers are grown in setup, so steady state writes into existing capacity.
/// Target: 0 bytes allocated per frame for <see cref="DeliverEncoder"/>.
/// </remarks>
[Config(typeof(ProtocolBenchmarkConfig))]
[MemoryDiagnoser]
public class ProtocolDeliverEncodeBenchmarks
{
    private const string Single = "Single";
    private const string Batch = "Batch64";

    private readonly ArrayBufferWriter<byte> _output = new();
    private readonly DeliverEnvelope[] _envelopes = new DeliverEnvelope[ProtocolCorpus.BatchSize];
    private readonly Deliver[] _delivers = new Deliver[ProtocolCorpus.BatchSize];
    private byte[] _body = [];

    /// <summary>Message body size.</summary>
    [Params(ProtocolPayload.SmallText, ProtocolPayload.Typical, ProtocolPayload.Large)]
    public ProtocolPayload Payload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _body = ProtocolCorpus.Body(Payload);
        for (int i = 0; i < ProtocolCorpus.BatchSize; i++)
        {
            _envelopes[i] = ProtocolCorpus.Envelope(i);
            _delivers[i] = ProtocolCorpus.Deliver(i, _body);
        }

        // Grow the output (and FrameWriter's per-thread scratch) to steady-state size, and check both encoders agree.
        int viaWriter = FrameWriter_Deliver64();
        byte[] expected = _output.WrittenSpan.ToArray();
        int viaEncoder = DeliverEncoder_Deliver64();
        if (viaWriter != viaEncoder || !_output.WrittenSpan.SequenceEqual(expected))
        {
            throw new InvalidOperationException("DeliverEncoder and FrameWriter produce different bytes.");
        }
    }

    [BenchmarkCategory(Single)]
    [Benchmark(Baseline = true)]
    public int FrameWriter_Deliver()
    {
        _output.ResetWrittenCount();
        FrameWriter.Write(_output, 0, _delivers[0]);
        return _output.WrittenCount;
    }

    [BenchmarkCategory(Single)]
    [Benchmark]
    public int DeliverEncoder_Deliver()
    {
        _output.ResetWrittenCount();
        DeliverEncoder.Write(_output, 0, _envelopes[0], _body);
        return _output.WrittenCount;
    }

    [BenchmarkCategory(Batch)]
    [Benchmark(Baseline = true, OperationsPerInvoke = ProtocolCorpus.BatchSize)]
    public int FrameWriter_Deliver64()
    {
        _output.ResetWrittenCount();
        var delivers = _delivers;
        for (int i = 0; i < delivers.Length; i++)
        {
            FrameWriter.Write(_output, 0, delivers[i]);
        }

        return _output.WrittenCount;
    }

    [BenchmarkCategory(Batch)]
    [Benchmark(OperationsPerInvoke = ProtocolCorpus.BatchSize)]
    public int DeliverEncoder_Deliver64()
    {
        _output.ResetWrittenCount();
        var envelopes = _envelopes;
        for (int i = 0; i < envelopes.Length; i++)
        {
            DeliverEncoder.Write(_output, 0, envelopes[i], _body);
        }

        return _output.WrittenCount;
    }
}
