using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Shape of a GPT decoder-only Transformer (nanoGPT's GPTConfig). Activation is the MLP's: "gelu" (exact, nanoGPT's) or
/// "gelu_new" (the tanh approximation OpenAI's GPT-2 was trained with, kept for imported GPT-2 weights).
/// </summary>
public sealed record GptConfig(int VocabSize, int BlockSize, int NLayer, int NHead, int NEmbd, double Dropout = 0.0,
    bool Bias = true,
    string Activation = GptConfig.Gelu)
{
    public const string Gelu = "gelu", GeluTanh = "gelu_new";

    /// <summary>
    /// Type the matmuls compute in: null for the parameters' own (fp32), or bf16 (see <see cref="MixedPrecision"/>);
    /// logits are fp32 either way. How the model runs, not what it is: a checkpoint records <see cref="Shape"/>.
    /// </summary>
    [JsonIgnore]
    public ScalarType? ComputeType { get; init; }

    /// <summary>The model's shape alone, without how it computes.</summary>
    public GptConfig Shape() => this with { ComputeType = null };

    /// <summary>The embedding table is padded to a multiple of 64 rows (faster matmuls); ids past VocabSize are never
    /// produced.</summary>
    public int PaddedVocabSize => (VocabSize + 63) / 64 * 64;

    public int HeadSize => NEmbd / NHead;

    /// <summary>Parameter count without position embeddings, as nanoGPT reports it.</summary>
    public long NonEmbeddingParameters => (long)NLayer * (12L * NEmbd * NEmbd + (Bias ? 13L * NEmbd : 2L * NEmbd))
        + (Bias ? 2L * NEmbd : NEmbd);
}
