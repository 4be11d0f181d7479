using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Cli.Commands;

/// <summary>Reading recent entries of a conversation, newest page first, as many pages as needed.</summary>
internal static class RecentMessages
{
    /// <summary>The last <paramref name="count"/> entries of a conversation, oldest first.</summary>
    public static async Task<List<Deliver>> RecentAsync(WrenClient client, ulong conversation, int count, CancellationToken cancellationToken)
    {
        var entries = new List<Deliver>();
        ulong before = 0;
        while (entries.Count < count)
        {
            var page = await client.HistoryAsync(conversation, before, (uint)Math.Min(count - entries.Count, 100), cancellationToken).ConfigureAwait(false);
            entries.InsertRange(0, page.Messages);
            if (!page.More || page.Messages.Length == 0)
            {
                break;
            }

            before = page.Messages[0].Seq;
        }

        return entries;
    }
}
