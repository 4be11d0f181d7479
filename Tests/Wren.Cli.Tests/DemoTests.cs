using System.Text;
using System.Text.Json;
using Wren.Cli.Demo;
using Wren.Protocol.Messages;

namespace Wren.Cli.Tests;

public class DemoTests
{
    [Fact]
    public async Task Demo_proves_every_device_holds_the_same_gap_free_history()
    {
        await using var broker = await CliBroker.StartAsync();

        var result = (await broker.RunAsync("demo")).Succeeded();

        Assert.Contains("proof: all 5 devices hold identical, gap-free histories", result.Out);
        var rows = result.Out.Split('\n').Where(l => l.StartsWith("alice-", StringComparison.Ordinal) || l.StartsWith("bob-", StringComparison.Ordinal)).ToList();
        Assert.Equal(10, rows.Count);
        Assert.All(rows, r => Assert.Matches(@"^\S+\s+(direct\s+20\s+20|group\s+25\s+25)\s+yes\s+yes$", r.TrimEnd()));
    }

    [Fact]
    public async Task Demo_json_reports_the_proof_and_can_run_twice_on_one_broker()
    {
        await using var broker = await CliBroker.StartAsync();
        (await broker.RunAsync("demo", "--json")).Succeeded();

        var second = (await broker.RunAsync("demo", "--json")).Succeeded();

        using var document = JsonDocument.Parse(second.Out);
        Assert.True(document.RootElement.GetProperty("passed").GetBoolean());
        Assert.Equal(10, document.RootElement.GetProperty("devices").GetArrayLength());
        Assert.Contains("every device caught up", second.Err);
    }

    [Fact]
    public async Task Demo_needs_an_admin_token()
    {
        await using var broker = await CliBroker.StartAsync();
        var user = await broker.CreateUserAsync("plain");

        var result = await broker.RunAsync("demo", "--token", user.Token);

        result.FailedWith(3);
    }

    [Fact]
    public void Proof_passes_for_identical_complete_histories()
    {
        var log = Log(3);

        var proof = DemoProof.Check(new Dictionary<string, IReadOnlyList<Deliver>> { ["direct"] = log }, Devices(("phone", log), ("laptop", Log(3))));

        Assert.True(proof.Passed);
    }

    [Fact]
    public void Proof_fails_on_a_gap()
    {
        var log = Log(3);

        var proof = DemoProof.Check(new Dictionary<string, IReadOnlyList<Deliver>> { ["direct"] = log }, Devices(("phone", log), ("laptop", [log[0], log[2]])));

        Assert.False(proof.Passed);
        var laptop = proof.Rows.Single(r => r.Device == "laptop");
        Assert.False(laptop.GapFree);
        Assert.Equal(3ul, laptop.LastSeq);
    }

    [Fact]
    public void Proof_fails_on_a_duplicate()
    {
        var log = Log(3);

        var proof = DemoProof.Check(new Dictionary<string, IReadOnlyList<Deliver>> { ["direct"] = log }, Devices(("phone", [log[0], log[1], log[1], log[2]])));

        Assert.False(proof.Passed);
        Assert.False(proof.Rows.Single().GapFree);
    }

    [Fact]
    public void Proof_fails_when_a_body_differs()
    {
        var log = Log(3);
        var altered = Log(3);
        altered[1].Body = Encoding.UTF8.GetBytes("tampered");

        var proof = DemoProof.Check(new Dictionary<string, IReadOnlyList<Deliver>> { ["direct"] = log }, Devices(("phone", altered)));

        Assert.False(proof.Passed);
        var row = proof.Rows.Single();
        Assert.True(row.GapFree);
        Assert.False(row.Identical);
    }

    [Fact]
    public void Proof_fails_when_a_device_misses_the_tail()
    {
        var log = Log(3);

        var proof = DemoProof.Check(new Dictionary<string, IReadOnlyList<Deliver>> { ["direct"] = log }, Devices(("phone", [log[0], log[1]])));

        Assert.False(proof.Passed);
    }

    private static List<Deliver> Log(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new Deliver { ConversationId = 1, Seq = (ulong)i, Epoch = 1, SenderUserId = 2, ClientMsgId = $"m{i}", Body = Encoding.UTF8.GetBytes($"message {i}") })];

    private static Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<Deliver>>> Devices(params (string Name, List<Deliver> Direct)[] devices) =>
        devices.ToDictionary(d => d.Name, d => (IReadOnlyDictionary<string, IReadOnlyList<Deliver>>)new Dictionary<string, IReadOnlyList<Deliver>> { ["direct"] = d.Direct });
}
