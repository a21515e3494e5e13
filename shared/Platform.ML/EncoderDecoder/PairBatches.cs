using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>One batch of pairs, padded to its own longest source and target: source ids with &lt;/s&gt;, decoder input
/// &lt;s&gt; + target, labels target + &lt;/s&gt;.</summary>
public sealed record PairBatch(Tensor Source, Tensor DecoderInput, Tensor Labels);

/// <summary>
/// Batches of pairs from a pair file, whose pairs are sorted by length: a batch is a run of neighbouring pairs from a
/// random start, so it holds pairs of similar length and is padded to its own longest, not to a global maximum.
/// Longer pairs are cut to the model's lengths (the source keeps its &lt;/s&gt;).
/// </summary>
public sealed class PairBatches : IDisposable
{
    private readonly PairReader _pairs;
    private readonly EncoderDecoderConfig _config;
    private readonly Device _device;

    public PairBatches(PairReader pairs, EncoderDecoderConfig config, Device device)
    {
        if (pairs.Count == 0)
        {
            pairs.Dispose();
            throw new ArgumentException("A split holds no pairs.");
        }
        (_pairs, _config, _device) = (pairs, config, device);
        MeanTokensPerPair = Enumerable.Range(0, pairs.Count).Average(i => (double)SourceLength(i) + TargetLength(i));
    }

    public static PairBatches FromFile(string path, EncoderDecoderConfig config, Device device) =>
        new(PairFile.Open(path), config, device);

    public int Count => _pairs.Count;

    /// <summary>Source and decoder positions per pair, after cutting and with their special tokens, on
    /// average.</summary>
    public double MeanTokensPerPair { get; }

    private int SourceLength(int i) => Math.Min(_pairs.SourceLength(i) + 1, _config.MaxSourceLength);
    private int TargetLength(int i) => Math.Min(_pairs.TargetLength(i) + 1, _config.MaxTargetLength);

    public PairBatch Sample(int batchSize, Generator generator)
    {
        var size = Math.Min(batchSize, Count);
        using var start = randint(0, Count - size + 1, [1], dtype: ScalarType.Int64, generator: generator);
        var first = (int)start.item<long>();
        return At(Enumerable.Range(first, size).ToArray());
    }

    /// <summary>The given pairs (by their index in length order), padded to their longest.</summary>
    public PairBatch At(IReadOnlyList<int> pairs)
    {
        var (source, target) = (_config.SourceSpecials, _config.TargetSpecials);
        var sourceWidth = pairs.Max(SourceLength);
        var targetWidth = pairs.Max(TargetLength);
        var sourceIds = new long[pairs.Count * sourceWidth];
        var inputIds = new long[pairs.Count * targetWidth];
        var labelIds = new long[pairs.Count * targetWidth];
        Array.Fill(sourceIds, source.Pad);
        Array.Fill(inputIds, target.Pad);
        Array.Fill(labelIds, target.Pad);
        for (var row = 0; row < pairs.Count; row++)
        {
            var s = _pairs.Source(pairs[row]);
            var kept = SourceLength(pairs[row]) - 1;
            for (var i = 0; i < kept; i++)
                sourceIds[row * sourceWidth + i] = s[i];
            sourceIds[row * sourceWidth + kept] = source.Eos;

            var t = _pairs.Target(pairs[row]);
            var length = TargetLength(pairs[row]) - 1;
            inputIds[row * targetWidth] = target.Bos;
            for (var i = 0; i < length; i++)
            {
                inputIds[row * targetWidth + i + 1] = t[i];
                labelIds[row * targetWidth + i] = t[i];
            }
            // A target cut short has no </s> to learn: its last label is a real token.
            labelIds[row * targetWidth + length] = length == _pairs.TargetLength(pairs[row]) ? target.Eos : t[length];
        }
        return new PairBatch(
            tensor(sourceIds, [pairs.Count, sourceWidth]).to(_device),
            tensor(inputIds, [pairs.Count, targetWidth]).to(_device),
            tensor(labelIds, [pairs.Count, targetWidth]).to(_device));
    }

    /// <summary>The source and target ids of a pair as stored (no special tokens).</summary>
    public (int[] Source, int[] Target) Pair(int index) => (_pairs.Source(index), _pairs.Target(index));

    public void Dispose() => _pairs.Dispose();
}
