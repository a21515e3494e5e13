using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ML;
using Training.Data;

namespace Training.Runs;

/// <summary>The precision a run trains in, and why.</summary>
public sealed record PrecisionDecision(string Precision, string Reason);

/// <summary>
/// Decides what a run trains in. A precision the spec names is kept. "auto" takes the one that fits in the worker's
/// memory when only one does; otherwise the faster of the two for the run's shape on this machine: measured by the
/// first run of that shape here (a few steps of each, <see cref="PrecisionTrial"/>) and remembered in
/// precision_measurements, so later runs of the shape (a sweep's, say) start at once.
/// </summary>
public sealed class PrecisionChoice(TrainingDbContext db, RunEstimator estimator, TrainingJob job,
    IOptions<TrainingOptions> options, ILogger<PrecisionChoice> logger)
{
    /// <summary>This worker's machine, as measurements are keyed.</summary>
    public string Machine
    {
        get
        {
            var threads = options.Value.IntraOpThreads;
            return TorchRuntime.DescribeMachine(TorchRuntime.Initialise(threads), threads);
        }
    }

    /// <summary>
    /// What determines a training step's speed in a spec, in words: the model's shape, the batch, the vocabulary,
    /// dropout (it adds masks), recomputation and a LoRA fine-tune (it trains adapters only).
    /// </summary>
    public static string ShapeOf(RunSpec spec, int vocabSize)
    {
        var (m, t) = (spec.Model, spec.Training);
        var model = m.Architecture == Architectures.EncoderDecoder
            ? $"encoder-decoder {m.NEncoderLayer}+{m.NDecoderLayer}×{m.NHead}×{m.NEmbd}, " +
              $"lengths {m.MaxSourceLength}/{m.MaxTargetLength}"
            : $"gpt {m.NLayer}×{m.NHead}×{m.NEmbd}, block {m.BlockSize}";
        var fineTune = spec.InitFrom is null ? ""
            : spec.FineTune is { Method: FineTuneMethods.Lora } f ? $", LoRA rank {f.Rank}" : ", fine-tune";
        return $"{model}, vocabulary {vocabSize}, batch {t.BatchSize}{(m.Bias ? "" : ", no bias")}" +
               $"{(m.Dropout > 0 ? ", dropout" : "")}{(t.RecomputeActivations ? ", recomputed" : "")}{fineTune}";
    }

    /// <summary>The timing of this shape on this machine, if one was made (what an estimate can tell).</summary>
    public Task<PrecisionMeasurement?> MeasuredAsync(RunSpec spec, int vocabSize, CancellationToken cancellationToken)
        => FindAsync(Machine, ShapeOf(spec, vocabSize), cancellationToken);

    private Task<PrecisionMeasurement?> FindAsync(string machine, string shape, CancellationToken cancellationToken) =>
        db.PrecisionMeasurements.AsNoTracking()
            .FirstOrDefaultAsync(m => m.Machine == machine && m.Shape == shape, cancellationToken);

    /// <summary>
    /// The run's precision: the one it already trains in when it resumes, the spec's, or auto's choice (timing both
    /// when this machine has not timed the shape yet: seconds for small models, about a minute for large ones).
    /// </summary>
    public async Task<PrecisionDecision> DecideAsync(Run run, KnownDataset dataset, CancellationToken cancellationToken)
    {
        if (run.Precision is { } kept)
            return new PrecisionDecision(kept, run.PrecisionReason ?? "");
        var vocab = dataset.VocabSize ?? RunEstimator.AssumedVocabSize;
        var (machine, shape) = (Machine, ShapeOf(run.Spec, vocab));
        var measured = await FindAsync(machine, shape, cancellationToken);
        var estimate = estimator.Estimate(run.Spec, vocab, measured);
        var auto = run.Spec.Training.Precision == Precisions.Auto;
        if (!auto || measured is not null || !estimator.BothFit(run.Spec, vocab))
            return new PrecisionDecision(estimate.Precision, estimate.PrecisionReason);

        logger.LogInformation("run {RunId}: timing fp32 and bf16 for {Shape} on {Machine}", run.Id, shape, machine);
        var timed = await job.TimePrecisionsAsync(run, dataset, cancellationToken);
        // Decided and reported from the figures as stored, so that this run and the later ones that read them choose
        // and say the same (1.9501 ms would read "2.0" now and, stored as 1.95, "1.9" later).
        var timing = timed with
        {
            Fp32Millis = Math.Round(timed.Fp32Millis, 3),
            Bf16Millis = Math.Round(timed.Bf16Millis, 3),
        };
        var measurement = new PrecisionMeasurement
        {
            Machine = machine,
            Shape = shape,
            Fp32Millis = timing.Fp32Millis,
            Bf16Millis = timing.Bf16Millis,
            StepsEach = timing.StepsEach,
            MeasuredAt = DateTimeOffset.UtcNow,
            RunId = run.Id,
        };
        db.PrecisionMeasurements.Add(measurement);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another worker on such a machine timed the shape meanwhile: both figures are as good.
            db.Entry(measurement).State = EntityState.Detached;
        }
        return new PrecisionDecision(timing.Faster, RunEstimator.MeasuredReason(timing, "measured now"));
    }
}
