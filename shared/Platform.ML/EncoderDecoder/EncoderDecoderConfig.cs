using Platform.Tokenizers;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Shape of an encoder-decoder Transformer (the founding document's worked example). Lengths count the special
/// tokens: a source holds at most MaxSourceLength ids including its &lt;/s&gt;, and the decoder sees at most
/// MaxTargetLength positions (&lt;s&gt; and the target, or the target and &lt;/s&gt; as labels). SharedEmbeddings
/// needs one vocabulary for both sides; the output head is always tied to the target embedding.
/// </summary>
public sealed record EncoderDecoderConfig(
    int SourceVocabSize,
    int TargetVocabSize,
    int NEncoderLayer,
    int NDecoderLayer,
    int NHead,
    int NEmbd,
    int MaxSourceLength,
    int MaxTargetLength,
    PairSpecialIds SourceSpecials,
    PairSpecialIds TargetSpecials,
    bool SharedEmbeddings = true,
    double Dropout = 0.0,
    bool Bias = true)
{
    public static int Padded(int vocabSize) => (vocabSize + 63) / 64 * 64;

    /// <summary>Type the matmuls compute in, as <see cref="GptConfig.ComputeType"/>: how the model runs, not its
    /// shape.</summary>
    [JsonIgnore]
    public ScalarType? ComputeType { get; init; }

    /// <summary>The model's shape alone, without how it computes.</summary>
    public EncoderDecoderConfig Shape() => this with { ComputeType = null };

    public int PaddedSourceVocabSize => Padded(SourceVocabSize);
    public int PaddedTargetVocabSize => Padded(TargetVocabSize);
    public int HeadSize => NEmbd / NHead;

    /// <summary>Parameters, counting a shared embedding once: per encoder layer 12·C² (attention 4·C², MLP 8·C²), per
    /// decoder layer 16·C² (cross-attention adds 4·C²), biases and LayerNorms, the embeddings.</summary>
    public long Parameters
    {
        get
        {
            long c = NEmbd;
            var encoderLayer = 12 * c * c + (Bias ? 13 * c : 2 * c);
            var decoderLayer = 16 * c * c + (Bias ? 19 * c : 3 * c);
            var layerNorms = 2 * (Bias ? 2 * c : c);
            var embeddings = (long)PaddedTargetVocabSize * c + (SharedEmbeddings ? 0 : (long)PaddedSourceVocabSize * c)
                             + (long)(MaxSourceLength + MaxTargetLength) * c;
            return NEncoderLayer * encoderLayer + NDecoderLayer * decoderLayer + layerNorms + embeddings;
        }
    }
}
