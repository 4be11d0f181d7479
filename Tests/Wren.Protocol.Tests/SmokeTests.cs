using System.Buffers;
using Wren.Protocol.Messages;

namespace Wren.Protocol.Tests;

public class SmokeTests
{
    [Fact]
    public void Hello_round_trips_through_frame_reader_and_codec()
    {
        var bytes = FrameWriter.ToArray(7, new Hello { ClientName = "t", ClientVersion = "1" });
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(FrameStatus.Complete, FrameReader.TryRead(ref reader, ProtocolLimits.Default.MaxFrameLength, out var frame, out _));
        var result = MessageCodec.TryDecode(frame, ProtocolLimits.Default, out var message);
        Assert.True(result.IsSuccess, result.ToString());
        var hello = Assert.IsType<Hello>(message);
        Assert.Equal("t", hello.ClientName);
        Assert.Equal(7u, frame.Header.RequestId);
    }
}
