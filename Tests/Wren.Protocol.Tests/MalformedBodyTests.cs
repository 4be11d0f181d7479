using System.Buffers;
using Wren.Protocol.Messages;

namespace Wren.Protocol.Tests;

/// <summary>
/// Bodies that are not exactly one well-formed value of the right shape are MalformedBody (103), checked without
/// recursion and without allocating what a declared length promises.
/// </summary>
public class MalformedBodyTests
{
    private static readonly byte[] s_sendBody = Hex.Parse("94 2a a3632d31 00 c4026869");

    [Theory]
    [InlineData("00")]
    [InlineData("c0")]
    [InlineData("c1")]
    [InlineData("94 2a a3632d31 00 c4026869")]
    public void Trailing_bytes_after_the_body_value_are_malformed(string trailing)
    {
        var body = s_sendBody.Concat(Hex.Parse(trailing)).ToArray();

        Assert.Equal(ErrorCode.MalformedBody, Decode(MessageType.Send, body));
    }

    [Fact]
    public void Body_truncated_anywhere_is_malformed()
    {
        for (int length = 0; length < s_sendBody.Length; length++)
        {
            Assert.Equal(ErrorCode.MalformedBody, Decode(MessageType.Send, s_sendBody[..length]));
        }
    }

    [Theory]
    [InlineData(MessageType.Ping, "00")]
    [InlineData(MessageType.Pong, "c0")]
    [InlineData(MessageType.Ok, "90")]
    [InlineData(MessageType.Ping, "94 2a a3632d31 00 c4026869")]
    public void Body_on_an_empty_body_type_is_malformed(MessageType type, string body)
    {
        Assert.Equal(ErrorCode.MalformedBody, Decode(type, Hex.Parse(body)));
    }

    [Theory]
    [InlineData(17)]
    [InlineData(100)]
    [InlineData(100_000)]
    [InlineData(1_000_000)]
    public void Deep_nesting_in_a_field_is_malformed_without_recursing(int levels)
    {
        // Send [42, [[[ … ]]], 0, bin] with the nested arrays where the client msg id belongs.
        var body = new List<byte> { 0x94, 0x2a };
        body.AddRange(Enumerable.Repeat((byte)0x91, levels - 1));
        body.Add(0x90);
        body.AddRange(Hex.Parse("00 c400"));

        Assert.Equal(ErrorCode.MalformedBody, Decode(MessageType.Send, [.. body]));
    }

    [Fact]
    public void Deep_nesting_of_maps_is_malformed()
    {
        var body = new List<byte> { 0x91 };
        for (int i = 0; i < 10_000; i++)
        {
            body.AddRange([0x81, 0x00]);
        }

        body.Add(0xc0);

        Assert.Equal(ErrorCode.MalformedBody, Decode(MessageType.Ack, [.. body]));
    }

    [Fact]
    public void Structure_accepts_sixteen_levels_below_the_top_value_and_rejects_seventeen()
    {
        // k nested arrays around a scalar: the scalar sits at depth k.
        static byte[] Nested(int k) => [.. Enumerable.Repeat((byte)0x91, k), 0x2a];

        Assert.True(MessagePackStructure.IsValid(new ReadOnlySequence<byte>(Nested(16)), maxDepth: 16, maxElements: 1000));
        Assert.False(MessagePackStructure.IsValid(new ReadOnlySequence<byte>(Nested(17)), maxDepth: 16, maxElements: 1000));
        Assert.True(MessagePackStructure.IsValid(new ReadOnlySequence<byte>(Nested(4)), maxDepth: 4, maxElements: 1000));
        Assert.False(MessagePackStructure.IsValid(new ReadOnlySequence<byte>(Nested(5)), maxDepth: 4, maxElements: 1000));
    }

    [Fact]
    public void Deepest_v1_message_fits_a_depth_limit_of_four()
    {
        // HistoryPage → messages → Deliver → body: the ProtocolLimits.MaxBodyDepth rationale.
        var limits = ProtocolLimits.Default with { MaxBodyDepth = 4 };

        var result = TestFrames.Decode(GoldenVectors.For(MessageType.HistoryPage).Bytes, out _, limits);

        Assert.True(result.IsSuccess, result.ToString());
    }

    [Fact]
    public void Custom_depth_limit_rejects_one_level_more_than_it_allows()
    {
        // SyncAll [limit, [[cursor]]]: the cursor's fields sit at depth 3.
        var limits = ProtocolLimits.Default with { MaxBodyDepth = 2 };

        var result = TestFrames.Decode(GoldenVectors.For(MessageType.SyncAll).Bytes, out _, limits);

        Assert.Equal(ErrorCode.MalformedBody, result.Error);
    }

    [Fact]
    public void Element_budget_of_65536_holds_and_one_more_is_malformed()
    {
        // ResolveUsers [user_ids, user_names]: 2 elements at the top plus the ids.
        var atBudget = new ResolveUsers { UserIds = [.. Enumerable.Repeat(1ul, 65_534)] };
        var overBudget = new ResolveUsers { UserIds = [.. Enumerable.Repeat(1ul, 65_535)] };

        // Within the element budget the structure passes and the list limit speaks.
        Assert.Equal(new DecodeResult(ErrorCode.InvalidArgument, "user_ids"), TestFrames.Decode(FrameWriter.ToArray(1, atBudget), out _));
        Assert.Equal(ErrorCode.MalformedBody, TestFrames.Decode(FrameWriter.ToArray(1, overBudget), out _).Error);
    }

    public static TheoryData<string> HugeHeaders =>
    [
        "dd ffffffff",    // array 32 of 2^32-1 elements
        "df ffffffff",    // map 32 of 2^32-1 entries
        "dc ffff",        // array 16
        "de ffff",        // map 16
        "dd 80000000",    // array 32, "negative" count
        "c6 ffffffff",    // bin 32
        "c6 80000000",    // bin 32, "negative" length
        "db ffffffff",    // str 32
        "c9 ffffffff 01", // ext 32
        "c5 ffff",        // bin 16
        "da ffff",        // str 16
        "9f",             // fixarray of 15 with nothing after it
        "8f",             // fixmap of 15
    ];

    [Theory]
    [MemberData(nameof(HugeHeaders))]
    public void Huge_declared_count_with_a_tiny_body_is_malformed_without_a_large_allocation(string header)
    {
        var value = Hex.Parse(header);
        byte[][] bodies =
        [
            value,                                                          // the whole body
            [0x94, 0x2a, .. value, 0x00, 0xc4, 0x00],                       // in a Send field
            [0x91, .. value],                                               // as Ack's item list
            [0x92, 0x2a, 0x91, .. value],                                   // inside AddMembers' user ids
        ];
        MessageType[] types = [MessageType.Send, MessageType.Send, MessageType.Ack, MessageType.AddMembers];

        for (int i = 0; i < bodies.Length; i++)
        {
            var frame = TestFrames.Raw(types[i], bodies[i]);
            Decode(frame); // warm up: JIT and static state

            long before = GC.GetAllocatedBytesForCurrentThread();
            var error = Decode(frame);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(ErrorCode.MalformedBody, error);
            Assert.True(allocated < 16 * 1024, $"{Hex.Of(bodies[i])}: allocated {allocated} bytes");
        }
    }

    [Theory]
    [InlineData("94 a23432 a3632d31 00 c4026869", "a string where the conversation id goes")]
    [InlineData("94 c3 a3632d31 00 c4026869", "a bool where the conversation id goes")]
    [InlineData("94 ff a3632d31 00 c4026869", "a negative number in an unsigned field")]
    [InlineData("94 cb4045000000000000 a3632d31 00 c4026869", "a float where the conversation id goes")]
    [InlineData("94 2a 2a 00 c4026869", "a number where the client msg id goes")]
    [InlineData("94 2a a3632d31 ce00010000 c4026869", "kind 65536 in a u16 field")]
    [InlineData("94 2a a3632d31 00 92 68 69", "an array where the body bin goes")]
    [InlineData("94 2a a3632d31 00 d40100", "an ext where the body bin goes")]
    [InlineData("84 00 2a 01 a3632d31 02 00 03 c4026869", "a map instead of the array")]
    [InlineData("2a", "a number instead of the array")]
    [InlineData("c0", "nil instead of the array")]
    [InlineData("c4 02 6869", "a bin instead of the array")]
    public void Field_of_the_wrong_type_is_malformed(string body, string what)
    {
        Assert.True(Decode(MessageType.Send, Hex.Parse(body)) == ErrorCode.MalformedBody, what);
    }

    [Theory]
    [InlineData("9a 2a cd0100 a0 01 07 03 00 03 05 00", "kind 256 in a u8 field")]
    [InlineData("9a 2a 02 a0 cf0000000100000000 07 03 00 03 05 00", "epoch 2^32 in a u32 field")]
    [InlineData("9a 2a 02 a0 01 07 03 cf8000000000000000 03 05 00", "created 2^63 in an i64 field")]
    public void Value_out_of_range_for_the_field_is_malformed(string body, string what)
    {
        Assert.True(Decode(MessageType.ConversationInfo, Hex.Parse(body)) == ErrorCode.MalformedBody, what);
    }

    [Theory]
    [InlineData("cc2a")]
    [InlineData("cd002a")]
    [InlineData("ce0000002a")]
    [InlineData("cf000000000000002a")]
    [InlineData("d02a")]
    [InlineData("d1002a")]
    [InlineData("d20000002a")]
    [InlineData("d3000000000000002a")]
    public void Any_integer_encoding_of_a_value_that_fits_is_accepted(string conversationId)
    {
        var body = Hex.Parse($"94 {conversationId} a3632d31 00 c4026869");

        var result = TestFrames.Decode(TestFrames.Raw(MessageType.Send, body), out var message);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(42ul, Assert.IsType<Send>(message).ConversationId);
    }

    [Fact]
    public void Array_elements_beyond_the_known_fields_are_ignored()
    {
        var body = Hex.Parse("96 2a a3632d31 00 c4026869 a3657874 92 01 02");

        var result = TestFrames.Decode(TestFrames.Raw(MessageType.Send, body), out var message);

        Assert.True(result.IsSuccess, result.ToString());
        MessageAssert.Equal(GoldenVectors.For(MessageType.Send).Message, message);
    }

    [Fact]
    public void Missing_trailing_elements_take_their_defaults()
    {
        // Hello without capabilities; Send without a body; SyncConversation with only the conversation id.
        var hello = TestFrames.Decode(TestFrames.Raw(MessageType.Hello, Hex.Parse("94 01 01 a1 61 a1 31")), out var helloMessage);
        var send = TestFrames.Decode(TestFrames.Raw(MessageType.Send, Hex.Parse("93 2a a3632d31 00")), out var sendMessage);
        var sync = TestFrames.Decode(TestFrames.Raw(MessageType.SyncConversation, Hex.Parse("91 2a")), out var syncMessage);

        Assert.True(hello.IsSuccess, hello.ToString());
        Assert.Empty(Assert.IsType<Hello>(helloMessage).Capabilities);
        Assert.True(send.IsSuccess, send.ToString());
        Assert.Empty(Assert.IsType<Send>(sendMessage).Body);
        Assert.True(sync.IsSuccess, sync.ToString());
        MessageAssert.Equal(new SyncConversation { ConversationId = 42 }, syncMessage);
    }

    [Fact]
    public void Nil_in_a_list_of_numbers_is_malformed()
    {
        Assert.Equal(ErrorCode.MalformedBody, Decode(MessageType.QueryPresence, Hex.Parse("91 92 01 c0")));
    }

    private static ErrorCode Decode(MessageType type, byte[] body) => Decode(TestFrames.Raw(type, body));

    private static ErrorCode Decode(byte[] frame)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(frame));
        Assert.Equal(FrameStatus.Complete, FrameReader.TryRead(ref reader, TestFrames.DefaultMax, out var decoded, out _));
        var result = MessageCodec.TryDecode(decoded, ProtocolLimits.Default, out var message);
        Assert.Equal(result.IsSuccess, message is not null);
        return result.Error;
    }
}

public class Utf8AndLimitValidationTests
{
    /// <summary>Pins the bug where invalid UTF-8 in a client msg id decoded to U+FFFD, so different ids collided.</summary>
    [Theory]
    [InlineData("a1ff")]
    [InlineData("a1fe")]
    [InlineData("a2c328")]
    public void Invalid_utf8_in_a_string_is_a_malformed_body(string badString)
    {
        // Send [conv 42, client_msg_id <bad>, kind 0, body bin "hi"]
        var body = Convert.FromHexString("942a" + badString + "00c4026869");
        var result = MessageCodec.TryDecode((byte)MessageType.Send, new System.Buffers.ReadOnlySequence<byte>(body), ProtocolLimits.Default, out _);
        Assert.Equal(ErrorCode.MalformedBody, result.Error);
    }

    [Fact]
    public void Valid_multibyte_utf8_string_is_accepted()
    {
        var body = Convert.FromHexString("942a" + "a3e282ac" + "00c4026869");
        var result = MessageCodec.TryDecode((byte)MessageType.Send, new System.Buffers.ReadOnlySequence<byte>(body), ProtocolLimits.Default, out var message);
        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal("€", ((Wren.Protocol.Messages.Send)message!).ClientMsgId);
    }

    /// <summary>Pins the bug where an unvalidated MaxBodyDepth sized a stackalloc and crashed the process.</summary>
    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(int.MaxValue)]
    public void Out_of_range_depth_limit_is_refused_and_never_crashes_decoding(int depth)
    {
        var limits = new ProtocolLimits { MaxBodyDepth = depth };
        Assert.Throws<ArgumentOutOfRangeException>(limits.Validate);
        var body = Convert.FromHexString("942aa1610" + "0c4026869");
        var result = MessageCodec.TryDecode((byte)MessageType.Send, new System.Buffers.ReadOnlySequence<byte>(body), limits, out _);
        Assert.Equal(ErrorCode.MalformedBody, result.Error);
    }

    [Fact]
    public void Default_limits_are_valid() => ProtocolLimits.Default.Validate();
}
