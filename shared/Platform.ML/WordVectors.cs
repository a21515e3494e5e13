using System.Globalization;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Pre-trained word vectors in word2vec's or GloVe's text format: one word and its values per line, space-separated;
/// word2vec's first line ("count dimension") is recognised and skipped. Every vector must have the same dimension.
/// </summary>
public sealed class WordVectors
{
    public int Dimension { get; }
    public IReadOnlyDictionary<string, float[]> Vectors { get; }

    private WordVectors(int dimension, Dictionary<string, float[]> vectors) =>
        (Dimension, Vectors) = (dimension, vectors);

    /// <summary>The widest vector accepted: far above any published embedding (GloVe, word2vec and fastText stop at
    /// 300).</summary>
    public const int MaxDimension = 4096;

    /// <summary>The most values a file may hold in all (GloVe 6B 300d holds 120 million): 600 MB of floats.</summary>
    public const long MaxValues = 150_000_000;

    /// <summary>The longest line read: a word and <see cref="MaxDimension"/> values in any notation fit well within
    /// it.</summary>
    public const int MaxLineCharacters = 1 << 20;

    /// <param name="maxWords">Lines beyond this many are an error, so a file cannot take unbounded memory.</param>
    /// <remarks>
    /// Every bound is checked as the file is read, before memory is taken for what would exceed it: a line without
    /// an end, a vector wider than <see cref="MaxDimension"/>, more than <see cref="MaxValues"/> values.
    /// </remarks>
    public static WordVectors Read(TextReader reader, int maxWords = 2_000_000, long maxValues = MaxValues)
    {
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var dimension = 0;
        var lineNumber = 0;
        var line = new System.Text.StringBuilder();
        while (ReadLine(reader, line, lineNumber + 1))
        {
            lineNumber++;
            var parts = line.ToString().TrimEnd().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
                continue;
            if (lineNumber == 1 && parts.Length == 2 && int.TryParse(parts[0], out _) && int.TryParse(parts[1], out _))
                continue;
            if (parts.Length < 2)
                throw new InvalidDataException($"line {lineNumber}: expected a word and its values.");
            if (parts.Length - 1 > MaxDimension)
                throw new InvalidDataException(
                    $"line {lineNumber}: {parts.Length - 1} values; at most {MaxDimension} are read.");
            if ((long)(vectors.Count + 1) * (parts.Length - 1) > maxValues)
                throw new InvalidDataException($"line {lineNumber}: the file holds more than {maxValues:N0} values.");
            var values = new float[parts.Length - 1];
            for (var i = 1; i < parts.Length; i++)
                if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i - 1])
                    || !float.IsFinite(values[i - 1]))
                    throw new InvalidDataException($"line {lineNumber}: value {i} is not a finite number.");
            if (dimension == 0)
                dimension = values.Length;
            else if (values.Length != dimension)
                throw new InvalidDataException($"line {lineNumber}: {values.Length} values, but the first vector has " +
                    $"{dimension}.");
            if (vectors.Count >= maxWords)
                throw new InvalidDataException($"More than {maxWords:N0} words.");
            vectors.TryAdd(parts[0], values);
        }
        if (vectors.Count == 0)
            throw new InvalidDataException("The file holds no vectors.");
        return new WordVectors(dimension, vectors);
    }

    /// <summary>The next line into <paramref name="line"/>; false at the end. A line longer than the bound is an
    /// error.</summary>
    private static bool ReadLine(TextReader reader, System.Text.StringBuilder line, int lineNumber)
    {
        line.Clear();
        var read = false;
        for (var c = reader.Read(); c != -1; c = reader.Read())
        {
            read = true;
            if (c == '\n')
                return true;
            if (c != '\r')
                line.Append((char)c);
            if (line.Length > MaxLineCharacters)
                throw new InvalidDataException($"line {lineNumber} is longer than {MaxLineCharacters:N0} characters.");
        }
        return read;
    }

    /// <summary>The seed of the projection from a vector file's dimension to a model's width (documented, so a run can
    /// be reproduced).</summary>
    public const int ProjectionSeed = 1_301;

    /// <summary>
    /// The fixed projection (dimension × nEmbd) applied when the two differ: entries N(0, 1/nEmbd) from a generator
    /// seeded with <see cref="ProjectionSeed"/>, so a vector's length is kept in expectation (Johnson–Lindenstrauss).
    /// </summary>
    public static Tensor Projection(int dimension, int nEmbd)
    {
        var generator = new Generator(ProjectionSeed);
        return randn([dimension, nEmbd], generator: generator) / Math.Sqrt(nEmbd);
    }

    /// <summary>
    /// The text a token stands for, to look up: the token decoded alone, trimmed, without WordPiece's "##"; null for
    /// tokens that are only whitespace.
    /// </summary>
    public static string? TextOf(ITokenizer tokenizer, int id)
    {
        var text = tokenizer.Decode([id]).Trim();
        if (text.StartsWith("##", StringComparison.Ordinal) && text.Length > 2)
            text = text[2..];
        return text.Length == 0 ? null : text;
    }

    /// <summary>
    /// Sets every embedding row whose token's text has a vector (as written, else lower-cased) to that vector,
    /// projected when the dimensions differ; the other rows keep their initialisation. Returns the share of the
    /// vocabulary covered.
    /// </summary>
    public double InitialiseEmbedding(Gpt model, ITokenizer tokenizer)
    {
        var nEmbd = model.Config.NEmbd;
        var rows = new List<long>();
        var values = new List<float>();
        for (var id = 0; id < model.Config.VocabSize; id++)
        {
            if (TextOf(tokenizer, id) is not { } text)
                continue;
            if (Vectors.TryGetValue(text, out var vector) || Vectors.TryGetValue(text.ToLowerInvariant(), out vector))
            {
                rows.Add(id);
                values.AddRange(vector);
            }
        }
        if (rows.Count == 0)
            return 0;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var embedding = model.TokenEmbedding;
        var found = tensor(values.ToArray(), [rows.Count, Dimension]);
        var projected = Dimension == nEmbd ? found : found.matmul(Projection(Dimension, nEmbd));
        embedding.index_copy_(0, tensor(rows.ToArray()).to(embedding.device),
            projected.to(embedding.dtype).to(embedding.device));
        return (double)rows.Count / model.Config.VocabSize;
    }
}
