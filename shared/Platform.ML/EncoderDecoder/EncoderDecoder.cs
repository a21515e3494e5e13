using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>
/// Encoder-decoder Transformer: the encoder (embedding + learned positions, pre-LN blocks of self-attention over the
/// real source positions, final LayerNorm) turns the source X into states E; the decoder (embedding + positions,
/// pre-LN blocks of causal self-attention, attention over E and MLP, final LayerNorm) produces logits over the target
/// vocabulary through a head tied to the target embedding. Padding is found from the pad id, so callers pass ids only.
/// </summary>
public sealed class EncoderDecoder : Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding wte;
    private readonly Embedding? wte_source;
    private readonly Embedding wpe_source;
    private readonly Embedding wpe_target;
    private readonly SeededDropout drop;
    private readonly ModuleList<EncoderBlock> encoder;
    private readonly LayerNorm ln_encoder;
    private readonly ModuleList<DecoderBlock> decoder;
    private readonly LayerNorm ln_f;

    public EncoderDecoderConfig Config { get; }

    /// <summary>Type the matmuls compute in (the config's): null (fp32) or bf16, as for <see
    /// cref="Gpt.ComputeType"/>.</summary>
    public ScalarType? ComputeType => Config.ComputeType;

    public EncoderDecoder(EncoderDecoderConfig config) : base(nameof(EncoderDecoder))
    {
        if (config.SharedEmbeddings && config.SourceVocabSize != config.TargetVocabSize)
            throw new ArgumentException("Shared embeddings need one vocabulary for source and target.");
        Config = config;
        // wte is the target (and, when shared, the source) embedding; the head is tied to it.
        wte = Embedding(config.PaddedTargetVocabSize, config.NEmbd);
        wte_source = config.SharedEmbeddings ? null : Embedding(config.PaddedSourceVocabSize, config.NEmbd);
        wpe_source = Embedding(config.MaxSourceLength, config.NEmbd);
        wpe_target = Embedding(config.MaxTargetLength, config.NEmbd);
        drop = new SeededDropout(config.Dropout);
        encoder = new ModuleList<EncoderBlock>(Enumerable.Range(0, config.NEncoderLayer).Select(_ =>
            new EncoderBlock(config)).ToArray());
        ln_encoder = LayerNorm(config.NEmbd, bias: config.Bias);
        decoder = new ModuleList<DecoderBlock>(Enumerable.Range(0, config.NDecoderLayer).Select(_ =>
            new DecoderBlock(config)).ToArray());
        ln_f = LayerNorm(config.NEmbd, bias: config.Bias);
        RegisterComponents();
        InitialiseWeights();
    }

    // Its parts, for decoding and explanations (Decoding/), which run the same layers step by step.
    internal Embedding SourceEmbedding => wte_source ?? wte;
    internal Embedding TargetEmbedding => wte;
    internal Embedding SourcePositions => wpe_source;
    internal Embedding TargetPositions => wpe_target;
    internal ModuleList<EncoderBlock> EncoderBlocks => encoder;
    internal LayerNorm EncoderNorm => ln_encoder;
    internal ModuleList<DecoderBlock> DecoderBlocks => decoder;
    internal LayerNorm FinalNorm => ln_f;

    /// <summary>(batch, 1, 1, source time), true where a source id is not padding.</summary>
    public Tensor SourceMask(Tensor source) => source.ne(Config.SourceSpecials.Pad).unsqueeze(1).unsqueeze(1);

    /// <summary>Encoder states E (batch, source time, C) of source ids (batch, source time).</summary>
    public Tensor Encode(Tensor source, Tensor sourceMask)
    {
        var time = source.shape[1];
        if (time > Config.MaxSourceLength)
            throw new ArgumentException($"Source of {time} tokens is longer than maxSourceLength " +
                $"{Config.MaxSourceLength}.");
        var pos = arange(time, dtype: ScalarType.Int64, device: source.device);
        var x = drop.forward((wte_source ?? wte).forward(source) + wpe_source.forward(pos));
        foreach (var block in encoder)
        {
            using var scope = NewDisposeScope();
            x = block.forward(x, sourceMask).MoveToOuterDisposeScope();
        }
        return ln_encoder.forward(x);
    }

    /// <summary>Logits (batch, target time, target vocabulary) for source ids and decoder inputs (&lt;s&gt; then the
    /// target).</summary>
    public override Tensor forward(Tensor source, Tensor decoderInput)
    {
        var mask = SourceMask(source);
        var memory = Encode(source, mask);
        var time = decoderInput.shape[1];
        if (time > Config.MaxTargetLength)
            throw new ArgumentException($"Decoder input of {time} tokens is longer than maxTargetLength " +
                $"{Config.MaxTargetLength}.");
        var pos = arange(time, dtype: ScalarType.Int64, device: decoderInput.device);
        var x = drop.forward(wte.forward(decoderInput) + wpe_target.forward(pos));
        foreach (var block in decoder)
        {
            using var scope = NewDisposeScope();
            x = block.forward(x, memory, mask).MoveToOuterDisposeScope();
        }
        return Head(ln_f.forward(x));
    }

    // Tied to the target embedding's real rows: the padding rows are never a prediction.
    internal Tensor Head(Tensor x) =>
        MixedPrecision.Linear(x, wte.weight!.narrow(0, 0, Config.TargetVocabSize), null,
        Config.ComputeType).to(ScalarType.Float32);

    /// <summary>
    /// Mean cross-entropy over the real (non-padding) label positions, over the real vocabulary. With label smoothing
    /// ε the target distribution is (1 − ε) on the label plus ε spread evenly over the vocabulary (PyTorch's
    /// definition).
    /// </summary>
    public Tensor Loss(Tensor logits, Tensor labels, double labelSmoothing = 0.0)
    {
        var vocab = Config.TargetVocabSize;
        return functional.cross_entropy(logits.reshape(-1, vocab), labels.reshape(-1),
            ignore_index: Config.TargetSpecials.Pad, label_smoothing: labelSmoothing);
    }

    /// <summary>Copies another encoder-decoder's weights into this one (a fine-tune starts from them); every shape must
    /// agree.</summary>
    public void LoadWeightsFrom(EncoderDecoder source)
    {
        if (Config with { Dropout = 0 } != source.Config with { Dropout = 0 })
            throw new ArgumentException($"Cannot start {Config} from {source.Config}.", nameof(source));
        using var _ = no_grad();
        var from = source.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in named_parameters())
            parameter.copy_(from[name]);
    }

    // nanoGPT's init: N(0, 0.02), zero biases, output projections scaled by 1/sqrt(2·layers of their stack).
    private void InitialiseWeights()
    {
        using var _ = no_grad();
        foreach (var (name, module) in named_modules())
        {
            switch (module)
            {
                case Linear linear:
                    var layers = name.StartsWith("encoder", StringComparison.Ordinal) ? Config.NEncoderLayer
                    : Config.NDecoderLayer;
                    var std = name.EndsWith("c_proj", StringComparison.Ordinal) ? 0.02 / Math.Sqrt(2.0 * layers) : 0.02;
                    init.normal_(linear.weight!, 0.0, std);
                    if (linear.bias is not null)
                        init.zeros_(linear.bias);
                    break;
                case Embedding embedding:
                    init.normal_(embedding.weight!, 0.0, 0.02);
                    break;
            }
        }
    }
}
