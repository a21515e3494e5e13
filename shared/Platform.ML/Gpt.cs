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

    /// <summary>Recompute each block's activations in the backward pass instead of keeping them (see <see cref="RecomputedBlock"/>).</summary>
    public bool RecomputeActivations { get; set; }

    /// <summary>
    /// Type the matmuls compute in: null for the parameters' own (fp32), or bf16 (see <see cref="MixedPrecision"/>).
    /// Logits are returned in fp32 either way.
    /// </summary>
    public ScalarType? ComputeType
    {
        get => _computeType;
        set
        {
            _computeType = value;
            foreach (var block in h)
                block.ComputeType = value;
        }
    }
    private ScalarType? _computeType;

    public Gpt(GptConfig config) : base(nameof(Gpt))
    {
        Config = config;
        wte = Embedding(config.PaddedVocabSize, config.NEmbd);
        wpe = Embedding(config.BlockSize, config.NEmbd);
        drop = new SeededDropout(config.Dropout);
        h = new ModuleList<Block>(Enumerable.Range(0, config.NLayer).Select(_ => new Block(config)).ToArray());
        ln_f = LayerNorm(config.NEmbd, bias: config.Bias);
        RegisterComponents();
        InitialiseWeights();
    }

    /// <summary>Logits of shape (batch, time, paddedVocab) for token ids of shape (batch, time).</summary>
    public override Tensor forward(Tensor idx)
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
            x = (recompute ? RecomputedBlock.Apply(block, x) : block.forward(x)).MoveToOuterDisposeScope();
        }
        return Head(ln_f.forward(x));
    }

    /// <summary>
    /// Logits of the last position only, for token ids appended after what the cache holds (inference: no
    /// dropout, no gradients). Positions continue from the cache's length.
    /// </summary>
    public Tensor ForwardLast(Tensor idx, KvCache cache)
    {
        var start = cache.Length;
        var time = idx.shape[1];
        if (start + time > Config.BlockSize)
            throw new ArgumentException($"Position {start + time} is past the block size {Config.BlockSize}.");
        var pos = arange(start, start + time, dtype: ScalarType.Int64, device: idx.device);
        var x = wte.forward(idx) + wpe.forward(pos);
        for (var layer = 0; layer < h.Count; layer++)
            x = h[layer].ForwardCached(x, cache, layer);
        return Head(ln_f.forward(x[.., ^1..]))[.., -1];
    }

    // Tied head: logits = h · wteᵀ, returned in fp32 whatever the compute type (the loss and sampling want it).
    private Tensor Head(Tensor x) => MixedPrecision.Linear(x, wte.weight!, null, _computeType).to(ScalarType.Float32);

    /// <summary>Mean cross-entropy of logits (batch, time, vocab) against target ids (batch, time).</summary>
    public static Tensor Loss(Tensor logits, Tensor targets) =>
        functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1));

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
                    var std = name.EndsWith("c_proj", StringComparison.Ordinal) ? 0.02 / Math.Sqrt(2.0 * Config.NLayer) : 0.02;
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
