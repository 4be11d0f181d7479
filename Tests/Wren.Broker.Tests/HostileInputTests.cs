namespace Wren.Broker.Tests;

/// <summary>
/// Invariant 9 (bad input gets a clear error, never a crash), over real TLS: each hostile input gets the Error code
/// docs/protocol.md documents (then the close, for codes 100–199), and afterwards a normal SDK client on the same
/// broker still sends and receives. The inputs themselves are in <see cref="HostileInputs"/>.
/// </summary>
public class HostileInputTests
{
    [Fact]
    public Task Length_field_0_is_MalformedFrame_then_close() => RunAsync(HostileInputs.LengthZeroAsync);

    [Fact]
    public Task Length_field_5_is_MalformedFrame_then_close() => RunAsync(HostileInputs.LengthFiveAsync);

    [Fact]
    public Task Length_field_over_max_frame_length_is_FrameTooLarge_without_sending_the_body() => RunAsync(HostileInputs.LengthOverMaxAsync);

    [Fact]
    public Task Length_field_0xFFFFFFFF_alone_is_FrameTooLarge_then_close() => RunAsync(HostileInputs.LengthAllOnesAsync);

    [Fact]
    public Task Length_field_2_pow_31_is_FrameTooLarge_then_close() => RunAsync(HostileInputs.LengthTwoToThe31Async);

    [Fact]
    public Task Reserved_flag_on_Hello_is_ProtocolError_then_close() => RunAsync(HostileInputs.FlagsBeforeHelloAsync);

    [Fact]
    public Task Reserved_flag_after_auth_is_ProtocolError_then_close() => RunAsync(HostileInputs.FlagsAfterAuthAsync);

    [Fact]
    public Task First_frame_Ping_instead_of_Hello_is_ProtocolError_then_close() => RunAsync(HostileInputs.PingBeforeHelloAsync);

    [Fact]
    public Task First_frame_Auth_instead_of_Hello_is_ProtocolError_then_close() => RunAsync(HostileInputs.AuthBeforeHelloAsync);

    [Fact]
    public Task Send_before_Auth_is_NotAuthenticated_then_close() => RunAsync(HostileInputs.SendBeforeAuthAsync);

    [Fact]
    public Task Unknown_token_is_AuthFailed_then_close() => RunAsync(HostileInputs.BadTokenAsync);

    [Fact]
    public Task Second_Hello_after_AuthOk_is_ProtocolError_then_close() => RunAsync(HostileInputs.SecondHelloAsync);

    [Fact]
    public Task Second_Auth_after_AuthOk_is_ProtocolError_then_close() => RunAsync(HostileInputs.SecondAuthAsync);

    /// <summary>
    /// Regression: pins that a Hello whose range holds no version (max_version 0) is answered by version negotiation
    /// (docs/protocol.md section 4 step 2, code 104 "no common protocol version"), not rejected as a field error with
    /// InvalidArgument.
    /// </summary>
    [Fact]
    public Task Hello_with_max_version_0_is_UnsupportedVersion_then_close() => RunAsync(HostileInputs.HelloMaxVersionZeroAsync);

    /// <summary>Regression: pins that an inverted range (min above max) is UnsupportedVersion, not InvalidArgument.</summary>
    [Fact]
    public Task Hello_with_min_above_max_is_UnsupportedVersion_then_close() => RunAsync(HostileInputs.HelloMinAboveMaxAsync);

    [Fact]
    public Task Hello_with_versions_5_to_9_is_UnsupportedVersion_then_close() => RunAsync(HostileInputs.HelloWithoutCommonVersionAsync);

    [Fact]
    public Task Hello_with_versions_1_to_7_is_answered_with_version_1() => RunAsync(HostileInputs.HelloWithWiderRangeAsync);

    [Fact]
    public Task Body_with_trailing_bytes_is_MalformedBody_then_close() => RunAsync(HostileInputs.TrailingBytesAsync);

    [Fact]
    public Task Truncated_body_is_MalformedBody_then_close() => RunAsync(HostileInputs.TruncatedBodyAsync);

    [Fact]
    public Task Body_of_the_wrong_shape_is_MalformedBody_then_close() => RunAsync(HostileInputs.WrongShapeAsync);

    [Fact]
    public Task Body_nested_10000_deep_before_Hello_is_MalformedBody_then_close() => RunAsync(HostileInputs.DeepNestingBeforeHelloAsync);

    [Fact]
    public Task Body_nested_10000_deep_after_auth_is_MalformedBody_then_close() => RunAsync(HostileInputs.DeepNestingAfterAuthAsync);

    [Fact]
    public Task Array_header_claiming_2_pow_32_minus_1_items_is_MalformedBody_then_close() => RunAsync(HostileInputs.HugeArrayHeaderAsync);

    [Fact]
    public Task Map_header_claiming_2_pow_32_minus_1_entries_after_auth_is_MalformedBody_then_close() => RunAsync(HostileInputs.HugeMapHeaderAfterAuthAsync);

    [Fact]
    public Task Ping_with_a_body_is_MalformedBody_then_close() => RunAsync(HostileInputs.PingWithBodyAsync);

    [Fact]
    public Task Unknown_type_with_request_id_is_UnsupportedOperation_and_the_connection_stays_open() => RunAsync(HostileInputs.UnknownTypeWithRequestIdAsync);

    [Fact]
    public Task Unknown_type_with_request_id_0_is_ignored_and_the_connection_stays_open() => RunAsync(HostileInputs.UnknownTypeWithoutRequestIdAsync);

    [Fact]
    public Task Server_to_client_type_from_a_client_is_UnsupportedOperation_and_the_connection_stays_open() => RunAsync(HostileInputs.ServerOnlyTypeAsync);

    [Fact]
    public Task Send_with_request_id_0_is_InvalidArgument_with_request_id_0_and_the_connection_stays_open() => RunAsync(HostileInputs.SendWithRequestIdZeroAsync);

    [Fact]
    public Task Client_msg_id_of_64_bytes_is_stored_and_65_bytes_is_InvalidArgument() => RunAsync(HostileInputs.ClientMsgIdAtAndOverCapAsync);

    [Fact]
    public Task Send_body_at_the_limit_is_stored_and_one_byte_over_is_LimitExceeded() => RunAsync(HostileInputs.BodyAtAndOverCapAsync);

    [Fact]
    public Task Random_bytes_before_Hello_end_in_an_error_or_a_close_never_a_hang() => RunAsync(HostileInputs.GarbageBeforeHelloAsync);

    [Fact]
    public Task Random_frames_after_auth_end_in_a_closing_error_or_leave_the_connection_usable() => RunAsync(HostileInputs.GarbageFramesAfterAuthAsync);

    private static async Task RunAsync(Func<TestBroker, Task> scenario)
    {
        await using var broker = await TestBroker.StartAsync(o => o.Limits.HandshakeTimeout = HostileInputs.HandshakeTimeout);
        await scenario(broker);
        await ServingCheck.AssertStillServesAsync(broker);
    }
}
