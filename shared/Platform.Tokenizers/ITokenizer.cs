namespace Platform.Tokenizers;

public interface ITokenizer
{
    string Kind { get; }
    int VocabSize { get; }
    int[] Encode(string text);

    /// <summary>The same, stopping with <see cref="OperationCanceledException"/> once cancelled.</summary>
    int[] Encode(string text, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Encode(text);
    }
    string Decode(IEnumerable<int> ids);
    void Save(Stream stream);

    /// <summary>The id of a special token (e.g. "&lt;pad&gt;"), or null when the vocabulary has none by that
    /// name.</summary>
    int? SpecialTokenId(string token);
}

/// <summary>The text holds something the tokenizer has no id for (e.g. a character the char vocabulary never
/// saw).</summary>
public sealed class UnknownTokenException(IReadOnlyList<string> unknown)
    : Exception($"No token for: {string.Join(", ", unknown.Select(u => $"'{u}' (U+{char.ConvertToUtf32(u, 0):X4})"))}.")
{
    public IReadOnlyList<string> Unknown { get; } = unknown;
}
