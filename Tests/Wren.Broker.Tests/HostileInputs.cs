using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>
/// Hostile inputs, each run against a given broker over a raw connection and checked against docs/protocol.md
/// (sections 3, 4, 9 and 10). <see cref="HostileInputTests"/> runs each on its own broker; <see cref="LoggingTests"/>
/// runs them all on one broker and then checks what the broker logged.
/// </summary>
public static class HostileInputs
{
    /// <summary>Handshake timeout the brokers of these scenarios run with: short, so that a stalled connection ends fast.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Every scenario, with a name for failure messages.</summary>
    public static IReadOnlyList<(string Name, Func<TestBroker, Task> RunAsync)> All { get; } =
    [
        (nameof(LengthZeroAsync), LengthZeroAsync),
        (nameof(LengthFiveAsync), LengthFiveAsync),
        (nameof(LengthOverMaxAsync), LengthOverMaxAsync),
        (nameof(LengthAllOnesAsync), LengthAllOnesAsync),
        (nameof(LengthTwoToThe31Async), LengthTwoToThe31Async),
        (nameof(FlagsBeforeHelloAsync), FlagsBeforeHelloAsync),
        (nameof(FlagsAfterAuthAsync), FlagsAfterAuthAsync),
        (nameof(PingBeforeHelloAsync), PingBeforeHelloAsync),
        (nameof(AuthBeforeHelloAsync), AuthBeforeHelloAsync),
        (nameof(SendBeforeAuthAsync), SendBeforeAuthAsync),
        (nameof(BadTokenAsync), BadTokenAsync),
        (nameof(SecondHelloAsync), SecondHelloAsync),
        (nameof(SecondAuthAsync), SecondAuthAsync),
        (nameof(HelloMaxVersionZeroAsync), HelloMaxVersionZeroAsync),
        (nameof(HelloMinAboveMaxAsync), HelloMinAboveMaxAsync),
        (nameof(HelloWithoutCommonVersionAsync), HelloWithoutCommonVersionAsync),
        (nameof(HelloWithWiderRangeAsync), HelloWithWiderRangeAsync),
        (nameof(TrailingBytesAsync), TrailingBytesAsync),
        (nameof(TruncatedBodyAsync), TruncatedBodyAsync),
        (nameof(WrongShapeAsync), WrongShapeAsync),
        (nameof(DeepNestingBeforeHelloAsync), DeepNestingBeforeHelloAsync),
        (nameof(DeepNestingAfterAuthAsync), DeepNestingAfterAuthAsync),
        (nameof(HugeArrayHeaderAsync), HugeArrayHeaderAsync),
        (nameof(HugeMapHeaderAfterAuthAsync), HugeMapHeaderAfterAuthAsync),
        (nameof(PingWithBodyAsync), PingWithBodyAsync),
        (nameof(UnknownTypeWithRequestIdAsync), UnknownTypeWithRequestIdAsync),
        (nameof(UnknownTypeWithoutRequestIdAsync), UnknownTypeWithoutRequestIdAsync),
        (nameof(ServerOnlyTypeAsync), ServerOnlyTypeAsync),
        (nameof(SendWithRequestIdZeroAsync), SendWithRequestIdZeroAsync),
        (nameof(ClientMsgIdAtAndOverCapAsync), ClientMsgIdAtAndOverCapAsync),
        (nameof(BodyAtAndOverCapAsync), BodyAtAndOverCapAsync),
        (nameof(GarbageBeforeHelloAsync), GarbageBeforeHelloAsync),
        (nameof(GarbageFramesAfterAuthAsync), GarbageFramesAfterAuthAsync),
    ];

    // ---- framing (section 3) ----

    /// <summary>Length field 0: MalformedFrame (102), close.</summary>
    public static async Task LengthZeroAsync(TestBroker broker)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.SendAsync(new byte[4]);
        await raw.ExpectErrorThenCloseAsync(ErrorCode.MalformedFrame, requestId: 0);
    }

    /// <summary>Length field 5 (one below the header's own 6 bytes): MalformedFrame (102), close.</summary>
    public static async Task LengthFiveAsync(TestBroker broker)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.SendAsync(RawConnection.Frame((byte)MessageType.Hello, 1, [], length: 5).AsMemory(0, 9));
        await raw.ExpectErrorThenCloseAsync(ErrorCode.MalformedFrame, requestId: 0);
    }

    /// <summary>Length field max_frame_length + 1, header only (the body is never sent): FrameTooLarge (101), close.</summary>
    public static async Task LengthOverMaxAsync(TestBroker broker)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        uint length = (uint)broker.Server.Options.MaxFrameLength + 1;
        await raw.SendAsync(RawConnection.Frame((byte)MessageType.Hello, 1, [], length: length));
        await raw.ExpectErrorThenCloseAsync(ErrorCode.FrameTooLarge, requestId: 0);
    }

    /// <summary>Length field 0xFFFFFFFF, and only those four bytes: rejected as soon as they arrive.</summary>
    public static async Task LengthAllOnesAsync(TestBroker broker)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.SendAsync(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF });
        await raw.ExpectErrorThenCloseAsync(ErrorCode.FrameTooLarge, requestId: 0);
    }

    /// <summary>Length field 2^31 (negative as an int32): FrameTooLarge, not an overflow.</summary>
    public static async Task LengthTwoToThe31Async(TestBroker broker)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.HelloAsync();
        await raw.SendAsync(RawConnection.Frame((byte)MessageType.Ping, 2, [], length: 0x8000_0000));
        await raw.ExpectErrorThenCloseAsync(ErrorCode.FrameTooLarge, requestId: 0);
    }

    /// <summary>A reserved flag bit on a valid Hello: ProtocolError (100), close.</summary>
    public static async Task FlagsBeforeHelloAsync(TestBroker broker)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.SendAsync(RawConnection.Frame((byte)MessageType.Hello, 1, RawConnection.Body(new Hello { ClientName = "raw" }), flags: 0x01));
        await raw.ExpectErrorThenCloseAsync(ErrorCode.ProtocolError);
    }

    /// <summary>A reserved flag bit on a Ping of an authenticated session: ProtocolError (100), close.</summary>
    public static async Task FlagsAfterAuthAsync(TestBroker broker)
    {
        await using var raw = await AuthenticatedAsync(broker);
        await raw.SendAsync(RawConnection.Frame((byte)MessageType.Ping, raw.NextRequestId(), [], flags: 0x80));
        await raw.ExpectErrorThenCloseAsync(ErrorCode.ProtocolError);
    }

    // ---- lifecycle (section 4) ----

    /// <summary>First frame a Ping instead of Hello: ProtocolError, close.</summary>
    public static async Task PingBeforeHelloAsync(TestBroker broker)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.SendAsync(1, EmptyMessage.Ping);
        await raw.ExpectErrorThenCloseAsync(ErrorCode.ProtocolError, requestId: 1);
    }

    /// <summary>First frame an Auth with a valid token: ProtocolError, close; the token does not log the session in.</summary>
    public static async Task AuthBeforeHelloAsync(TestBroker broker)
    {
        var user = await NewUserAsync(broker);
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.SendAsync(1, new Auth { Method = AuthMethod.Token, Token = user.Token });
        await raw.ExpectErrorThenCloseAsync(ErrorCode.ProtocolError, requestId: 1);
    }

    /// <summary>An operation after Welcome but before AuthOk: NotAuthenticated (106) for that request, close.</summary>
    public static async Task SendBeforeAuthAsync(TestBroker broker)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.HelloAsync();
        uint id = raw.NextRequestId();
        await raw.SendAsync(id, new Send { ConversationId = 1, ClientMsgId = "early", Body = [1, 2, 3] });
        await raw.ExpectErrorThenCloseAsync(ErrorCode.NotAuthenticated, requestId: id);
    }

    /// <summary>A token the server never issued: AuthFailed (107), close.</summary>
    public static async Task BadTokenAsync(TestBroker broker)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.HelloAsync();
        uint id = raw.NextRequestId();
        await raw.SendAsync(id, new Auth { Method = AuthMethod.Token, Token = "not-a-token-" + Guid.NewGuid().ToString("N") });
        await raw.ExpectErrorThenCloseAsync(ErrorCode.AuthFailed, requestId: id);
    }

    /// <summary>A second Hello after AuthOk: ProtocolError, close.</summary>
    public static async Task SecondHelloAsync(TestBroker broker)
    {
        await using var raw = await AuthenticatedAsync(broker);
        await raw.SendAsync(raw.NextRequestId(), new Hello { ClientName = "raw" });
        await raw.ExpectErrorThenCloseAsync(ErrorCode.ProtocolError);
    }

    /// <summary>A second Auth after AuthOk: ProtocolError, close.</summary>
    public static async Task SecondAuthAsync(TestBroker broker)
    {
        var user = await NewUserAsync(broker);
        await using var raw = await RawConnection.ConnectAuthenticatedAsync(broker, user.Token);
        await raw.SendAsync(raw.NextRequestId(), new Auth { Method = AuthMethod.Token, Token = user.Token });
        await raw.ExpectErrorThenCloseAsync(ErrorCode.ProtocolError);
    }

    /// <summary>
    /// Hello{min 1, max 0}: the client speaks no version at all, so there is no common version: UnsupportedVersion (104),
    /// close (section 4 step 2; section 9 "no common protocol version").
    /// </summary>
    public static Task HelloMaxVersionZeroAsync(TestBroker broker) => ExpectUnsupportedVersionAsync(broker, 1, 0);

    /// <summary>Hello{min 3, max 2}: an empty range overlaps nothing: UnsupportedVersion (104), close.</summary>
    public static Task HelloMinAboveMaxAsync(TestBroker broker) => ExpectUnsupportedVersionAsync(broker, 3, 2);

    /// <summary>Hello{min 5, max 9} to a version-1 server: UnsupportedVersion (104), close.</summary>
    public static Task HelloWithoutCommonVersionAsync(TestBroker broker) => ExpectUnsupportedVersionAsync(broker, 5, 9);

    /// <summary>Hello{min 1, max 7}: the server picks version 1 (section 4 step 2 names this case).</summary>
    public static async Task HelloWithWiderRangeAsync(TestBroker broker)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        var welcome = await raw.HelloAsync(1, 7);
        Assert.Equal(1, welcome.Version);
        await raw.PingAsync();
    }

    // ---- bodies (section 3, "exactly one MessagePack value") ----

    /// <summary>A valid Hello body followed by one more value: MalformedBody (103), close.</summary>
    public static Task TrailingBytesAsync(TestBroker broker) =>
        ExpectMalformedFirstFrameAsync(broker, [.. RawConnection.Body(new Hello { ClientName = "raw" }), 0xC0]);

    /// <summary>A Hello body cut one byte short: MalformedBody, close.</summary>
    public static Task TruncatedBodyAsync(TestBroker broker) =>
        ExpectMalformedFirstFrameAsync(broker, RawConnection.Body(new Hello { ClientName = "raw" })[..^1]);

    /// <summary>A Hello whose min_version is a string: MalformedBody, close.</summary>
    public static Task WrongShapeAsync(TestBroker broker) =>
        ExpectMalformedFirstFrameAsync(broker, [0x92, 0xA1, (byte)'x', 0x01]);

    /// <summary>A Hello nested 10,000 arrays deep: MalformedBody, close (the depth limit is 16).</summary>
    public static Task DeepNestingBeforeHelloAsync(TestBroker broker) => ExpectMalformedFirstFrameAsync(broker, DeepNesting(10_000));

    /// <summary>A Send nested 10,000 arrays deep from an authenticated session: MalformedBody, close.</summary>
    public static async Task DeepNestingAfterAuthAsync(TestBroker broker)
    {
        await using var raw = await AuthenticatedAsync(broker);
        uint id = raw.NextRequestId();
        await raw.SendAsync(RawConnection.Frame((byte)MessageType.Send, id, DeepNesting(10_000)));
        await raw.ExpectErrorThenCloseAsync(ErrorCode.MalformedBody, requestId: id);
    }

    /// <summary>A Hello body that is an array32 header claiming 2^32 − 1 items and nothing else: MalformedBody, close.</summary>
    public static Task HugeArrayHeaderAsync(TestBroker broker) => ExpectMalformedFirstFrameAsync(broker, [0xDD, 0xFF, 0xFF, 0xFF, 0xFF]);

    /// <summary>A Send whose body is a map32 header claiming 2^32 − 1 entries: MalformedBody, close.</summary>
    public static async Task HugeMapHeaderAfterAuthAsync(TestBroker broker)
    {
        await using var raw = await AuthenticatedAsync(broker);
        uint id = raw.NextRequestId();
        await raw.SendAsync(RawConnection.Frame((byte)MessageType.Send, id, [0xDF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x02]));
        await raw.ExpectErrorThenCloseAsync(ErrorCode.MalformedBody, requestId: id);
    }

    /// <summary>A Ping with a body (Ping's body is empty): MalformedBody, close.</summary>
    public static async Task PingWithBodyAsync(TestBroker broker)
    {
        await using var raw = await AuthenticatedAsync(broker);
        uint id = raw.NextRequestId();
        await raw.SendAsync(RawConnection.Frame((byte)MessageType.Ping, id, [0xC0]));
        await raw.ExpectErrorThenCloseAsync(ErrorCode.MalformedBody, requestId: id);
    }

    // ---- request errors that keep the connection open (sections 3, 5, 9) ----

    /// <summary>Unknown type 0x77 with a request id: UnsupportedOperation (200) for that id; the connection stays open.</summary>
    public static async Task UnknownTypeWithRequestIdAsync(TestBroker broker)
    {
        await using var raw = await AuthenticatedAsync(broker);
        const uint Id = 0x0102_0304;
        // The body is not MessagePack: an unknown type's body is framed by its length and never parsed.
        await raw.SendAsync(RawConnection.Frame(0x77, Id, [0xC1, 0xFF, 0x00]));
        await raw.ExpectErrorAsync(ErrorCode.UnsupportedOperation, requestId: Id);
        await raw.PingAsync();
    }

    /// <summary>Unknown type 0x77 with request id 0: ignored, no answer; the next answer is the Pong.</summary>
    public static async Task UnknownTypeWithoutRequestIdAsync(TestBroker broker)
    {
        await using var raw = await AuthenticatedAsync(broker);
        await raw.SendAsync(RawConnection.Frame(0x77, 0, [1, 2, 3, 4]));
        await raw.PingAsync();
    }

    /// <summary>A server-to-client type (Welcome) sent by a client with a request id: UnsupportedOperation; open.</summary>
    public static async Task ServerOnlyTypeAsync(TestBroker broker)
    {
        await using var raw = await AuthenticatedAsync(broker);
        uint id = raw.NextRequestId();
        await raw.SendAsync(id, new Welcome { Version = 1, ServerName = "x", ServerVersion = "1" });
        await raw.ExpectErrorAsync(ErrorCode.UnsupportedOperation, requestId: id);
        await raw.PingAsync();
    }

    /// <summary>A Send (which needs an answer) with request id 0: InvalidArgument (201) carrying request id 0; open.</summary>
    public static async Task SendWithRequestIdZeroAsync(TestBroker broker)
    {
        var (raw, conversationId) = await DirectConversationAsync(broker);
        await using (raw)
        {
            await raw.SendAsync(0, new Send { ConversationId = conversationId, ClientMsgId = "zero", Body = [1] });
            await raw.ExpectErrorAsync(ErrorCode.InvalidArgument, requestId: 0);
            await raw.PingAsync();
        }
    }

    /// <summary>client_msg_id of 64 bytes is stored; 65 bytes is InvalidArgument naming the field; open.</summary>
    public static async Task ClientMsgIdAtAndOverCapAsync(TestBroker broker)
    {
        var (raw, conversationId) = await DirectConversationAsync(broker);
        await using (raw)
        {
            uint atCap = raw.NextRequestId();
            await raw.SendAsync(atCap, new Send { ConversationId = conversationId, ClientMsgId = new string('a', 64), Body = [1] });
            Assert.Equal(1ul, (await raw.ExpectAsync<SendAck>(atCap)).Seq);

            uint overCap = raw.NextRequestId();
            await raw.SendAsync(overCap, new Send { ConversationId = conversationId, ClientMsgId = new string('b', 65), Body = [1] });
            var error = await raw.ExpectErrorAsync(ErrorCode.InvalidArgument, requestId: overCap);
            Assert.Contains("client_msg_id", error.Message, StringComparison.Ordinal);
            await raw.PingAsync();
        }
    }

    /// <summary>A Send body of max_message_body_bytes is stored; one byte more is LimitExceeded (206) naming body; open.</summary>
    public static async Task BodyAtAndOverCapAsync(TestBroker broker)
    {
        var (raw, conversationId) = await DirectConversationAsync(broker);
        await using (raw)
        {
            int max = (int)raw.Welcome!.Limits.MaxMessageBodyBytes;
            uint atCap = raw.NextRequestId();
            await raw.SendAsync(atCap, new Send { ConversationId = conversationId, ClientMsgId = "at-cap", Body = new byte[max] });
            await raw.ExpectAsync<SendAck>(atCap);

            uint overCap = raw.NextRequestId();
            await raw.SendAsync(overCap, new Send { ConversationId = conversationId, ClientMsgId = "over-cap", Body = new byte[max + 1] });
            var error = await raw.ExpectErrorAsync(ErrorCode.LimitExceeded, requestId: overCap);
            Assert.Contains("body", error.Message, StringComparison.Ordinal);
            await raw.PingAsync();
        }
    }

    // ---- random input ----

    /// <summary>
    /// Seeded random input as the first thing on 16 connections at once (odd seeds: raw bytes; even seeds: a
    /// well-framed frame of random type and body): each connection ends with a close, preceded by nothing or by Error
    /// frames only, within the handshake timeout plus a margin; never a hang.
    /// </summary>
    public static Task GarbageBeforeHelloAsync(TestBroker broker) =>
        Task.WhenAll(Enumerable.Range(1, 16).Select(async seed =>
        {
            var random = new Random(seed);
            var bytes = new byte[random.Next(1, 600)];
            random.NextBytes(bytes);
            byte[] garbage = seed % 2 == 1 ? bytes : RawConnection.Frame((byte)random.Next(0, 256), (uint)random.Next(), bytes);
            await using var raw = await RawConnection.ConnectAsync(broker);
            await raw.SendAsync(garbage);
            await ExpectOnlyErrorsThenCloseAsync(raw, $"seed {seed}", HandshakeTimeout + TimeSpan.FromSeconds(5));
        }));

    /// <summary>
    /// Seeded random frames (well-framed: random type, random body) on authenticated connections: each either ends with
    /// a closing Error and a close, or stays usable (a following Ping is answered); never a hang, never a bad frame.
    /// </summary>
    public static Task GarbageFramesAfterAuthAsync(TestBroker broker) =>
        Task.WhenAll(Enumerable.Range(100, 16).Select(async seed =>
        {
            var random = new Random(seed);
            await using var raw = await AuthenticatedAsync(broker);
            var batch = new List<byte>();
            for (int i = 0; i < 8; i++)
            {
                var body = new byte[random.Next(0, 300)];
                random.NextBytes(body);
                byte type = (byte)random.Next(0, 256);
                batch.AddRange(RawConnection.Frame(type, (uint)random.Next(1, int.MaxValue), body));
            }

            await raw.SendAsync(batch.ToArray());
            const uint PingId = 0xFFFF_FFF0;
            try
            {
                await raw.SendAsync(RawConnection.Frame((byte)MessageType.Ping, PingId, []));
            }
            catch (IOException)
            {
                // The broker closed the connection after a closing error; the reads below check that.
            }

            while (true)
            {
                var frame = await raw.TryReadFrameAsync();
                if (frame is null)
                {
                    Assert.Fail($"seed {seed}: the broker closed the connection without a closing Error");
                }

                Assert.True(frame.Message is not null, $"seed {seed}: the broker sent an undecodable frame {frame}");
                if (frame.Message is EmptyMessage { Type: MessageType.Pong } && frame.Header.RequestId == PingId)
                {
                    return;
                }

                if (frame.Message is Error error && ErrorCodes.ClosesConnection(error.Code))
                {
                    await raw.ExpectClosedAsync();
                    return;
                }
            }
        }));

    // ---- helpers ----

    /// <summary>A user with a unique name.</summary>
    public static Task<Core.IssuedToken> NewUserAsync(TestBroker broker) =>
        broker.CreateUserAsync("h-" + Guid.NewGuid().ToString("N")[..16]);

    /// <summary>A raw connection authenticated as a new user.</summary>
    public static async Task<RawConnection> AuthenticatedAsync(TestBroker broker) =>
        await RawConnection.ConnectAuthenticatedAsync(broker, (await NewUserAsync(broker)).Token);

    /// <summary>A raw connection authenticated as a new user who has opened a direct conversation with another new user.</summary>
    public static async Task<(RawConnection Raw, ulong ConversationId)> DirectConversationAsync(TestBroker broker)
    {
        var peer = await NewUserAsync(broker);
        var raw = await AuthenticatedAsync(broker);
        uint id = raw.NextRequestId();
        await raw.SendAsync(id, new OpenDirect { PeerUserId = peer.User.UserId });
        var info = await raw.ExpectAsync<ConversationInfo>(id);
        return (raw, info.ConversationId);
    }

    /// <summary>A MessagePack value nested <paramref name="depth"/> arrays deep: [[[…[nil]…]]].</summary>
    public static byte[] DeepNesting(int depth)
    {
        var body = new byte[depth + 1];
        body.AsSpan(0, depth).Fill(0x91);
        body[depth] = 0xC0;
        return body;
    }

    private static async Task ExpectUnsupportedVersionAsync(TestBroker broker, ushort min, ushort max)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.SendAsync(1, new Hello { MinVersion = min, MaxVersion = max, ClientName = "raw" });
        await raw.ExpectErrorThenCloseAsync(ErrorCode.UnsupportedVersion, requestId: 1);
    }

    private static async Task ExpectMalformedFirstFrameAsync(TestBroker broker, byte[] helloBody)
    {
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.SendAsync(RawConnection.Frame((byte)MessageType.Hello, 1, helloBody));
        await raw.ExpectErrorThenCloseAsync(ErrorCode.MalformedBody, requestId: 1);
    }

    private static async Task ExpectOnlyErrorsThenCloseAsync(RawConnection raw, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var remaining = deadline - DateTime.UtcNow;
            ReceivedFrame? frame;
            try
            {
                frame = await raw.TryReadFrameAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1));
            }
            catch (TimeoutException)
            {
                throw new Xunit.Sdk.XunitException($"{what}: the broker neither closed the connection nor sent anything within {timeout.TotalSeconds} s");
            }

            if (frame is null)
            {
                return;
            }

            // Before AuthOk every failure closes: codes 100–199, or InvalidArgument for a field of Hello/Auth (section 10).
            Assert.True(
                frame.Message is Error error && (ErrorCodes.ClosesConnection(error.Code) || error.Code == ErrorCode.InvalidArgument),
                $"{what}: expected only a closing Error before the close, got {frame}");
        }
    }
}
