using Wren.Bench.Core;

namespace Wren.Bench.Tests;

public class ParsingTests
{
    [Fact]
    public void ParseCpu_CountsFieldsAfterTheLastParenthesis()
    {
        // The command name holds a space and a parenthesis; utime = 250, stime = 50 ticks.
        string stat = "4242 (dot net) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 30 0 1000 1000 100";
        Assert.Equal(TimeSpan.FromSeconds(3), ProcessStats.ParseCpu(stat));
        Assert.Throws<FormatException>(() => ProcessStats.ParseCpu("no name here"));
    }

    [Fact]
    public void ParseRssBytes_ReadsKibibytesAfterATab()
    {
        Assert.Equal(1996 * 1024, ProcessStats.ParseRssBytes("Name:\tcat\nVmPeak:\t 1 kB\nVmRSS:\t    1996 kB\nThreads:\t1\n"));
        Assert.Throws<FormatException>(() => ProcessStats.ParseRssBytes("Name:\tcat\n"));
    }

    [Fact]
    public void ParseMachineBusy_CountsEverythingButIdleAndIowait()
    {
        // user 100, nice 10, system 50, idle 1000, iowait 500, irq 5, softirq 15, steal 20 ticks: busy 200 = 2 s.
        Assert.Equal(TimeSpan.FromSeconds(2), ProcessStats.ParseMachineBusy("cpu  100 10 50 1000 500 5 15 20 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"));
        Assert.Throws<FormatException>(() => ProcessStats.ParseMachineBusy("intr 1 2 3\n"));
        Assert.NotNull(ProcessStats.ReadMachineBusy());
    }

    [Fact]
    public void Read_ThisProcess_GivesCpuAndMemory()
    {
        var stats = ProcessStats.Read(Environment.ProcessId);
        Assert.NotNull(stats);
        Assert.True(stats.Value.RssBytes > 1024 * 1024);
        Assert.Null(ProcessStats.Read(int.MaxValue));
    }

    [Fact]
    public void Args_ParsesOptionsFlagsAndSuffixes()
    {
        var args = new Args(["w4", "--connections", "15k", "--sweep", "--rate", "1.5k", "extra.json"], new HashSet<string> { "sweep" });
        Assert.Equal("w4", args.Command);
        Assert.Equal(15_000, args.Int("connections", 0));
        Assert.Equal(1500, args.Double("rate", 0));
        Assert.True(args.Flag("sweep"));
        Assert.Equal(["extra.json"], args.Positional);
        args.RejectUnknown();
    }

    [Fact]
    public void Args_RejectsUnknownAndMissingValues()
    {
        var args = new Args(["w1", "--rat", "1000"], new HashSet<string>());
        args.Int("rate", 0);
        Assert.Throws<FormatException>(args.RejectUnknown);
        Assert.Throws<FormatException>(() => new Args(["w1", "--rate"], new HashSet<string>()));
        Assert.Throws<FormatException>(() => new Args(["w1", "--rate", "fast"], new HashSet<string>()).Int("rate", 0));
    }
}
