using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>
/// GPT decoder-only Transformer: token + learned position embeddings, pre-LN blocks, final LayerNorm,
/// and an output head tied to the token embedding (logits = h · wteᵀ, so there is no separate head matrix).
/// </summary>
public sealed class Gpt : Module<Tensor, Tensor>
{
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly SeededDropout drop;
    private readonly ModuleList<Block> h;
    private readonly LayerNorm ln_f;

    public GptConfig Config { get; }

    /// <summary>Recompute each block's activations in the backward pass instead of keeping them (see <see
    /// cref="RecomputedBlock"/>).</summary>
    public bool RecomputeActivations { get; set; }

    /// <summary>Type the matmuls compute in (the config's): null for the parameters' own (fp32), or bf16.</summary>
    public ScalarType? ComputeType => Config.ComputeType;

    public Gpt(GptConfig config) : base(nameof(Gpt))
    {
        Config = config;
        wte = Embedding(config.PaddedVocabSize, config.NEmbd);
        wpe = Embedding(config.BlockSize, config.NEmbd);
        drop = new SeededDropout(config.Dropout);
        h = new ModuleList<Block>(Enumerable.Range(0, config.NLayer).Select(layer =>
            new Block(config, layer)).ToArray());
        ln_f = LayerNorm(config.NEmbd, bias: config.Bias);
        RegisterComponents();
        InitialiseWeights();
    }

    /// <summary>
    /// LoRA adapters that <see cref="forward"/> adds (what a LoRA fine-tune trains); not part of this module's state,
    /// so the base's checkpoint stays the base's. Null: the base alone.
    /// </summary>
    public LoraAdapter? Adapter { get; set; }

    /// <summary>The token embedding table (padded rows included), which the output head shares.</summary>
    public Tensor TokenEmbedding => wte.weight!;

    // Its parts, for decoding and explanations (Decoding/), which run the same layers step by step.
    internal Embedding Wte => wte;
    internal Embedding Wpe => wpe;
    internal ModuleList<Block> Blocks => h;
    internal LayerNorm FinalNorm => ln_f;

    /// <summary>Logits of shape (batch, time, vocab) for token ids of shape (batch, time): the real vocabulary
    /// only.</summary>
    public override Tensor forward(Tensor idx) => Forward(idx, Adapter);

    /// <summary>The same with the given LoRA adapters (null: the base alone), whatever is attached: one base serves
    /// many adapters.</summary>
    public Tensor Forward(Tensor idx, LoraAdapter? adapter) => Forward(idx, adapter, null);

    /// <summary>The same computed with the weights packed for decoding (null: LibTorch's products): what serving an
    /// int8 version computes, for scoring it.</summary>
    public Tensor Forward(Tensor idx, LoraAdapter? adapter, PackedGpt? packed) =>
        Head(FinalHidden(idx, adapter, packed), packed);

    /// <summary>The final hidden states (batch, time, embedding): after the last block and the final LayerNorm, what
    /// the head reads.</summary>
    internal Tensor FinalHidden(Tensor idx, LoraAdapter? adapter, PackedGpt? packed = null)
    {
        var time = idx.shape[1];
        if (time > Config.BlockSize)
            throw new ArgumentException($"Sequence of {time} tokens is longer than the block size {Config.BlockSize}.");
        var pos = arange(time, dtype: ScalarType.Int64, device: idx.device);
        var x = drop.forward(wte.forward(idx) + wpe.forward(pos));
        var recompute = RecomputeActivations && training && is_grad_enabled();
        foreach (var block in h)
        {
            // Each block's temporaries are released as soon as it returns: autograd keeps what backward needs
            // natively, so the step's dispose scope need not hold every intermediate of every layer.
            using var scope = NewDisposeScope();
            x = (recompute ? RecomputedBlock.Apply(block, x, adapter)
                : block.Forward(x, adapter, packed)).MoveToOuterDisposeScope();
        }
        return ln_f.forward(x);
    }

    /// <summary>
    /// Copies another GPT's weights into this one (fine-tuning starts from them). The shapes must agree, except that a
    /// smaller block takes the first rows of the position table; dropout is not a weight and may differ.
    /// </summary>
    public void LoadWeightsFrom(Gpt source)
    {
        if (Config.VocabSize != source.Config.VocabSize || Config.NLayer != source.Config.NLayer
            || Config.NHead != source.Config.NHead
            || Config.NEmbd != source.Config.NEmbd || Config.Bias != source.Config.Bias
            || Config.BlockSize > source.Config.BlockSize)
            throw new ArgumentException($"Cannot start {Config} from {source.Config}.", nameof(source));
        using var _ = no_grad();
        var from = source.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in named_parameters())
        {
            var value = from[name];
            parameter.copy_(name == "wpe.weight" ? value.narrow(0, 0, Config.BlockSize) : value);
        }
    }

    // Tied head: logits = h · wteᵀ over the real rows only, so the softmax of training, evaluation and sampling is over
    // the same tokens (the padding rows would otherwise take probability mass the real tokens must first win back).
    // Returned in fp32 whatever the compute type (the loss and sampling want it).
    internal Tensor Head(Tensor x, PackedGpt? packed = null) =>
        packed?.Head.Apply(x)
        ?? MixedPrecision.Linear(x, wte.weight!.narrow(0, 0, Config.VocabSize), null,
        Config.ComputeType).to(ScalarType.Float32);

    /// <summary>
    /// Mean cross-entropy of logits (batch, time, vocab) against target ids (batch, time), over the targets that are
    /// not <see cref="TokenBatches.IgnoredTarget"/>; 0 (and no gradient) when a batch has none, where a plain mean
    /// would be NaN.
    /// </summary>
    public static Tensor Loss(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var flat = targets.reshape(-1);
        var sum = functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), flat,
            ignore_index: TokenBatches.IgnoredTarget, reduction: Reduction.Sum);
        return (sum / flat.ne(TokenBatches.IgnoredTarget).sum().clamp_min(1)).MoveToOuterDisposeScope();
    }

    // nanoGPT's init: N(0, 0.02) for weights, zero biases, residual projections scaled by 1/sqrt(2·layers)
    // so the residual stream's variance does not grow with depth.
    private void InitialiseWeights()
    {
        using var _ = no_grad();
        foreach (var (name, module) in named_modules())
        {
            switch (module)
            {
                case Linear linear:
                    var std = name.EndsWith("c_proj", StringComparison.Ordinal) ? 0.02 / Math.Sqrt(2.0 * Config.NLayer)
                    : 0.02;
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
