using System.Buffers.Binary;
using System.Security.Cryptography;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>Shared steps of the authentication tests: logins over a raw TLS connection, passwords, TOTP codes.</summary>
internal static class AuthTestKit
{
    public const string Password = "correct horse battery staple";

    /// <summary>Cheap Argon2 parameters for tests that need many failed logins (the format test uses the defaults).</summary>
    public static void CheapHashes(WrenOptions options)
    {
        options.Auth.PasswordMemoryKiB = 1024;
        options.Auth.PasswordIterations = 1;
    }

    /// <summary>Creates a user with a password (set through the broker's authenticator, as the admin command does).</summary>
    public static async Task<ulong> CreateUserWithPasswordAsync(TestBroker broker, string name, string password = Password)
    {
        var issued = await broker.CreateUserAsync(name);
        var (code, message) = await broker.Server.Core.Authenticator.SetPasswordAsync(issued.User.UserId, password);
        Assert.True(code == ErrorCode.None, message);
        return issued.User.UserId;
    }

    /// <summary>Hello, then Auth with <paramref name="auth"/>; returns the answer (AuthOk or Error) and the open or closing connection.</summary>
    public static async Task<(ReceivedFrame Answer, RawConnection Connection)> AuthAsync(TestBroker broker, Auth auth)
    {
        var connection = await RawConnection.ConnectAsync(broker);
        await connection.HelloAsync();
        uint id = connection.NextRequestId();
        await connection.SendAsync(id, auth);
        var answer = await connection.ReadAnswerAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(id, answer.Header.RequestId);
        return (answer, connection);
    }

    /// <summary>A password login; the connection is closed unless the login succeeded (then the caller disposes it).</summary>
    public static async Task<(ReceivedFrame Answer, RawConnection Connection)> PasswordLoginAsync(TestBroker broker, string user, string password, string? code = null) =>
        await AuthAsync(broker, new Auth { Method = AuthMethod.Password, UserName = user, Password = password, TotpCode = code, DeviceName = "test" });

    /// <summary>Logs in and returns AuthOk; fails the test on any other answer.</summary>
    public static async Task<AuthOk> LoginOkAsync(TestBroker broker, string user, string password = Password, string? code = null)
    {
        var (answer, connection) = await PasswordLoginAsync(broker, user, password, code);
        await connection.DisposeAsync();
        return answer.Message as AuthOk ?? throw new Xunit.Sdk.XunitException($"expected AuthOk, got {answer}");
    }

    /// <summary>Expects an Error with <paramref name="code"/> as the answer, then the close; returns the Error.</summary>
    public static async Task<Error> ExpectRefusedAsync((ReceivedFrame Answer, RawConnection Connection) result, ErrorCode code)
    {
        await using var connection = result.Connection;
        var error = result.Answer.Message as Error ?? throw new Xunit.Sdk.XunitException($"expected Error {code}, got {result.Answer}");
        Assert.True(error.Code == code, $"expected {code}, got {error.Code} ({error.Message})");
        await connection.ExpectClosedAsync();
        return error;
    }

    /// <summary>RFC 6238 (SHA-1, 6 digits, 30 s), written out here independently of the broker's implementation.</summary>
    public static string Totp(byte[] secret, DateTimeOffset at)
    {
        long step = at.ToUnixTimeSeconds() / 30;
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
#pragma warning disable CA5350 // RFC 6238 codes as authenticator apps compute them are HMAC-SHA-1 by definition.
        var mac = HMACSHA1.HashData(secret, counter);
#pragma warning restore CA5350
        int offset = mac[^1] & 0x0F;
        int binary = ((mac[offset] & 0x7F) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
        return (binary % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>RFC 4648 Base32 decoding (no padding), for the secret the broker hands out.</summary>
    public static byte[] Base32(string text)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (char c in text.TrimEnd('='))
        {
            buffer = (buffer << 5) | Alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }

        return [.. bytes];
    }

    /// <summary>
    /// The broker's clock for TOTP tests: real time shifted so that it starts 1 s into a 30 s step. A test that computes
    /// its codes from this clock has 29 s before the step changes, without waiting for a step edge.
    /// </summary>
    public sealed class StepClock : TimeProvider
    {
        private readonly TimeSpan _offset;

        public StepClock()
        {
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            _offset = TimeSpan.FromMilliseconds(30_000 - (now % 30_000) + 1_000);
        }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + _offset;
    }

    /// <summary>Authenticated request over a raw connection: sends and returns the answer frame.</summary>
    public static async Task<ReceivedFrame> RequestAsync<T>(RawConnection connection, T message)
        where T : IMessage
    {
        uint id = connection.NextRequestId();
        await connection.SendAsync(id, message);
        var answer = await connection.ReadAnswerAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(id, answer.Header.RequestId);
        return answer;
    }

    /// <summary>Reads until the broker closes the connection; returns the last Error seen (the closing reason).</summary>
    public static async Task<Error?> ClosedWithinAsync(RawConnection connection, TimeSpan within)
    {
        Error? last = null;
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"the session was still open after {within.TotalSeconds} s");
            }

            var frame = await connection.TryReadFrameAsync(left);
            if (frame is null)
            {
                return last;
            }

            if (frame.Message is Error error)
            {
                last = error;
            }
        }
    }
}
