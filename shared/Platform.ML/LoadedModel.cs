using System.Security.Cryptography;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// A checkpoint and its tokenizer(s), ready to score or sample: a GPT (<see cref="Model"/>) or an encoder-decoder
/// (<see cref="EncoderDecoder"/>, whose source side may have its own tokenizer).
/// </summary>
public sealed class LoadedModel(nn.Module network, ITokenizer tokenizer, ITokenizer? sourceTokenizer = null,
    LoraAdapter? adapter = null,
    bool ownsNetwork = true) : IDisposable
{
    public nn.Module Network { get; } = network;

    /// <summary>A LoRA version served on a shared base: the adapters every forward pass adds (the base is <see
    /// cref="Network"/>, not owned).</summary>
    public LoraAdapter? Adapter { get; } = adapter;

    /// <summary>The GPT; an encoder-decoder has none.</summary>
    public Gpt Model => Network as Gpt
        ?? throw new InvalidOperationException("This model is an encoder-decoder, not a GPT.");

    public EncoderDecoder? EncoderDecoder => Network as EncoderDecoder;

    /// <summary>The tokenizer of the model's output (the target side of an encoder-decoder).</summary>
    public ITokenizer Tokenizer { get; } = tokenizer;

    /// <summary>The tokenizer of an encoder-decoder's input: its own when the dataset had one per side.</summary>
    public ITokenizer SourceTokenizer { get; } = sourceTokenizer ?? tokenizer;

    /// <summary>The UTF-8 guard for sampling a byte-level BPE model's output (null for other tokenizers), built on
    /// first use.</summary>
    public Utf8Constraint? Utf8 => _utf8.Value;
    private readonly Lazy<Utf8Constraint?> _utf8 = new(() => Utf8Constraint.For(tokenizer));

    /// <summary>An encoder-decoder's decoder packed for decoding, built on first use and freed with the model; null for
    /// a GPT (its batcher packs its own) or a model that cannot be packed.</summary>
    public PackedEncoderDecoder? PackedDecoder => _packedDecoder.Value;
    private readonly Lazy<PackedEncoderDecoder?> _packedDecoder = new(() =>
        network is EncoderDecoder e && PackedEncoderDecoder.Supports(e) ? new PackedEncoderDecoder(e) : null);

    /// <summary>Throws unless the file is byte for byte the one that was registered.</summary>
    public static void Verify(string path, string expectedSha256)
    {
        using var stream = File.OpenRead(path);
        var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"Checkpoint {Path.GetFileName(path)} has sha256 {actual}, expected " +
                $"{expectedSha256}: it was changed or corrupted.");
    }

    /// <summary>
    /// Loads a checkpoint after checking it is byte for byte the one that was registered. A LoRA version's file is
    /// loaded on its base (found through <paramref name="artifactPath"/> and verified too) and merged into it.
    /// </summary>
    public static LoadedModel Load(string checkpointPath, string expectedSha256, string tokenizerPath,
        Device? device = null,
        string? sourceTokenizerPath = null, Func<string, string>? artifactPath = null)
    {
        Verify(checkpointPath, expectedSha256);
        var tokenizer = TokenizerFile.Load(tokenizerPath);
        var sourceTokenizer = sourceTokenizerPath is null ? tokenizer : TokenizerFile.Load(sourceTokenizerPath);
        var network = LoadNetwork(checkpointPath, artifactPath, device);
        var (vocab, sourceVocab) = network switch
        {
            Gpt gpt => (gpt.Config.VocabSize, gpt.Config.VocabSize),
            EncoderDecoder e => (e.Config.TargetVocabSize, e.Config.SourceVocabSize),
            _ => (-1, -1),
        };
        if (vocab != tokenizer.VocabSize || sourceVocab != sourceTokenizer.VocabSize)
        {
            network.Dispose();
            throw new InvalidDataException($"Checkpoint vocabulary {vocab} (source {sourceVocab}) does not match its " +
                $"tokenizers' {tokenizer.VocabSize} (source {sourceTokenizer.VocabSize}).");
        }
        return new LoadedModel(network, tokenizer, sourceTokenizerPath is null ? null : sourceTokenizer);
    }

    /// <summary>
    /// The model a version's file describes (not verified here): a GPT or an encoder-decoder, or a LoRA adapter merged
    /// into its base, which is found through <paramref name="artifactPath"/> and verified against its sha256.
    /// </summary>
    public static nn.Module LoadNetwork(string path, Func<string, string>? artifactPath, Device? device = null) =>
        LoraCheckpoint.ReadHeader(path) is { } lora
            ? LoadMerged(path, lora, artifactPath
            ?? throw new InvalidDataException("A LoRA version needs its base's checkpoint."), device)
            : Checkpoint.LoadAny(path, device);

    /// <summary>The base GPT with the adapter's B·A added to its weights: computes what base + adapter
    /// computes.</summary>
    public static Gpt LoadMerged(string adapterPath, LoraHeader header, Func<string, string> artifactPath,
        Device? device = null)
    {
        var basePath = artifactPath(header.BaseCheckpointKey);
        Verify(basePath, header.BaseCheckpointSha256);
        var model = Checkpoint.LoadAny(basePath, device) as Gpt
            ?? throw new InvalidDataException("A LoRA adapter's base must be a GPT.");
        var (_, adapter) = LoraCheckpoint.Load(adapterPath, device);
        using (adapter)
            adapter.MergeInto(model);
        return model;
    }

    /// <summary>A LoRA version served on a loaded base: shares the base's network and tokenizers, owns only its
    /// adapter.</summary>
    public LoadedModel WithAdapter(LoraAdapter adapter) =>
        new(Network, Tokenizer, SourceTokenizer == Tokenizer ? null : SourceTokenizer, adapter, ownsNetwork: false);

    public void Dispose()
    {
        Adapter?.Dispose();
        if (ownsNetwork)
            Network.Dispose();
        if (_utf8.IsValueCreated)
            _utf8.Value?.Dispose();
        if (_packedDecoder.IsValueCreated)
            _packedDecoder.Value?.Dispose();
    }
}
