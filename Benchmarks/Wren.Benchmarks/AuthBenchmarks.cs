using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Wren.Broker.Core;

namespace Wren.Benchmarks;

/// <summary>
/// Password checks at the OWASP Argon2id parameters (19 MiB, 2 passes, 1 lane): one login's hashing cost, the same cost
/// for an unknown user (the dummy hash), and a storm of 16 concurrent logins through the default 2 hashing slots (the
/// allocation column shows what the bounded slots keep a storm to).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class AuthPasswordBenchmarks : IDisposable
{
    private const string Password = "correct horse battery staple";
    private PasswordHasher _hasher = null!;
    private string _hash = "";

    [GlobalSetup]
    public void Setup()
    {
        _hasher = new PasswordHasher(new AuthOptions { HashQueueTimeout = TimeSpan.FromMinutes(5) });
        _hash = _hasher.HashAsync(Password).GetAwaiter().GetResult()!;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _hasher?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>One successful password check.</summary>
    [Benchmark(Baseline = true)]
    public Task<bool?> VerifyKnownUser() => _hasher.VerifyAsync(Password, _hash);

    /// <summary>A login for a user that does not exist: hashed against the dummy, so it costs the same.</summary>
    [Benchmark]
    public Task<bool?> VerifyUnknownUser() => _hasher.VerifyAsync(Password, null);

    /// <summary>16 logins at once: queued through the hashing slots, never more than two hashes in memory.</summary>
    [Benchmark(OperationsPerInvoke = 16)]
    public Task Storm16() => Task.WhenAll(Enumerable.Range(0, 16).Select(_ => _hasher.VerifyAsync("wrong guess", _hash)));
}
