using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace Platform.Tokenizers;

/// <summary>Ids a tokenizer reserves for sequence pairs: padding, start and end of sequence.</summary>
public sealed record PairSpecialIds(int Pad, int Bos, int Eos)
{
    public const string PadToken = "<pad>", BosToken = "<s>", EosToken = "</s>";
    public static readonly IReadOnlyList<string> Tokens = [PadToken, BosToken, EosToken];
}

/// <summary>Sidecar of a pair file ("{file}.json"): counts, the two vocabularies and their special ids.</summary>
public sealed record PairFileInfo(long Count, long SourceTokens, long TargetTokens, int SourceVocabSize,
    int TargetVocabSize,
    PairSpecialIds SourceSpecials, PairSpecialIds TargetSpecials, Guid TokenizerId)
{
    public static PairFileInfo Read(string pairFilePath) =>
        JsonSerializer.Deserialize<PairFileInfo>(File.ReadAllText(pairFilePath + ".json"))
        ?? throw new InvalidDataException($"Empty sidecar for {pairFilePath}.");

    public void Write(Stream stream) => JsonSerializer.Serialize(stream, this);
}

/// <summary>
/// Encoded sequence pairs, ordered by length so that neighbours batch with little padding: an 8-byte tag, the pair
/// count, each pair's (source length, target length) as int32, then every pair's source ids and target ids as uint32.
/// Ids carry no special tokens: batches add &lt;s&gt;, &lt;/s&gt; and padding.
/// </summary>
public static class PairFile
{
    private static readonly byte[] Tag = "PAIRS-1\0"u8.ToArray();

    /// <summary>Writes the pairs sorted by (target length, source length), stably; returns the ids written per
    /// side.</summary>
    public static (long SourceTokens, long TargetTokens) Write(Stream stream,
        IReadOnlyList<(int[] Source, int[] Target)> pairs)
    {
        var order = Enumerable.Range(0, pairs.Count).OrderBy(i => pairs[i].Target.Length).ThenBy(i =>
            pairs[i].Source.Length).ToArray();
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Tag);
        writer.Write((long)pairs.Count);
        foreach (var i in order)
        {
            writer.Write(pairs[i].Source.Length);
            writer.Write(pairs[i].Target.Length);
        }
        long sourceTokens = 0, targetTokens = 0;
        foreach (var i in order)
        {
            foreach (var id in pairs[i].Source)
                writer.Write(id);
            foreach (var id in pairs[i].Target)
                writer.Write(id);
            sourceTokens += pairs[i].Source.Length;
            targetTokens += pairs[i].Target.Length;
        }
        return (sourceTokens, targetTokens);
    }

    public static PairReader Open(string path) => new(path);
}

/// <summary>A pair file, memory-mapped; the index of lengths is held in memory (8 bytes a pair).</summary>
public sealed class PairReader : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly int[] _sourceLengths;
    private readonly int[] _targetLengths;
    private readonly long[] _offsets;

    internal PairReader(string path)
    {
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        Span<byte> tag = stackalloc byte[8];
        for (var i = 0; i < 8; i++)
            tag[i] = _view.ReadByte(i);
        if (!tag.SequenceEqual("PAIRS-1\0"u8))
        {
            Dispose();
            throw new InvalidDataException($"{Path.GetFileName(path)} is not a pair file.");
        }
        var count = _view.ReadInt64(8);
        _sourceLengths = new int[count];
        _targetLengths = new int[count];
        _offsets = new long[count];
        long offset = 16 + count * 8;
        for (var i = 0; i < count; i++)
        {
            _sourceLengths[i] = _view.ReadInt32(16 + i * 8);
            _targetLengths[i] = _view.ReadInt32(16 + i * 8 + 4);
            _offsets[i] = offset;
            offset += 4L * (_sourceLengths[i] + _targetLengths[i]);
        }
        if (offset > new FileInfo(path).Length)
        {
            Dispose();
            throw new InvalidDataException($"{Path.GetFileName(path)} is shorter than its index says.");
        }
    }

    public int Count => _offsets.Length;
    public int SourceLength(int pair) => _sourceLengths[pair];
    public int TargetLength(int pair) => _targetLengths[pair];

    public int[] Source(int pair) => Read(_offsets[pair], _sourceLengths[pair]);
    public int[] Target(int pair) => Read(_offsets[pair] + 4L * _sourceLengths[pair], _targetLengths[pair]);

    private int[] Read(long offset, int length)
    {
        var ids = new int[length];
        _view.ReadArray(offset, ids, 0, length);
        return ids;
    }

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}

public static class PairSpecials
{
    /// <summary>The &lt;pad&gt;, &lt;s&gt; and &lt;/s&gt; ids of a tokenizer built for pairs; InvalidDataException when
    /// it lacks one.</summary>
    public static PairSpecialIds Of(ITokenizer tokenizer)
    {
        int Id(string token) => tokenizer.SpecialTokenId(token)
                                ?? throw new InvalidDataException($"The tokenizer has no {token} token, which " +
                                $"sequence pairs need.");
        return new PairSpecialIds(Id(PairSpecialIds.PadToken), Id(PairSpecialIds.BosToken),
            Id(PairSpecialIds.EosToken));
    }
}
