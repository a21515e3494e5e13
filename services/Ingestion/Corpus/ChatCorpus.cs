using System.Text;
using Ingestion.Data;
using Platform.Storage;
using Platform.Tokenizers;

namespace Ingestion.Corpus;

/// <summary>
/// A conversation corpus: JSON lines in OpenAI's fine-tuning format (see <see cref="ChatLines"/>). Every line must be
/// a conversation with at least one assistant turn; blank lines are skipped. Conversations, not bytes, are split: a
/// fixed-seed shuffle picks the validation conversations. Both splits are stored as JSON lines.
/// </summary>
public static class ChatCorpus
{
    private const int ShuffleSeed = 20_261_207;

    public static async Task<ChatSummary> SplitAsync(string corpusPath, double validationFraction, ArtifactStore store,
        string trainKey, string validationKey, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        var summary = new ChatSummary();
        foreach (var (line, number) in JsonLines.NonBlank(corpusPath))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (messages, error) = ChatLines.Parse(line);
            if (messages is null)
            {
                if (errors.Count < JsonLines.MaxErrorsReported)
                    errors.Add($"line {number}: {error}");
                continue;
            }
            summary.Add(messages);
        }
        if (errors.Count > 0)
            throw new CorpusRejectedException("Malformed conversations: " + string.Join("; ", errors)
                + (errors.Count == JsonLines.MaxErrorsReported ? "; …" : "."));
        var count = summary.Conversations;
        if (count < 2)
            throw new CorpusRejectedException("A conversation dataset needs at least 2 conversations, one to train " +
                $"on and one to validate; it has {count}.");

        var validationCount = (int)Math.Clamp(Math.Round(count * validationFraction), 1, count - 1);
        var order = Enumerable.Range(0, (int)count).ToArray();
        new Random(ShuffleSeed).Shuffle(order);
        var validation = order.Take(validationCount).ToHashSet();
        (summary.TrainConversations, summary.ValidationConversations) = (count - validationCount, validationCount);

        await store.WriteAsync(trainKey, train => store.WriteAsync(validationKey, async held =>
        {
            await using var trainWriter = new StreamWriter(train, new UTF8Encoding(false), leaveOpen: true);
            await using var heldWriter = new StreamWriter(held, new UTF8Encoding(false), leaveOpen: true);
            var index = 0;
            foreach (var (line, _) in JsonLines.NonBlank(corpusPath))
                await (validation.Contains(index++) ? heldWriter : trainWriter).WriteLineAsync(
                    ChatLines.Format(ChatLines.Parse(line).Messages!).AsMemory(), cancellationToken);
        }));
        return summary;
    }
}

/// <summary>The non-blank lines of a JSON-lines upload, with their 1-based line numbers.</summary>
public static class JsonLines
{
    public const int MaxErrorsReported = 10;

    public static IEnumerable<(string Line, long Number)> NonBlank(string path)
    {
        long number = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            number++;
            if (!string.IsNullOrWhiteSpace(line))
                yield return (line, number);
        }
    }
}
