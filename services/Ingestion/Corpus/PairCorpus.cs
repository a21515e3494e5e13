using System.Text;
using System.Text.Json;
using Platform.Storage;
using Platform.Tokenizers;

namespace Ingestion.Corpus;

/// <summary>How many pairs a paired dataset holds, in each split, and how long their sides are (in
/// characters).</summary>
public sealed record PairStatistics(long Pairs, long TrainPairs, long ValidationPairs, double MeanSourceCharacters,
    int MaxSourceCharacters,
    double MeanTargetCharacters, int MaxTargetCharacters);

/// <summary>
/// A paired corpus: JSON lines {"source": "...", "target": "..."} or two tab-separated columns (the first non-empty
/// line decides which; every line must follow it). Blank lines are skipped. Pairs, not bytes, are split: a fixed-seed
/// shuffle picks the validation pairs, so an ordered file still validates on pairs from all of it. Both splits are
/// stored as JSON lines.
/// </summary>
public static class PairCorpus
{
    private const int ShuffleSeed = 20_261_130;

    private sealed record StoredPair(string source, string target);

    public static async Task<PairStatistics> SplitAsync(string corpusPath, double validationFraction,
        ArtifactStore store, string trainKey,
        string validationKey, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        long count = 0, sourceCharacters = 0, targetCharacters = 0;
        int maxSource = 0, maxTarget = 0;
        bool? json = null;
        foreach (var (line, number) in JsonLines.NonBlank(corpusPath))
        {
            cancellationToken.ThrowIfCancellationRequested();
            json ??= line.TrimStart().StartsWith('{');
            var (pair, error) = Parse(line, json.Value);
            if (pair is null)
            {
                if (errors.Count < JsonLines.MaxErrorsReported)
                    errors.Add($"line {number}: {error}");
                continue;
            }
            count++;
            sourceCharacters += pair.source.Length;
            targetCharacters += pair.target.Length;
            maxSource = Math.Max(maxSource, pair.source.Length);
            maxTarget = Math.Max(maxTarget, pair.target.Length);
        }
        if (errors.Count > 0)
            throw new CorpusRejectedException("Malformed pairs: " + string.Join("; ", errors)
                + (errors.Count == JsonLines.MaxErrorsReported ? "; …" : "."));
        if (count < 2)
            throw new CorpusRejectedException($"A paired dataset needs at least 2 pairs, one to train on and one to " +
                $"validate; it has {count}.");

        var validationCount = (int)Math.Clamp(Math.Round(count * validationFraction), 1, count - 1);
        var order = Enumerable.Range(0, (int)count).ToArray();
        new Random(ShuffleSeed).Shuffle(order);
        var validation = order.Take(validationCount).ToHashSet();

        await store.WriteAsync(trainKey, train => store.WriteAsync(validationKey, async held =>
        {
            await using var trainWriter = new StreamWriter(train, new UTF8Encoding(false), leaveOpen: true);
            await using var heldWriter = new StreamWriter(held, new UTF8Encoding(false), leaveOpen: true);
            var index = 0;
            foreach (var (line, _) in JsonLines.NonBlank(corpusPath))
            {
                var (pair, _) = Parse(line, json!.Value);
                await (validation.Contains(index++) ? heldWriter
                    : trainWriter).WriteLineAsync(PairLines.Format(pair!.source, pair.target).AsMemory(),
                    cancellationToken);
            }
        }));
        return new PairStatistics(count, count - validationCount, validationCount, (double)sourceCharacters / count,
            maxSource,
            (double)targetCharacters / count, maxTarget);
    }

    private static (StoredPair? Pair, string? Error) Parse(string line, bool json)
    {
        if (!json)
        {
            var columns = line.Split('\t');
            if (columns.Length != 2)
                return (null, $"expected 2 tab-separated columns (source, target), found {columns.Length}");
            return Checked(columns[0], columns[1]);
        }
        try
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return (null, "expected a JSON object {\"source\": ..., \"target\": ...}");
            string? Side(string name, out string? error)
            {
                error = null;
                if (!document.RootElement.TryGetProperty(name, out var value))
                    error = $"\"{name}\" is missing";
                else if (value.ValueKind != JsonValueKind.String)
                    error = $"\"{name}\" must be a string";
                return error is null ? value.GetString() : null;
            }
            var source = Side("source", out var sourceError);
            var target = Side("target", out var targetError);
            if ((sourceError ?? targetError) is { } error)
                return (null, error);
            return Checked(source!, target!);
        }
        catch (JsonException ex)
        {
            return (null, $"not valid JSON ({ex.Message.Split(" Path:")[0].TrimEnd('.')})");
        }
    }

    private static (StoredPair? Pair, string? Error) Checked(string source, string target) =>
        string.IsNullOrWhiteSpace(source) ? (null, "the source is empty")
        : string.IsNullOrWhiteSpace(target) ? (null, "the target is empty")
        : (new StoredPair(source, target), null);
}
