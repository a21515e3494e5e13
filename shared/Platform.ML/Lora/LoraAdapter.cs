using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.ML;

/// <summary>One projection's low-rank pair: A (rank × in), B (out × rank).</summary>
public sealed class LoraPair : Module
{
    private readonly Parameter lora_A;
    private readonly Parameter lora_B;

    public LoraPair(int inFeatures, int outFeatures, int rank) : base(nameof(LoraPair))
    {
        // PEFT's init: A as nn.Linear's default (Kaiming-uniform, a = √5), B zero.
        lora_A = Parameter(empty(rank, inFeatures));
        lora_B = Parameter(zeros(outFeatures, rank));
        using (no_grad())
            init.kaiming_uniform_(lora_A, a: Math.Sqrt(5));
        RegisterComponents();
    }

    public Tensor A => lora_A;
    public Tensor B => lora_B;

    /// <summary>(x·Aᵀ)·Bᵀ, in the compute type when one is given.</summary>
    public Tensor Delta(Tensor x, ScalarType? compute) =>
        MixedPrecision.Linear(MixedPrecision.Linear(x, lora_A, null, compute), lora_B, null, compute);

    /// <summary>B·A, the full-rank update this pair stands for (unscaled).</summary>
    public Tensor Product() => lora_B.matmul(lora_A);
}

/// <summary>
/// The adapters of a GPT: one <see cref="LoraPair"/> per targeted projection of every block. The base stays frozen and
/// is not part of this module, so one base can serve many adapters (each request names its own, see
/// <see cref="Gpt.Forward(Tensor, LoraAdapter?)"/>) and an adapter's file holds only its own weights.
/// </summary>
public sealed class LoraAdapter : Module
{
    /// <summary>Projections a block can adapt, by the target that selects them, with (in, out) as multiples of
    /// nEmbd.</summary>
    public static readonly IReadOnlyList<(string Name, string Target, int In, int Out)> Projections =
    [
        ("attn.c_attn", LoraTargets.Attention, 1, 3),
        ("attn.c_proj", LoraTargets.Attention, 1, 1),
        ("mlp.c_fc", LoraTargets.Mlp, 1, 4),
        ("mlp.c_proj", LoraTargets.Mlp, 4, 1),
    ];

    private readonly ModuleList<LoraPair> pairs;
    private readonly Dictionary<(int Layer, string Projection), int> _index = [];

    public LoraConfig Config { get; }
    public GptConfig Base { get; }

    public LoraAdapter(GptConfig baseConfig, LoraConfig config) : base(nameof(LoraAdapter))
    {
        if (config.Rank < 1)
            throw new ArgumentOutOfRangeException(nameof(config), "The rank must be at least 1.");
        (Config, Base) = (config, baseConfig);
        var list = new List<LoraPair>();
        for (var layer = 0; layer < baseConfig.NLayer; layer++)
            foreach (var (name, target, inMultiple, outMultiple) in Projections.Where(p => config.Adapts(p.Target)))
            {
                _index[(layer, name)] = list.Count;
                list.Add(new LoraPair(inMultiple * baseConfig.NEmbd, outMultiple * baseConfig.NEmbd, config.Rank));
            }
        pairs = new ModuleList<LoraPair>(list.ToArray());
        RegisterComponents();
    }

    /// <summary>The scaled low-rank term to add to projection <paramref name="projection"/> of block <paramref
    /// name="layer"/>, or null when it is not adapted.</summary>
    public Tensor? Delta(int layer, string projection, Tensor x, ScalarType? compute)
    {
        if (!_index.TryGetValue((layer, projection), out var i))
            return null;
        var input = SeededDropout.Apply(x, Config.Dropout, training);
        return pairs[i].Delta(input, compute).mul(Config.Scale);
    }

    /// <summary>Adds every scaled B·A to the base's weights: the merged GPT computes what base + adapter
    /// computes.</summary>
    public void MergeInto(Gpt model)
    {
        using var _ = no_grad();
        var weights = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var ((layer, projection), i) in _index)
        {
            var weight = weights[$"h.{layer}.{projection}.weight"];
            weight.add_(pairs[i].Product().to(weight.dtype).to(weight.device).mul(Config.Scale));
        }
    }

    public long Parameters => parameters().Sum(p => p.numel());
}
