using System.Buffers;
using BenchmarkDotNet.Attributes;
using Wren.Protocol;

namespace Wren.Benchmarks;

/// <summary>
/// <see cref="FrameReader.TryRead"/>: splitting bytes into frames (header checks and body slicing, no body decode).
/// </summary>
/// <remarks>
/// Single frames are a Send as a client writes it; batches are <see cref="ProtocolCorpus.BatchSize"/> Deliver frames
/// back to back, parsed in one invocation and reported per frame. The split variants cut the input inside the
/// header (after the type byte) so the header is copied into the stack scratch buffer; in the batch, every header is
/// split that way. Target: 0 bytes allocated in every case.
/// </remarks>
[Config(typeof(ProtocolBenchmarkConfig))]
[MemoryDiagnoser]
public class ProtocolFrameReadBenchmarks
{
    // Cut inside the header: the length field and type byte in one segment, flags and request id in the next.
    private const int HeaderCut = 5;

    private readonly int _maxFrameLength = ProtocolLimits.Default.MaxFrameLength;
    private ReadOnlySequence<byte> _send;
    private ReadOnlySequence<byte> _sendSplit;
    private ReadOnlySequence<byte> _batch;
    private ReadOnlySequence<byte> _batchSplit;

    /// <summary>Message body size.</summary>
    [Params(ProtocolPayload.SmallText, ProtocolPayload.Typical, ProtocolPayload.Large)]
    public ProtocolPayload Payload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        byte[] body = ProtocolCorpus.Body(Payload);
        byte[] send = ProtocolCorpus.SendFrame(body);
        _send = new ReadOnlySequence<byte>(send);
        _sendSplit = ProtocolCorpus.Split(send, HeaderCut);

        byte[] batch = ProtocolCorpus.DeliverBatch(body, out int[] starts);
        _batch = new ReadOnlySequence<byte>(batch);
        _batchSplit = ProtocolCorpus.Split(batch, [.. starts.Select(start => start + HeaderCut)]);

        // Every case must take the Complete path, or the numbers measure the wrong thing.
        Check(ReadOne(_send) == 1 && ReadOne(_sendSplit) == 1, "single Send frame");
        Check(ReadAll(_batch) == ProtocolCorpus.BatchSize && ReadAll(_batchSplit) == ProtocolCorpus.BatchSize, "Deliver batch");
    }

    [Benchmark(Baseline = true)]
    public int Send_SingleSegment() => ReadOne(_send);

    [Benchmark]
    public int Send_HeaderSplit() => ReadOne(_sendSplit);

    [Benchmark(OperationsPerInvoke = ProtocolCorpus.BatchSize)]
    public int Deliver64_SingleSegment() => ReadAll(_batch);

    [Benchmark(OperationsPerInvoke = ProtocolCorpus.BatchSize)]
    public int Deliver64_EveryHeaderSplit() => ReadAll(_batchSplit);

    private int ReadOne(ReadOnlySequence<byte> input)
    {
        var reader = new SequenceReader<byte>(input);
        var status = FrameReader.TryRead(ref reader, _maxFrameLength, out var frame, out _);
        return status == FrameStatus.Complete && frame.Header.BodyLength > 0 ? 1 : 0;
    }

    private int ReadAll(ReadOnlySequence<byte> input)
    {
        var reader = new SequenceReader<byte>(input);
        int frames = 0;
        while (FrameReader.TryRead(ref reader, _maxFrameLength, out var frame, out _) == FrameStatus.Complete)
        {
            frames += frame.Header.Type == (byte)MessageType.Deliver ? 1 : 0;
        }

        return frames;
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Benchmark input is wrong: {what} did not parse as expected.");
        }
    }
}
