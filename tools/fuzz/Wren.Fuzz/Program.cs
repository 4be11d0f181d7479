using System.Text.RegularExpressions;
using SharpFuzz;
using Wren.Fuzz;
using Wren.Protocol;

// Wren.Fuzz TARGET                 run under afl-fuzz (SharpFuzz's in-process loop reads each input from afl)
// Wren.Fuzz TARGET --libfuzzer     run under libfuzzer-dotnet
// Wren.Fuzz TARGET FILE|DIR...     run files once without a fuzzer (replay a corpus or a crash); exit 1 on a finding
// Wren.Fuzz seed GOLDEN.cs DIR     write the seed corpora (DIR/<target>/) from the golden vectors' hex strings
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Wren.Fuzz frame|decode|handshake [--libfuzzer | FILE|DIR...]  |  Wren.Fuzz seed GoldenVectors.cs CORPUS_DIR");
    return 2;
}

if (args[0] == "seed")
{
    return Seeds.Write(args[1], args[2]);
}

SharpFuzz.ReadOnlySpanAction? target = args[0] switch
{
    "frame" => FrameTarget.Run,
    "decode" => DecodeTarget.Run,
    "handshake" => HandshakeTarget.Run,
    _ => null,
};
if (target is null)
{
    Console.Error.WriteLine($"unknown target '{args[0]}': frame, decode or handshake");
    return 2;
}

if (args.Length == 1)
{
    // Instrumented code may run only inside Fuzzer.Run (which sets up the coverage map): the handshake target's harness
    // is therefore created by the first input.
    Fuzzer.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    });
    return 0;
}

if (args[1] == "--libfuzzer")
{
    Fuzzer.LibFuzzer.Run(target);
    return 0;
}

int runs = 0;
int findings = 0;
foreach (var path in args[1..].SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal).ToArray() : [p]))
{
    runs++;
    try
    {
        target(File.ReadAllBytes(path));
    }
#pragma warning disable CA1031 // Replay reports every exception as a finding and goes on with the next file.
    catch (Exception ex)
#pragma warning restore CA1031
    {
        findings++;
        Console.WriteLine($"FINDING {path}: {ex}");
    }
}

HandshakeTarget.Reset();
Console.WriteLine($"{runs} inputs, {findings} findings");
return findings == 0 ? 0 : 1;

/// <summary>Seed corpora from the golden vectors (one valid frame per message type).</summary>
internal static partial class Seeds
{
    public static int Write(string goldenVectorsSource, string corpusRoot)
    {
        var frames = HexString().Matches(File.ReadAllText(goldenVectorsSource))
            .Select(m => Convert.FromHexString(m.Groups[1].Value.Replace(" ", "", StringComparison.Ordinal)))
            .Where(f => f.Length >= FrameHeader.Size)
            .ToList();
        if (frames.Count == 0)
        {
            Console.Error.WriteLine("no golden vectors found in " + goldenVectorsSource);
            return 1;
        }

        foreach (var target in new[] { "frame", "decode", "handshake" })
        {
            Directory.CreateDirectory(Path.Combine(corpusRoot, target));
        }

        foreach (var frame in frames)
        {
            var type = (MessageType)frame[4];
            string name = type.ToString().ToLowerInvariant();
            Save(corpusRoot, "frame", name, [0x00, .. frame]);
            Save(corpusRoot, "decode", name, [frame[4], .. frame.AsSpan(FrameHeader.Size)]);
            if (MessageTypes.IsClientToServer(type))
            {
                // Hello opens a bare handshake; everything else follows the harness's Hello and Auth (mode 2), and
                // administration runs as the administrator on loopback (mode 7).
                byte mode = type switch { MessageType.Hello => 0x00, MessageType.Auth => 0x01, >= (MessageType)0x80 => 0x07, _ => 0x02 };
                Save(corpusRoot, "handshake", name, [mode, .. frame]);
            }
        }

        // One stream of every frame back to back, split at varied points.
        Save(corpusRoot, "frame", "all", [0x2a, .. frames.SelectMany(f => f)]);
        Console.WriteLine($"{frames.Count} golden vectors written to {corpusRoot}");
        return 0;
    }

    private static void Save(string root, string target, string name, byte[] bytes) =>
        File.WriteAllBytes(Path.Combine(root, target, "golden-" + name), bytes);

    [GeneratedRegex("\"([0-9a-f]{8}(?: [0-9a-f]+)+)\"")]
    private static partial Regex HexString();
}
