using System.Text.Json;

namespace Wren.Cli.Tests;

public class DoctorTests
{
    [Fact]
    public async Task Doctor_on_a_healthy_local_broker_passes_every_check()
    {
        await using var broker = await CliBroker.StartAsync();

        var result = (await broker.RunAsync("doctor")).Succeeded();

        foreach (var check in new[] { "tcp", "tls", "protocol", "clock", "auth", "role" })
        {
            Assert.Matches($@"(?m)^ok\s+{check}\s", result.Out);
        }

        Assert.Contains(broker.Fingerprint, result.Out);
        Assert.Contains("CN=wren-dev", result.Out);
        Assert.Contains("administrator", result.Out);
        Assert.Contains("no problems found", result.Out);
    }

    [Fact]
    public async Task Doctor_with_a_wrong_pin_fails_tls_and_withholds_the_token()
    {
        await using var broker = await CliBroker.StartAsync();
        string wrong = new('A', 64);

        var result = await broker.RunAsync("doctor", "--fingerprint", wrong, "--json");

        Assert.Equal(3, result.ExitCode);
        using var document = JsonDocument.Parse(result.Out);
        var checks = document.RootElement.EnumerateArray().ToDictionary(c => c.GetProperty("check").GetString()!, c => c);
        Assert.Equal("failed", checks["tls"].GetProperty("status").GetString());
        Assert.Contains("does NOT match", checks["tls"].GetProperty("detail").GetString());
        Assert.Equal("skipped", checks["auth"].GetProperty("status").GetString());
        Assert.Equal("ok", checks["clock"].GetProperty("status").GetString());
    }

    [Fact]
    public async Task Doctor_with_a_wrong_token_fails_auth_with_a_fix()
    {
        await using var broker = await CliBroker.StartAsync();

        var result = await broker.RunAsync("doctor", "--token", "wren_wrong");

        Assert.Equal(3, result.ExitCode);
        Assert.Matches(@"(?m)^FAIL\s+auth\s+the token from --token was rejected", result.Out);
        Assert.Contains("wren token issue", result.Out);
    }

    [Fact]
    public async Task Doctor_with_the_broker_down_fails_tcp_and_skips_the_rest()
    {
        int port = Cli.ClosedPort();

        var result = await Cli.RunAsync(["doctor", "--server", $"127.0.0.1:{port}"]);

        Assert.Equal(3, result.ExitCode);
        Assert.Matches(@"(?m)^FAIL\s+tcp\s+127\.0\.0\.1:\d+ refused the connection", result.Out);
        Assert.Contains("./run.sh", result.Out);
        Assert.Matches(@"(?m)^skip\s+auth", result.Out);
    }

    [Fact]
    public async Task Doctor_without_a_pin_reports_the_untrusted_certificate()
    {
        await using var broker = await CliBroker.StartAsync();

        var result = await Cli.RunAsync(["doctor", "--server", broker.Address]);

        Assert.Equal(3, result.ExitCode);
        Assert.Matches(@"(?m)^FAIL\s+tls\s+CN=wren-dev", result.Out);
        Assert.Contains("no fingerprint pinned", result.Out);
    }
}
