using LLama;
using LLama.Common;
using LLama.Native;

namespace Platform.Tests.Interop;

/// <summary>
/// A GGUF file loaded in llama.cpp (through LLamaSharp, unmodified): the other side the exports are checked against.
/// Its key/value cache is f32, so an f32 export is compared with f32 arithmetic throughout.
/// </summary>
public sealed class LlamaCpp : IDisposable
{
    static LlamaCpp()
    {
        // llama.cpp reports every tensor it loads; the tests read its numbers, not its log.
        NativeLibraryConfig.All.WithLogCallback((level, message) =>
        {
            if (level >= LLamaLogLevel.Error)
                Console.Error.Write(message);
        });
    }

    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;

    public LlamaCpp(string path, int contextSize)
    {
        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)contextSize,
            BatchSize = (uint)contextSize,
            UBatchSize = (uint)contextSize,
            Threads = 1,
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
            FlashAttention = false,
        };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);
    }

    public int VocabSize => _weights.Vocab.Count;

    public int[] Tokenize(string text) =>
        _context.Tokenize(text, addBos: false, special: true).Select(t => (int)t).ToArray();

    /// <summary>The logits after every token of a fresh sequence, one row per position.</summary>
    public float[][] Logits(IReadOnlyList<int> ids)
    {
        _context.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        for (var i = 0; i < ids.Count; i++)
            batch.Add(ids[i], i, LLamaSeqId.Zero, true);
        Decode(batch);
        return Enumerable.Range(0, ids.Count).Select(i => _context.NativeHandle.GetLogitsIth(i).ToArray()).ToArray();
    }

    /// <summary>Greedy decoding: the prompt, then each new token fed back one at a time through the cache.</summary>
    public int[] Greedy(IReadOnlyList<int> prompt, int count)
    {
        var rows = Logits(prompt);
        var next = ArgMax(rows[^1]);
        var tokens = new List<int> { next };
        while (tokens.Count < count)
        {
            var batch = new LLamaBatch();
            batch.Add(next, prompt.Count + tokens.Count - 1, LLamaSeqId.Zero, true);
            Decode(batch);
            next = ArgMax(_context.NativeHandle.GetLogitsIth(0));
            tokens.Add(next);
        }
        return [.. tokens];
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
            if (values[i] > values[best])
                best = i;
        return best;
    }

    private void Decode(LLamaBatch batch)
    {
        var result = _context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok)
            throw new InvalidOperationException($"llama_decode: {result}");
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
