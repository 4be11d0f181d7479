using System.Text;

namespace Wren.Protocol.Tests;

/// <summary>Renders the golden vectors as the markdown of docs/protocol.md, appendix A, and finds that file.</summary>
internal static class GoldenVectorDocs
{
    public const string BeginMarker = "<!-- golden-vectors:begin -->";
    public const string EndMarker = "<!-- golden-vectors:end -->";
    public const string UpdateVariable = "WREN_UPDATE_GOLDEN";

    /// <summary>The text that belongs between the markers (starting right after the begin marker).</summary>
    public static string Render()
    {
        var text = new StringBuilder();
        text.Append("\n\n");
        AppendWrapped(text, "In each block the first line is the header (length, type, flags, request id) and the second the body, "
            + "one group per MessagePack value: the array header, then each field in key order (a nested array stays one "
            + "group). Ping, Pong and Ok have no body. The tests generate this section; run them with `"
            + UpdateVariable + "=1` to rewrite it after an intended change.");
        foreach (var vector in GoldenVectors.All)
        {
            var bytes = vector.Bytes;
            text.Append('\n');
            text.Append("### 0x").Append(((byte)vector.Type).ToString("x2")).Append(' ').Append(vector.Type).Append('\n');
            text.Append('\n');
            AppendWrapped(text, vector.Description);
            text.Append('\n');
            text.Append("```text\n");
            text.Append(string.Join(' ', HeaderGroups(bytes))).Append('\n');
            if (bytes.Length > FrameHeader.Size)
            {
                text.Append(string.Join(' ', BodyGroups(bytes.AsSpan(FrameHeader.Size)))).Append('\n');
            }

            text.Append("```\n");
        }

        text.Append('\n');
        return text.ToString();
    }

    // Wraps at word boundaries so that no line is longer than the rest of docs/protocol.md.
    private static void AppendWrapped(StringBuilder text, string paragraph)
    {
        const int Width = 116;
        int lineLength = 0;
        foreach (string word in paragraph.Split(' '))
        {
            if (lineLength > 0 && lineLength + 1 + word.Length > Width)
            {
                text.Append('\n');
                lineLength = 0;
            }
            else if (lineLength > 0)
            {
                text.Append(' ');
                lineLength++;
            }

            text.Append(word);
            lineLength += word.Length;
        }

        text.Append('\n');
    }

    /// <summary>The hex of a frame as written in <see cref="GoldenVectors"/>: header groups, then body groups.</summary>
    public static string GroupedHex(byte[] frame) =>
        string.Join(' ', HeaderGroups(frame).Concat(BodyGroups(frame.AsSpan(FrameHeader.Size))));

    public static IEnumerable<string> HeaderGroups(byte[] frame) =>
    [
        Hex.Of(frame.AsSpan(0, 4)),
        Hex.Of(frame.AsSpan(4, 1)),
        Hex.Of(frame.AsSpan(5, 1)),
        Hex.Of(frame.AsSpan(6, 4)),
    ];

    /// <summary>Splits a body into its top-level array header and one group per element.</summary>
    public static List<string> BodyGroups(ReadOnlySpan<byte> body)
    {
        var groups = new List<string>();
        if (body.IsEmpty)
        {
            return groups;
        }

        int headerLength = body[0] switch
        {
            >= 0x90 and <= 0x9f => 1,
            0xdc => 3,
            0xdd => 5,
            _ => 0,
        };
        if (headerLength == 0)
        {
            groups.Add(Hex.Of(body));
            return groups;
        }

        groups.Add(Hex.Of(body[..headerLength]));
        int position = headerLength;
        while (position < body.Length)
        {
            int end = SkipValue(body, position);
            groups.Add(Hex.Of(body[position..end]));
            position = end;
        }

        return groups;
    }

    /// <summary>The index just past the well-formed MessagePack value at <paramref name="position"/>.</summary>
    public static int SkipValue(ReadOnlySpan<byte> s, int position)
    {
        byte code = s[position];
        int p = position + 1;
        switch (code)
        {
            case <= 0x7f or >= 0xe0 or 0xc0 or 0xc2 or 0xc3: return p;
            case <= 0x8f: return SkipValues(s, p, 2 * (code & 0x0f));
            case <= 0x9f: return SkipValues(s, p, code & 0x0f);
            case <= 0xbf: return p + (code & 0x1f);
            case 0xc4 or 0xd9: return p + 1 + s[p];
            case 0xc5 or 0xda: return p + 2 + ReadBigEndian(s, p, 2);
            case 0xc6 or 0xdb: return p + 4 + ReadBigEndian(s, p, 4);
            case 0xc7: return p + 2 + s[p];
            case 0xc8: return p + 3 + ReadBigEndian(s, p, 2);
            case 0xc9: return p + 5 + ReadBigEndian(s, p, 4);
            case 0xcc or 0xd0: return p + 1;
            case 0xcd or 0xd1: return p + 2;
            case 0xca or 0xce or 0xd2: return p + 4;
            case 0xcb or 0xcf or 0xd3: return p + 8;
            case 0xd4: return p + 2;
            case 0xd5: return p + 3;
            case 0xd6: return p + 5;
            case 0xd7: return p + 9;
            case 0xd8: return p + 17;
            case 0xdc: return SkipValues(s, p + 2, ReadBigEndian(s, p, 2));
            case 0xdd: return SkipValues(s, p + 4, ReadBigEndian(s, p, 4));
            case 0xde: return SkipValues(s, p + 2, 2 * ReadBigEndian(s, p, 2));
            case 0xdf: return SkipValues(s, p + 4, 2 * ReadBigEndian(s, p, 4));
            default: throw new InvalidDataException($"0x{code:x2} is not a MessagePack type byte");
        }
    }

    private static int SkipValues(ReadOnlySpan<byte> s, int position, int count)
    {
        for (int i = 0; i < count; i++)
        {
            position = SkipValue(s, position);
        }

        return position;
    }

    private static int ReadBigEndian(ReadOnlySpan<byte> s, int position, int size)
    {
        int value = 0;
        for (int i = 0; i < size; i++)
        {
            value = checked((value << 8) | s[position + i]);
        }

        return value;
    }

    /// <summary>The repository root: the nearest directory above the test binaries holding Broker.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Broker.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"Broker.sln not found above {AppContext.BaseDirectory}");
    }

    public static string ProtocolDocPath() => Path.Combine(RepositoryRoot(), "docs", "protocol.md");

    /// <summary>Start and end index of the text between the markers.</summary>
    public static (int Start, int End) FindRegion(string document)
    {
        int begin = document.IndexOf(BeginMarker, StringComparison.Ordinal);
        Assert.True(begin >= 0, $"docs/protocol.md has no {BeginMarker} marker");
        Assert.True(document.IndexOf(BeginMarker, begin + 1, StringComparison.Ordinal) < 0, $"docs/protocol.md has two {BeginMarker} markers");
        int start = begin + BeginMarker.Length;
        int end = document.IndexOf(EndMarker, start, StringComparison.Ordinal);
        Assert.True(end >= 0, $"docs/protocol.md has no {EndMarker} marker after {BeginMarker}");
        return (start, end);
    }
}
