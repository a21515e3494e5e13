using Platform.Tokenizers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ML;
using Training.Data;

using Training.Registry;

namespace Training.Runs;

/// <summary>
/// What a run will take, asked before it is accepted. VocabSizeAssumed says the dataset is not tokenized yet and a
/// vocabulary of <see cref="RunEstimator.AssumedVocabSize"/> was used (the worker checks again with the real one).
/// Seconds come from the FLOP rate this service's workers measured on their recent runs; null until one was measured.
/// Precision is what the memory was estimated for: the spec's, or what "auto" would choose, with the reason.
/// </summary>
public sealed record RunEstimate(
    long Parameters,
    int VocabSize,
    bool VocabSizeAssumed,
    long TokensPerStep,
    long Tokens,
    double TrainingFlops,
    MemoryEstimate Memory,
    bool Fits,
    double? MeasuredFlopsPerSecond,
    double? EstimatedSeconds,
    IReadOnlyList<string> Advice,
    string Precision,
    string PrecisionReason)
{
    /// <summary>Why it does not fit and what would, in words; null when it fits.</summary>
    public string? Explanation => Fits ? null : RunEstimator.Explain(this);
}

/// <summary>Estimates runs against this worker's memory (Training:MemoryLimitMiB, else the cgroup's or machine's
/// limit).</summary>
public sealed class RunEstimator(IOptions<TrainingOptions> options) : IImportMemory
{
    public const int AssumedVocabSize = 256;

    public long MemoryLimitBytes => options.Value.MemoryLimitMiB > 0
        ? options.Value.MemoryLimitMiB * 1024L * 1024
        : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>
    /// Parameters, FLOPs and memory against this worker's limit; no time (see <see cref="WithMeasuredTimeAsync"/>).
    /// <paramref name="measured"/> is this machine's timing of the shape, if any: what "auto" then chooses.
    /// </summary>
    public RunEstimate Estimate(RunSpec spec, int? vocabSize, PrecisionMeasurement? measured = null)
    {
        var vocab = vocabSize ?? AssumedVocabSize;
        var (precision, reason) = PrecisionFor(spec, vocab, measured);
        var estimate = Raw(spec.WithPrecision(precision), vocab);
        var limit = MemoryLimitBytes;
        var fits = estimate.PeakMemoryBytes <= limit;
        return new RunEstimate(estimate.Parameters, vocab, vocabSize is null, estimate.TokensPerStep, estimate.Tokens,
            estimate.TrainingFlops,
            new MemoryEstimate(estimate.PeakMemoryBytes, estimate.WeightsAndOptimizerBytes, estimate.ActivationBytes,
            estimate.BaselineBytes, limit),
            fits, null, null, fits ? [] : Advise(spec, vocab, limit), precision, reason);
    }

    /// <summary>
    /// The memory an import takes before its model is built: the model in fp32 and the largest tensor's read buffers
    /// (<see cref="ImportPlan.PeakBytes"/>), plus the worker's baseline, against this worker's limit.
    /// </summary>
    public MemoryEstimate Of(ImportPlan plan)
    {
        var baseline = options.Value.BaselineMemoryMiB * 1024L * 1024;
        var weights = plan.Parameters * 4;
        return new MemoryEstimate(plan.PeakBytes + baseline, weights, plan.PeakBytes - weights, baseline,
            MemoryLimitBytes);
    }

    /// <summary>Whether the run fits in memory in fp32 and in bf16 alike (then only speed decides "auto").</summary>
    public bool BothFit(RunSpec spec, int vocabSize) =>
        Precisions.Computed.All(p => Raw(spec.WithPrecision(p), vocabSize).PeakMemoryBytes <= MemoryLimitBytes);

    /// <summary>"auto: bf16, the faster for this shape on this machine: fp32 40.0 ms/step, bf16 21.7 ms/step"</summary>
    public static string MeasuredReason(PrecisionTiming timing, string when)
    {
        var which = timing.Faster == Precisions.Bf16 ? "bf16, the faster"
            : timing.Bf16Millis < timing.Fp32Millis
                ? $"fp32, as fast as bf16 within {PrecisionTiming.Tie:P0} (fp32 is exact),"
                : "fp32, the faster";
        return $"auto: {which} for this shape on this machine: {timing.Describe()}, {when}";
    }

    private (string Precision, string Reason) PrecisionFor(RunSpec spec, int vocab, PrecisionMeasurement? measured)
    {
        var asked = spec.Training.Precision;
        if (asked != Precisions.Auto)
            return (asked, $"training.precision asks for {asked}");
        var peak = Precisions.Computed.ToDictionary(p => p, p => Raw(spec.WithPrecision(p), vocab).PeakMemoryBytes);
        var limit = MemoryLimitBytes;
        if (peak[Precisions.Fp32] > limit && peak[Precisions.Bf16] <= limit)
            return (Precisions.Bf16, $"auto: only bf16 fits in the worker's memory (fp32 needs " +
                                     $"{GiB(peak[Precisions.Fp32])}, bf16 {GiB(peak[Precisions.Bf16])}, " +
                                     $"the worker has {GiB(limit)})");
        if (measured is not null && peak[Precisions.Fp32] <= limit)
        {
            var timing = new PrecisionTiming(measured.Fp32Millis, measured.Bf16Millis, measured.StepsEach);
            var when = $"measured by run {measured.RunId} at {measured.MeasuredAt:u}";
            return (timing.Faster, MeasuredReason(timing, when));
        }
        return (Precisions.Fp32, "auto: not timed on this machine yet, so the worker times fp32 and bf16 before " +
                                 "training (this estimate is fp32's, the larger)");
    }

    /// <summary>
    /// The estimate with its time: FLOPs at the rate this service's workers reached on the recent run closest in size
    /// (parameters, on a log scale). A small model is dominated by per-step overheads, a large one by its matrix
    /// products, so one rate for all would be wrong by an order of magnitude. No time until a run has recorded its
    /// cost.
    /// </summary>
    public static async Task<RunEstimate> WithMeasuredTimeAsync(RunEstimate estimate, TrainingDbContext db,
        CancellationToken cancellationToken)
    {
        var recent = await db.Runs.AsNoTracking().Where(r => r.Cost != null && r.Parameters != null
            && r.State != RunState.Deleted)
            .OrderByDescending(r => r.UpdatedAt).Take(20).ToListAsync(cancellationToken);
        var closest = recent.Where(r => r.Cost!.WallSeconds > 0 && r.Cost.Flops > 0)
            .MinBy(r => Math.Abs(Math.Log(r.Parameters!.Value) - Math.Log(Math.Max(1, estimate.Parameters))));
        if (closest is null)
            return estimate;
        var rate = closest.Cost!.Flops / closest.Cost.WallSeconds;
        return estimate with { MeasuredFlopsPerSecond = rate, EstimatedSeconds = estimate.TrainingFlops / rate };
    }

    /// <summary>"Needs 155.2 GiB of memory; this worker has 23.4 GiB." plus what would make it fit.</summary>
    internal static string Explain(RunEstimate e) =>
        $"The run needs about {GiB(e.Memory.PeakBytes)} of memory ({GiB(e.Memory.WeightsAndOptimizerBytes)} weights " +
        $"and AdamW state, {GiB(e.Memory.ActivationBytes)} activations, {GiB(e.Memory.BaselineBytes)} the worker " +
        $"itself); the training worker has {GiB(e.Memory.LimitBytes)}. " + string.Join(" ", e.Advice);

    private GptEstimate Raw(RunSpec spec, int vocabSize)
    {
        var m = spec.Model;
        var t = spec.Training;
        if (m.Architecture == Architectures.EncoderDecoder)
            return GptEstimate.For(TrainingJob.EncoderDecoderConfig(spec, vocabSize, vocabSize,
                new PairSpecialIds(0, 1, 2), new PairSpecialIds(0, 1, 2), shared: true),
                t.BatchSize, t.GradientAccumulationSteps, t.MaxSteps, t.Precision == Precisions.Bf16,
                options.Value.BaselineMemoryMiB * 1024L * 1024);
        var config = new GptConfig(vocabSize, m.BlockSize, m.NLayer, m.NHead, m.NEmbd, m.Dropout, m.Bias);
        return GptEstimate.For(config, t.BatchSize, t.GradientAccumulationSteps, t.MaxSteps,
            t.Precision == Precisions.Bf16,
            t.RecomputeActivations, options.Value.BaselineMemoryMiB * 1024L * 1024);
    }

    // Each change on its own, cheapest to the model first; the sizes that would fit are worked out, not guessed.
    private List<string> Advise(RunSpec spec, int vocabSize, long limit)
    {
        var advice = new List<string>();
        // "auto" trains in bf16 when only bf16 fits: a change fits when either precision does.
        bool Fits(RunSpec s)
        {
            var precisions = s.Training.Precision == Precisions.Auto ? Precisions.Computed : [s.Training.Precision];
            return precisions.Any(p => Raw(s.WithPrecision(p), vocabSize).PeakMemoryBytes <= limit);
        }
        var t = spec.Training;
        if (!t.RecomputeActivations && Fits(spec with { Training = t with { RecomputeActivations = true } }))
            advice.Add("It fits with training.recomputeActivations: true.");
        if (t.Precision == Precisions.Fp32 && Fits(spec.WithPrecision(Precisions.Bf16)))
            advice.Add("It fits with training.precision: \"bf16\".");
        for (var batch = t.BatchSize / 2; batch >= 1; batch /= 2)
            if (Fits(spec with
            {
                Training = t with
                {
                    BatchSize = batch,
                    GradientAccumulationSteps = t.GradientAccumulationSteps * (t.BatchSize / batch)
                }
            }))
            {
                advice.Add($"It fits with training.batchSize: {batch} and gradientAccumulationSteps: " +
                    $"{t.GradientAccumulationSteps * (t.BatchSize / batch)} (the same tokens per step).");
                break;
            }
        for (var layers = spec.Model.NLayer - 1; layers >= 1; layers--)
            if (Fits(spec with { Model = spec.Model with { NLayer = layers } }))
            {
                advice.Add($"It fits with model.nLayer: {layers}.");
                break;
            }
        if (advice.Count == 0)
            advice.Add("Make the model smaller (nLayer, nEmbd) or the batch and block smaller, or give the worker " +
                "more memory (Training:MemoryLimitMiB).");
        return advice;
    }

    private static string GiB(long bytes) => $"{bytes / (1024.0 * 1024 * 1024):F1} GiB";
}
