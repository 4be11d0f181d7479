namespace Wren.Protocol.Tests;

/// <summary>The error code table: numbers, ranges and the close policy of docs/protocol.md section 9.</summary>
public class ErrorCodeTests
{
    public static TheoryData<ErrorCode> Codes => [.. Enum.GetValues<ErrorCode>().Where(c => c != ErrorCode.None)];

    [Fact]
    public void Every_code_from_100_to_199_closes_the_connection_even_if_not_yet_defined()
    {
        for (int code = 100; code <= 199; code++)
        {
            Assert.True(ErrorCodes.ClosesConnection((ErrorCode)code), $"{code}");
        }
    }

    [Fact]
    public void No_code_from_200_to_299_closes_the_connection()
    {
        for (int code = 200; code <= 299; code++)
        {
            Assert.False(ErrorCodes.ClosesConnection((ErrorCode)code), $"{code}");
        }
    }

    [Fact]
    public void Codes_outside_both_ranges_do_not_close_the_connection()
    {
        Assert.False(ErrorCodes.ClosesConnection(ErrorCode.None));
        Assert.False(ErrorCodes.ClosesConnection((ErrorCode)99));
        Assert.False(ErrorCodes.ClosesConnection((ErrorCode)300));
        Assert.False(ErrorCodes.ClosesConnection((ErrorCode)ushort.MaxValue));
    }

    [Fact]
    public void Every_code_has_a_unique_value()
    {
        var values = Enum.GetValues<ErrorCode>();

        Assert.Equal(Enum.GetNames<ErrorCode>().Length, values.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Codes))]
    public void Every_code_lies_in_the_connection_or_the_request_range(ErrorCode code)
    {
        Assert.True((ushort)code is >= 100 and <= 199 or >= 200 and <= 299, $"{code} = {(ushort)code}");
        Assert.True(ErrorCodes.IsDefined(code));
        Assert.Equal((ushort)code < 200, new ProtocolException(code).ClosesConnection);
    }

    [Fact]
    public void Codes_keep_the_wire_numbers_of_the_spec()
    {
        var expected = new (ushort Number, string Name)[]
        {
            (0, "None"),
            (100, "ProtocolError"), (101, "FrameTooLarge"), (102, "MalformedFrame"), (103, "MalformedBody"),
            (104, "UnsupportedVersion"), (105, "HandshakeTimeout"), (106, "NotAuthenticated"), (107, "AuthFailed"),
            (108, "IdleTimeout"), (109, "SlowConsumer"), (110, "TooManyConnections"), (111, "ShuttingDown"), (112, "SessionRevoked"),
            (200, "UnsupportedOperation"), (201, "InvalidArgument"), (202, "NotFound"), (203, "Forbidden"), (204, "Conflict"),
            (205, "RateLimited"), (206, "LimitExceeded"), (207, "StorageUnavailable"), (208, "InternalError"),
        };

        Assert.Equal(expected, Enum.GetValues<ErrorCode>().Select(c => ((ushort)c, c.ToString())));
    }

    [Fact]
    public void Numbers_between_defined_codes_are_not_defined()
    {
        Assert.False(ErrorCodes.IsDefined((ErrorCode)113));
        Assert.False(ErrorCodes.IsDefined((ErrorCode)209));
        Assert.False(ErrorCodes.IsDefined((ErrorCode)1));
    }
}
