using System.Text;
using System.Text.RegularExpressions;

namespace Wren.Cli.Tests;

/// <summary>
/// Keeps the README's walkthrough true: every command in its shell blocks is run, in order, against a real broker laid
/// out like a fresh clone after <c>./run.sh</c> (the only difference: WREN_SERVER points at the test broker's port).
/// Interactive chats get "/quit" on standard input. A command the test does not know fails it, so new walkthrough
/// steps get tested too.
/// </summary>
public partial class WalkthroughTests
{
    [Fact]
    public async Task Every_walkthrough_command_in_the_README_succeeds_against_a_real_broker()
    {
        var commands = WalkthroughCommands(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md")));
        Assert.Contains("./run.sh", commands);
        var wren = commands.Where(c => c.StartsWith("./wren.sh ", StringComparison.Ordinal)).ToList();
        Assert.Contains(wren, c => c.Contains(" chat ", StringComparison.Ordinal));
        Assert.Contains(wren, c => c.Contains(" demo", StringComparison.Ordinal));
        Assert.All(commands, c => Assert.True(c == "./run.sh" || c.StartsWith("./wren.sh ", StringComparison.Ordinal), $"the walkthrough test does not know how to run: {c}"));

        await using var broker = await CliBroker.StartAsync();
        foreach (var command in wren)
        {
            var args = ShellWords(command["./wren.sh ".Length..]);
            var input = args[0] == "chat" ? new StringReader("/quit\n") : null;
            var result = await broker.RunWithAsync(input, null, [.. args]);
            Assert.True(result.ExitCode == 0, $"README command failed: {command}\n{result}");
        }

        string aliceToken = Path.Combine(broker.Root, "data", "alice.token");
        Assert.StartsWith("wren_", File.ReadAllText(aliceToken));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(aliceToken));
        }
    }

    [Fact]
    public void ShellWords_SplitsLikeTheShell()
    {
        Assert.Equal(["user", "create", "alice", "--display-name", "Alice Liddell", "it's"], ShellWords("user create alice --display-name \"Alice Liddell\" 'it'\\''s'"));
    }

    /// <summary>The lines of the ```sh blocks between "## Walkthrough" and the next top-level section.</summary>
    private static List<string> WalkthroughCommands(string readme)
    {
        int start = readme.IndexOf("\n## Walkthrough", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no '## Walkthrough' section");
        string section = readme[start..];
        int next = section.IndexOf("\n## ", 3, StringComparison.Ordinal);
        if (next > 0)
        {
            section = section[..next];
        }

        return [.. ShellBlock().Matches(section).SelectMany(m => m.Groups[1].Value.Split('\n')).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))];
    }

    /// <summary>Splits a command line into words with the shell's quoting rules for '…', "…" and backslashes.</summary>
    private static List<string> ShellWords(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            switch (c)
            {
                case ' ' or '\t':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }

                    break;
                case '\'':
                    int close = line.IndexOf('\'', i + 1);
                    word.Append(line, i + 1, close - i - 1);
                    i = close;
                    inWord = true;
                    break;
                case '"':
                    for (i++; line[i] != '"'; i++)
                    {
                        word.Append(line[i] == '\\' && line[i + 1] is '"' or '\\' or '$' ? line[++i] : line[i]);
                    }

                    inWord = true;
                    break;
                case '\\':
                    word.Append(line[++i]);
                    inWord = true;
                    break;
                default:
                    Assert.False(c is '|' or '>' or '<' or '&' or ';' or '$' or '`', $"the walkthrough test does not run shell syntax ({c}) in: {line}");
                    word.Append(c);
                    inWord = true;
                    break;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    [GeneratedRegex("```sh\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShellBlock();
}
