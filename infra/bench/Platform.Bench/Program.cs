using System.Diagnostics;
using Platform.ML;
using Platform.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

// Training benchmark against nanoGPT's numbers on the same machine (see docs/benchmarks.md).
//   dotnet run -c Release --project infra/bench/Platform.Bench --
//       [small|baby|all|generate|utf8|precision|seq2seq|lora|attention|memory|dropout|structured|llama]
//       [--threads N]
//       [--steps N] [--baby-steps N] [--recompute] [--precision fp32|bf16] [--corpus PATH] [--every N]
var mode = args.FirstOrDefault(a => !a.StartsWith("--")) ?? "all";
var threads = IntArg("--threads", 0);
var recompute = args.Contains("--recompute");
var precision = StringArg("--precision", "fp32");
var device = StringArg("--device", "cpu") == "cuda" ? CUDA : CPU;
// With TorchSharp-cuda-linux the CUDA libraries load at start; with LibTorch's CUDA libraries from elsewhere
// (LD_LIBRARY_PATH, e.g. a PyTorch installation's torch/lib) they load only when asked for.
if (device.type == DeviceType.CUDA)
    InitializeDeviceType(DeviceType.CUDA);
var peakTflops = double.Parse(StringArg("--peak-tflops", "0"), System.Globalization.CultureInfo.InvariantCulture);
var corpusPath = StringArg("--corpus", Path.Combine(FindRoot(), "infra", "demo", "tinyshakespeare.txt"));

var text = File.ReadAllText(corpusPath);
var tokenizer = CharTokenizer.Train([new StringReader(text)]);
var ids = tokenizer.Encode(text);
var split = (int)(ids.Length * 0.9);
var allocator = File.ReadAllText("/proc/self/maps").Contains("libjemalloc")
    ? $"jemalloc ({Environment.GetEnvironmentVariable("MALLOC_CONF")})" : "glibc malloc";
Console.WriteLine($"allocator: {allocator}");
Console.WriteLine($"corpus {Path.GetFileName(corpusPath)}: {text.Length:N0} characters, vocabulary " +
    $"{tokenizer.VocabSize}, " +
                  $"{split:N0} train / {ids.Length - split:N0} validation tokens");

// nanoGPT README's CPU run: n_layer 4, n_head 4, n_embd 128, block 64, batch 12, dropout 0, lr 1e-3,
// 2,000 iters with lr decay to 1e-4, warmup 100, beta2 0.99, eval every 250 over 20 batches.
var smallConfig = new GptConfig(tokenizer.VocabSize, 64, 4, 4, 128, 0.0);
var smallOptions = new TrainerOptions
{
    MaxSteps = IntArg("--steps", 2000),
    BatchSize = 12,
    LearningRate = 1e-3,
    MinLearningRate = 1e-4,
    WarmupSteps = 100,
    Beta2 = 0.99,
    EvalInterval = 250,
    EvalIters = 20,
    LogInterval = 1,
    Seed = 1337,
};
if (mode is "attention")
    AttentionBench(threads > 0 ? threads : Environment.ProcessorCount);
if (mode is "memory")
{
    using var train = new TokenBatches(ids[..split], smallConfig.BlockSize, device);
    using var validation = new TokenBatches(ids[split..], smallConfig.BlockSize, device);
    var options = smallOptions with { MaxSteps = IntArg("--steps", 10_000), LogInterval = 1 };
    MemoryBench.Run(smallConfig, options, train, validation, threads > 0 ? threads : 1, MixedPrecision.Parse(precision),
        IntArg("--every", 500));
}
if (mode is "small" or "all")
    Bench("small (nanoGPT CPU config)", smallConfig, smallOptions, threads > 0 ? threads : 1, precision);
if (mode is "precision")
{
    // The same run in fp32 and in bf16: how far apart the evaluated losses end up (bf16 is acceptable within 0.02).
    var fp32 = Bench("small (nanoGPT CPU config)", smallConfig, smallOptions, threads > 0 ? threads : 1, "fp32");
    var bf16 = Bench("small (nanoGPT CPU config)", smallConfig, smallOptions, threads > 0 ? threads : 1, "bf16");
    Console.WriteLine("\n== bf16 against fp32, at every evaluation");
    foreach (var (a, b) in fp32.Zip(bf16))
        Console.WriteLine($"   iter {a.Step,5}: val loss {a.ValidationLoss:F4} / {b.ValidationLoss:F4} (Δ " +
            $"{Signed(b.ValidationLoss - a.ValidationLoss)}), " +
                          $"train loss {a.TrainLoss:F4} / {b.TrainLoss:F4} (Δ {Signed(b.TrainLoss - a.TrainLoss)})");
    var largest = fp32.Zip(bf16).Max(p => Math.Max(Math.Abs(p.First.ValidationLoss - p.Second.ValidationLoss),
        Math.Abs(p.First.TrainLoss - p.Second.TrainLoss)));
    Console.WriteLine($"   largest difference: {largest:F4}");
}
if (mode is "baby" or "all")
{
    // nanoGPT's "baby GPT" (config/train_shakespeare_char.py) timed over 20 iterations.
    Bench("baby GPT", new GptConfig(tokenizer.VocabSize, 256, 6, 6, 384, 0.2), new TrainerOptions
    {
        MaxSteps = IntArg("--baby-steps", 20),
        BatchSize = 64,
        LearningRate = 1e-3,
        MinLearningRate = 1e-4,
        WarmupSteps = 100,
        Beta2 = 0.99,
        EvalInterval = 1_000_000,
        EvalIters = 1,
        LogInterval = 1,
        Seed = 1337,
    }, threads > 0 ? threads : Environment.ProcessorCount, precision);
}

if (mode is "dates-file")
{
    // The demo's paired dataset: infra/demo/dates.tsv is this mode's output for 4,000 pairs, seed 1.
    var path = args.SkipWhile(a => a != "dates-file").Skip(1).FirstOrDefault() ?? "dates.tsv";
    File.WriteAllLines(path, Seq2SeqBench.Dates(IntArg("--pairs", 4000), 1).Select(p => $"{p.Source}\t{p.Target}"));
    Console.WriteLine($"wrote {path}");
    return;
}
if (mode is "lora")
    LoraBench.Run(args.SkipWhile(a => a != "--phase").Skip(1).FirstOrDefault(), ids, split, tokenizer.VocabSize,
        threads > 0 ? threads : 1,
        IntArg("--steps", 200), IntArg("--base-steps", 500), args);
if (mode is "seq2seq")
    Seq2SeqBench.Run(IntArg("--steps", 900), threads > 0 ? threads : Environment.ProcessorCount, precision,
        double.Parse(StringArg("--label-smoothing", "0"), System.Globalization.CultureInfo.InvariantCulture),
        IntArg("--pairs", 5000));

if (mode is "structured")
    await StructuredBench.RunAsync(text, threads > 0 ? threads : 1, IntArg("--rounds", 5), IntArg("--max-tokens", 200));

if (mode is "llama")
    await LlamaBench.RunAsync(threads > 0 ? threads : Environment.ProcessorCount, IntArg("--prompt", 64),
        IntArg("--new-tokens", 256), IntArg("--long-prompt", 512), [4, 16]);

if (mode is "prefill")
    await PrefillBench.RunAsync(threads > 0 ? threads : Environment.ProcessorCount, IntArg("--prefix", 1000),
        IntArg("--streams", 4), IntArg("--rounds", 3));

if (mode is "speculative-trained")
    await SpeculativeBench.TrainedCopierAsync(text, threads > 0 ? threads : Environment.ProcessorCount,
        IntArg("--rounds", 5), IntArg("--steps", 1500));

if (mode is "speculative")
    await SpeculativeBench.RunAsync(threads > 0 ? threads : Environment.ProcessorCount, IntArg("--new-tokens", 256),
        IntArg("--rounds", 3));

if (mode is "dropout")
    DropoutBench.Run(threads > 0 ? threads : Environment.ProcessorCount, IntArg("--steps", 5),
        precision == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32);

if (mode is "generate")
{
    // Decoding speed, single stream, 500 new tokens: with the KV cache and with full recomputation of the window.
    set_num_threads(threads > 0 ? threads : 1);
    foreach (var (name, config) in DecodingShapes(tokenizer.VocabSize))
    {
        manual_seed(1);
        using var model = new Gpt(config);
        var prompt = ids[..8];
        Console.WriteLine($"\n== generation, {name}, 500 new tokens, {(threads > 0 ? threads : 1)} thread(s)");
        foreach (var cached in new[] { true, false })
        {
            Sampler.Generate(model, prompt, new SamplingOptions(20, 0.8, 40, 1), useKvCache: cached); // warm-up
            var clock = Stopwatch.StartNew();
            double firstMs = 0;
            var count = 0;
            foreach (var _ in Sampler.Stream(model, prompt, new SamplingOptions(500, 0.8, 40, 1), useKvCache: cached))
                if (count++ == 0)
                    firstMs = clock.Elapsed.TotalMilliseconds;
            Console.WriteLine($"   {(cached ? "KV cache      " : "recomputation ")}: " +
                $"{count / clock.Elapsed.TotalSeconds,8:N0} tokens/s, first token after {firstMs:F1} ms");
        }
    }
}

if (mode is "batching")
{
    // Continuous batching in-process (no HTTP): N sequences of 200 tokens decoded together by one ContinuousBatcher,
    // against one stream of Sampler.Stream (KV cache), random weights.
    set_num_threads(threads > 0 ? threads : 1);
    foreach (var (name, config) in DecodingShapes(tokenizer.VocabSize))
    {
        manual_seed(1);
        using var model = new Gpt(config);
        model.eval();
        var prompt = ids[..8];
        Sampler.Generate(model, prompt, new SamplingOptions(20, 0.8, 40, 1)); // warm-up
        var clock = Stopwatch.StartNew();
        var single = Sampler.Generate(model, prompt,
            new SamplingOptions(200, 0.8, 40, 1)).Length / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"\n== continuous batching, {name}, 200 new tokens per sequence, " +
            $"{(threads > 0 ? threads : 1)} thread(s); Sampler.Stream alone: {single:N0} tokens/s");
        // The ceiling batching can reach: a step is mostly the model's matrix products, so N rows can gain at most
        // N × (one row's product time) / (N rows' product time) over one stream, whatever the decoder does around them.
        var oneRow = StepProductsMicros(model, 1);
        foreach (var rows in new[] { 16, 64 })
        {
            var many = StepProductsMicros(model, rows);
            Console.WriteLine($"   the model's matrix products (fp32): 1 row {oneRow:F0} µs, {rows} rows {many:F0} " +
                $"µs: {rows} rows at once gain at most {rows * oneRow / many:F2}×");
        }
        foreach (var rows in new[] { 1, 16, 64 })
        {
            var many = StepProductsMicros(model, rows, packed: true);
            Console.WriteLine($"   the same, packed: {rows} rows {many:F0} µs: {rows * oneRow / many:F2}× LibTorch's " +
                $"one row");
        }
        // Packed weights (the default for fp32 on a CPU), then LibTorch's products padded to 16 rows and unpadded. The
        // packed batch's own one-sequence rate is the best single stream here, so its levels run 3 rounds and the
        // median of 16 sequences ÷ 1 sequence is printed: this machine's speed drifts between levels.
        foreach (var (minimumRows, packedWeights) in new[] { (16, true), (16, false), (1, false) })
        {
            var label = packedWeights ? "packed weights " : $"minimum rows {minimumRows,2}";
            using var batcher = new ContinuousBatcher(model, null, null,
                new ContinuousBatchingOptions { MinimumRows = minimumRows, PackedWeights = packedWeights });
            // Warm-up: the first request allocates the cache (and packs the weights), which a busy server does once.
            clock.Restart();
            await foreach (var _ in batcher.TrySubmit(prompt,
                [new SamplingOptions(1, 0.8, 40, 1)])![0].Tokens.ReadAllAsync())
            { }
            Console.WriteLine($"   {label}: first token {clock.Elapsed.TotalMilliseconds:F0} ms (cache " +
                $"allocated{(packedWeights ? ", weights packed" : "")})");
            var rounds = packedWeights ? 3 : 1;
            var ratios = new List<double>();
            for (var round = 1; round <= rounds; round++)
            {
                var alone = 0.0;
                foreach (var sequences in new[] { 1, 4, 16, 64 })
                {
                    clock.Restart();
                    var all = Enumerable.Range(0, sequences).Select(i =>
                        batcher.TrySubmit(prompt, [new SamplingOptions(200, 0.8, 40, i)])![0]).ToList();
                    var counts = await Task.WhenAll(all.Select(async s =>
                        { var n = 0; await foreach (var _ in s.Tokens.ReadAllAsync()) n++; return n; }));
                    var rate = counts.Sum() / clock.Elapsed.TotalSeconds;
                    if (sequences == 1)
                        alone = rate;
                    if (sequences == 16)
                        ratios.Add(rate / alone);
                    Console.WriteLine($"   {label}, {sequences,2} sequences: {rate,8:N0} tokens/s " +
                        $"({rate / single:F2}× one Sampler stream, {rate / alone:F2}× one sequence of this batch), " +
                                      $"{clock.Elapsed.TotalMilliseconds / 200:F2} ms a step"
                                      + (rounds > 1 ? $" [round {round}]" : ""));
                }
            }
            if (rounds > 1)
                Console.WriteLine($"   {label}: 16 sequences ÷ 1 sequence, median of {rounds} rounds: " +
                    $"{Median(ratios):F2}× ({string.Join(", ", ratios.Select(r => $"{r:F2}"))})");
        }
    }
}

if (mode is "generate" or "utf8")
{
    // The UTF-8 guard's cost: the same byte-level BPE model decoding 300 tokens with and without it, alternated, 5
    // rounds each.
    set_num_threads(threads > 0 ? threads : 1);
    var bpe = BpeTrainer.Train([new StringReader(text)], 8192);
    using var utf8 = Utf8Constraint.For(bpe)!;
    var prompt = bpe.Encode(text[..40]);
    foreach (var (name, config) in DecodingShapes(bpe.VocabSize))
    {
        manual_seed(1);
        using var model = new Gpt(config);
        Sampler.Generate(model, prompt, new SamplingOptions(20, 0.8, 40, 1), utf8: utf8); // warm-up
        var rates = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        for (var round = 0; round < 5; round++)
            foreach (var guarded in new[] { false, true })
            {
                var clock = Stopwatch.StartNew();
                var count = Sampler.Generate(model, prompt, new SamplingOptions(300, 0.8, 40, round), utf8: guarded
                    ? utf8 : null).Length;
                rates[guarded].Add(count / clock.Elapsed.TotalSeconds);
            }
        var (plain, safe) = (Median(rates[false]), Median(rates[true]));
        Console.WriteLine(
            $"\n== UTF-8 guard, byte-level BPE (vocabulary {bpe.VocabSize:N0}), {name}, 300 new tokens, " +
            $"median of 5");
        Console.WriteLine($"   unguarded {plain,8:N0} tokens/s, guarded {safe,8:N0} tokens/s: the guard costs " +
            $"{(plain - safe) / plain:P1}");
    }
}

List<EvalReport> Bench(string name, GptConfig config, TrainerOptions options, int torchThreads, string precision)
{
    set_num_threads(torchThreads);
    manual_seed(options.Seed);
    using var model = new Gpt(config with { ComputeType = MixedPrecision.Parse(precision) })
    {
        RecomputeActivations = recompute,
    };
    model.to(device);
    using var train = new TokenBatches(ids[..split], config.BlockSize, device);
    using var validation = new TokenBatches(ids[split..], config.BlockSize, device);
    var parameters = model.parameters().Sum(p => p.numel());
    Console.WriteLine($"\n== {name}: {parameters / 1e6:F2} M parameters, " +
        $"{config.NLayer}×{config.NHead}×{config.NEmbd}, block {config.BlockSize}, " +
                      $"batch {options.BatchSize}, {options.MaxSteps} iterations, {torchThreads} intra-op thread(s)" +
                      (recompute ? ", activations recomputed" : "") + $", {precision}");
    var observer = new BenchObserver(options.MaxSteps);
    var outcome = new Trainer(options).Train(model, train, validation, observer, CancellationToken.None);
    // Iteration times exclude evaluation, like nanoGPT's per-iter "time" (the first 5 iterations are warm-up).
    var steady = observer.StepMillis.Skip(5).ToList();
    var msPerIter = steady.Count > 0 ? steady.Average() : observer.StepMillis.Average();
    var tokensPerSecond = options.BatchSize * config.BlockSize * 1000.0 / msPerIter;
    Console.WriteLine($"   {msPerIter:F1} ms/iter (median {Median(steady):F1}), {tokensPerSecond:N0} tokens/s, peak " +
        $"RSS {RssMiB("VmHWM"):N0} MiB, " +
                      $"wall {outcome.Elapsed.TotalSeconds:F1} s");
    // nanoGPT's estimate: 6N + 12·L·H·Q·T FLOPs per token (N without position embeddings), against the chip's peak.
    var flopsPerToken = 6.0 * (parameters - config.BlockSize * config.NEmbd) + 12.0 * config.NLayer * config.NHead
        * config.HeadSize * config.BlockSize;
    var achievedTflops = flopsPerToken * tokensPerSecond / 1e12;
    Console.WriteLine($"   {achievedTflops:F3} TFLOP/s model FLOPs"
        + (peakTflops > 0 ? $", MFU {achievedTflops / peakTflops:P1} of {peakTflops} TFLOP/s" : ""));
    foreach (var e in observer.Evals.Where(e => e.Step is 0 or 250 or 500 or 1000 or 2000
        || e.Step == options.MaxSteps))
        Console.WriteLine($"   iter {e.Step,5}: train loss {e.TrainLoss:F4}, val loss {e.ValidationLoss:F4}");
    var before = RssMiB("VmRSS");
    var how = TorchRuntime.ReleaseFreeMemory();
    Console.WriteLine($"   RSS after training {before:N0} MiB, after handing freed memory back ({how}) " +
        $"{RssMiB("VmRSS"):N0} MiB");
    return observer.Evals;
}

// Causal attention's forward and backward pass, LibTorch's fused kernel against the written-out products that CPU
// training uses where they are faster (CausalSelfAttention): the median of 10 timings per shape and type.
static void AttentionBench(int torchThreads)
{
    set_num_threads(torchThreads);
    Console.WriteLine($"\n== causal attention, forward + backward, {torchThreads} intra-op thread(s), median of 10: " +
        $"fused kernel / written out");
    foreach (var (name, batch, heads, time, headSize) in new[] { ("small", 12, 4, 64, 32), ("baby GPT", 64, 6, 256, 64),
        ("block 1024", 8, 12, 1024, 64) })
        foreach (var type in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            double Millis(bool fused)
            {
                var timings = new List<double>();
                for (var round = 0; round < 12; round++)
                {
                    using var scope = NewDisposeScope();
                    var (q, k, v) = (Input(), Input(), Input());
                    var clock = Stopwatch.StartNew();
                    var y = fused
                        ? nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true)
                        : DropoutAttention.Probabilities(q, k).matmul(v);
                    y.sum().backward();
                    if (round >= 2)
                        timings.Add(clock.Elapsed.TotalMilliseconds);
                }
                return Median(timings);
            }
            Tensor Input() => randn(batch, heads, time, headSize, dtype: type).requires_grad_(true);
            var (fusedMs, writtenMs) = (Millis(true), Millis(false));
            Console.WriteLine($"   {name,-10} ({batch}×{heads}×{time}×{headSize}) " +
                $"{(type == ScalarType.BFloat16 ? "bf16" : "fp32")}: " +
                              $"{fusedMs,8:F2} / {writtenMs,8:F2} ms ({fusedMs / writtenMs:F2}×)");
        }
}

static string Signed(double value) =>
    Math.Round(value, 4).ToString("+0.0000;-0.0000;0.0000", System.Globalization.CultureInfo.InvariantCulture);

// The two shapes the decoding benchmarks measure: the demo's small model and a block-256 one.
static (string Name, GptConfig Config)[] DecodingShapes(int vocabulary) =>
[
    ("small (4×4×128, block 64)", new GptConfig(vocabulary, 64, 4, 4, 128)),
    ("block 256 (6×6×384)", new GptConfig(vocabulary, 256, 6, 6, 384)),
];

// The model's matrix products (every layer's attention qkv and output projections and its MLP's two, with its own
// weights, so that they come from memory as in a step) on random inputs of the given rows: the median of 100 timings,
// in µs.
static double StepProductsMicros(Gpt model, int rows, bool packed = false)
{
    using var _ = no_grad();
    using var scope = NewDisposeScope();
    var weights = model.named_parameters()
        .Where(p => p.name.EndsWith(".weight")
        && (p.name.Contains("c_attn") || p.name.Contains("c_proj") || p.name.Contains("c_fc")))
        .Select(p =>
        (W: p.parameter, P: packed ? new PackedLinear(p.parameter, null) : null, X: randn(rows, p.parameter.shape[1])))
        .ToList();
    var timings = new List<double>();
    for (var round = 0; round < 110; round++)
    {
        var clock = Stopwatch.StartNew();
        foreach (var (w, p, x) in weights)
            (p?.Apply(x) ?? nn.functional.linear(x, w)).Dispose();
        if (round >= 10)
            timings.Add(clock.Elapsed.TotalMicroseconds);
    }
    // The packed copies live in native memory, outside the dispose scope.
    foreach (var (_, p, _) in weights)
        p?.Dispose();
    return Median(timings);
}

static double Median(List<double> values) => values.Count == 0 ? double.NaN
    : values.Order().ElementAt(values.Count / 2);

static long RssMiB(string field)
{
    var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field + ":"));
    return line is null ? -1 : long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
}

int IntArg(string flag, int fallback) =>
    args.SkipWhile(a => a != flag).Skip(1).Select(int.Parse).DefaultIfEmpty(fallback).First();
string StringArg(string flag, string fallback) =>
    args.SkipWhile(a => a != flag).Skip(1).DefaultIfEmpty(fallback).First();

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
            return dir.FullName;
    return Directory.GetCurrentDirectory();
}

/// <summary>Per-iteration wall time between step reports (LogInterval 1), without the evaluations in between.</summary>
sealed class BenchObserver(int maxSteps) : ITrainingObserver
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _last;
    public List<double> StepMillis { get; } = [];
    public List<EvalReport> Evals { get; } = [];

    public void OnStep(StepReport report)
    {
        StepMillis.Add((_clock.Elapsed - _last).TotalMilliseconds);
        _last = _clock.Elapsed;
        if (report.Step % 100 == 0 || report.Step == maxSteps - 1)
            Console.WriteLine($"   iter {report.Step,5}: loss {report.Loss:F4}, {StepMillis[^1]:F1} ms");
    }

    public void OnEval(EvalReport report)
    {
        Evals.Add(report);
        _last = _clock.Elapsed;
    }
}
