using Platform.ServiceDefaults.Http;
using Platform.Contracts;
using Platform.ServiceDefaults.Security;

namespace Training.Data;

/// <summary>
/// WaitingForData ⇄ Queued → Training → Evaluating → Completed; Failed or Cancelled on the way, and from those back
/// to Queued by a resume; Deleted from anywhere (a training run first stops).
/// </summary>
public enum RunState { Queued, WaitingForData, Training, Evaluating, Completed, Failed, Cancelled, Deleted }

/// <summary>A transition the run's current state does not allow; the message says why, for a 409.</summary>
public sealed class RunStateException(string message) : InvalidOperationException(message);

public sealed class Run : IOwned, IListed
{
    public Guid Id { get; private set; }
    public string Name { get; private set; } = "";
    public Guid DatasetId { get; private set; }
    public RunState State { get; private set; }
    public string? FailureReason { get; private set; }
    public Guid? OwnerId { get; private set; }
    public string? OwnerName { get; private set; }
    public RunSpec Spec { get; private set; } = new();
    public bool CancelRequested { get; private set; }
    /// <summary>Deletion was asked for while the run trained: the trainer deletes it when it has stopped.</summary>
    public bool DeleteRequested { get; private set; }
    public int Step { get; private set; }
    public int MaxSteps { get; private set; }
    /// <summary>A run counted in epochs: the steps one epoch takes, counted from its training split when it
    /// starts.</summary>
    public int? StepsPerEpoch { get; private set; }
    public long? Parameters { get; private set; }
    public double? LatestTrainLoss { get; private set; }
    public double? LatestValidationLoss { get; private set; }
    public double? BestValidationLoss { get; private set; }
    public double? TokensPerSecond { get; private set; }
    public double? EtaSeconds { get; private set; }
    public string? CheckpointKey { get; private set; }
    public string? CheckpointSha256 { get; private set; }
    /// <summary>Step of the latest resumable training state (runs/{id}/latest.ckpt), written after each
    /// evaluation.</summary>
    public int? LatestCheckpointStep { get; private set; }
    public string? LatestCheckpointSha256 { get; private set; }
    /// <summary>Step and validation loss of the best training state so far (runs/{id}/best.ckpt).</summary>
    public int? BestCheckpointStep { get; private set; }
    public string? BestCheckpointSha256 { get; private set; }
    public int? ModelVersion { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? StartedAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }
    /// <summary>When training ended and evaluation began (null before, and for runs that never finished
    /// training).</summary>
    public DateTimeOffset? TrainedAt { get; private set; }
    public DateTimeOffset UpdatedAt { get; private set; }
    public DateTimeOffset? DeletedAt { get; private set; }
    /// <summary>The worker training the run, while it renews its lease; null when no worker holds it.</summary>
    public string? LeaseOwner { get; private set; }
    /// <summary>
    /// Fencing token: raised by every claim, so a worker that lost its lease (it stalled, another took the run) is
    /// refused when it writes (a concurrency token in the DbContext).
    /// </summary>
    public long LeaseToken { get; private set; }
    public DateTimeOffset? LeaseExpiresAt { get; private set; }
    /// <summary>What training has cost so far (null before its first attempt ends).</summary>
    public RunCost? Cost { get; private set; }
    /// <summary>W3C trace context of the request or message that queued the run: its training continues that
    /// trace.</summary>
    public string? TraceParent { get; private set; }
    /// <summary>How many times a worker died (or stalled) while training the run: leases that expired
    /// unrenewed.</summary>
    public int Crashes { get; private set; }
    /// <summary>The tokenizer the run trains with when it is not its dataset's own (a base version's, or a named
    /// one).</summary>
    public string? TokenizerKey { get; private set; }
    /// <summary>The version the run starts from ("name/versions/N") and its checkpoint, verified by sha256 before
    /// training.</summary>
    public string? BaseModel { get; private set; }
    public string? BaseCheckpointKey { get; private set; }
    public string? BaseCheckpointSha256 { get; private set; }
    /// <summary>
    /// The datasets its weights learn from: its own and, for a fine-tune, its base's lineage. Null for a run from
    /// before sharing (its dataset alone is then its lineage).
    /// </summary>
    public List<Guid>? Lineage { get; private set; }
    /// <summary>Labels for finding and grouping runs ("baseline", "lr:3e-4"); set by <see cref="Annotate"/>.</summary>
    public List<string> Tags { get; private set; } = [];
    public string? Note { get; private set; }
    /// <summary>The sweep that created the run, if one did (see <see cref="Sweep"/>).</summary>
    public Guid? SweepId { get; private set; }
    /// <summary>
    /// A run that a user's own script trains and logs to (parameters, metrics, tags, artifacts), as MLflow tracks one:
    /// the platform's trainer never claims it. It is Training from its creation until the script ends it.
    /// </summary>
    public bool External { get; private set; }
    /// <summary>The experiment the run belongs to, if any.</summary>
    public Guid? ExperimentId { get; private set; }
    /// <summary>An external run's logged parameters (name → value as text); set once each, as MLflow's are.</summary>
    public Dictionary<string, string> Params { get; private set; } = [];
    /// <summary>What it trains in, "fp32" or "bf16": the spec's, or auto's choice once a worker made it.</summary>
    public string? Precision { get; private set; }
    /// <summary>Why it trains in <see cref="Precision"/>: asked for, only one fits, or measured step times.</summary>
    public string? PrecisionReason { get; private set; }

    /// <summary>The states a run ends in; a query can ask for them (IsFinished cannot be translated to SQL).</summary>
    public static readonly RunState[] EndStates = [RunState.Completed, RunState.Failed, RunState.Cancelled,
        RunState.Deleted];

    public bool IsFinished => EndStates.Contains(State);
    public bool IsDeleted => State == RunState.Deleted;

    /// <summary>The artifact prefix holding the run's checkpoints and exports.</summary>
    public static string PrefixOf(Guid id) => $"runs/{id:N}";
    public string LatestCheckpointKey => $"{PrefixOf(Id)}/latest.ckpt";
    public string BestCheckpointKey => $"{PrefixOf(Id)}/best.ckpt";

    /// <summary>A new run of a spec on a dataset; <see cref="Training.Runs.RunScheduler"/> decides what it does
    /// first.</summary>
    public static Run Create(Guid id, RunSpec spec, Guid datasetId, Owner? owner, Guid? sweepId = null) => new()
    {
        Id = id,
        SweepId = sweepId,
        Name = spec.Name,
        DatasetId = datasetId,
        Spec = spec,
        MaxSteps = spec.Training.MaxSteps,
        OwnerId = owner?.Id,
        OwnerName = owner?.Name,
        CreatedAt = DateTimeOffset.UtcNow,
        UpdatedAt = DateTimeOffset.UtcNow,
        Lineage = [datasetId],
    };

    /// <summary>
    /// A run a user's script trains: no dataset (only its owner and admins read it), no spec to train by, Training
    /// until <see cref="End"/>. Tags are "key:value" strings, as on any run.
    /// </summary>
    public static Run CreateExternal(Guid id, string name, Owner owner, Guid? experimentId,
        IReadOnlyDictionary<string, string> parameters, IReadOnlyList<string> tags)
    {
        var now = DateTimeOffset.UtcNow;
        return new Run
        {
            Id = id,
            Name = name,
            External = true,
            ExperimentId = experimentId,
            Spec = new RunSpec { Name = name },
            State = RunState.Training,
            OwnerId = owner.Id,
            OwnerName = owner.Name,
            Params = new Dictionary<string, string>(parameters, StringComparer.Ordinal),
            Tags = [.. tags.Distinct(StringComparer.Ordinal)],
            CreatedAt = now,
            StartedAt = now,
            UpdatedAt = now,
            Lineage = [],
        };
    }

    /// <summary>Puts the run in an experiment (at creation; a run does not move between experiments).</summary>
    public void JoinExperiment(Guid experimentId)
    {
        if (StartedAt is not null && !External)
            throw new RunStateException($"Run {Id} has started; its experiment is set when it is created.");
        ExperimentId = experimentId;
    }

    private void RequireLogging()
    {
        if (!External)
            throw new RunStateException($"Run {Id} is trained by the platform; only an external run is logged to.");
        if (State != RunState.Training)
            throw new RunStateException($"Run {Id} is {State}; an ended run takes no more logging.");
    }

    /// <summary>
    /// Logs parameters. A parameter keeps its first value: logging another value for it is refused (the key is
    /// returned), logging the same one again changes nothing.
    /// </summary>
    public string? LogParams(IReadOnlyDictionary<string, string> parameters)
    {
        RequireLogging();
        if (parameters.FirstOrDefault(p => Params.TryGetValue(p.Key, out var old) && old != p.Value) is
            { Key: not null } changed)
            return changed.Key;
        Params = new Dictionary<string, string>(Params.Concat(parameters.Where(p => !Params.ContainsKey(p.Key))),
            StringComparer.Ordinal);
        UpdatedAt = DateTimeOffset.UtcNow;
        return null;
    }

    /// <summary>
    /// Metric points were logged: the run's step is the highest logged, and "loss" and "val_loss" (its latest and
    /// best) fill the fields that lists and searches order by.
    /// </summary>
    public void RecordLoggedMetrics(IEnumerable<(string Key, int Step, double Value)> points)
    {
        RequireLogging();
        foreach (var (key, step, value) in points.OrderBy(p => p.Step))
        {
            Step = Math.Max(Step, step);
            MaxSteps = Math.Max(MaxSteps, Step);
            if (key == "loss")
                LatestTrainLoss = value;
            else if (key == "val_loss")
            {
                LatestValidationLoss = value;
                BestValidationLoss = BestValidationLoss is { } best ? Math.Min(best, value) : value;
            }
        }
        UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>Replaces the tags with these keys ("key:value"; a bare tag is a key with no value).</summary>
    public void SetTags(IReadOnlyDictionary<string, string> tags)
    {
        if (State == RunState.Deleted)
            throw new RunStateException($"Run {Id} is deleted.");
        Tags = [.. Tags.Where(t => !tags.ContainsKey(RunTags.KeyOf(t))).Concat(tags.Select(t => RunTags.Of(t.Key,
            t.Value)))];
        UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>The script ended the run: Completed, Failed (with its reason) or Cancelled.</summary>
    public void End(RunState state, string? reason)
    {
        RequireLogging();
        if (state is not (RunState.Completed or RunState.Failed or RunState.Cancelled))
            throw new RunStateException($"A run ends Completed, Failed or Cancelled, not {state}.");
        State = state;
        FailureReason = state == RunState.Failed ? reason ?? "failed in its script" : null;
        FinishedAt = UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>A version was registered from the external run's files; it stays as it is otherwise.</summary>
    public void RecordRegistration(int modelVersion)
    {
        if (!External)
            throw new RunStateException($"Run {Id} is registered by the platform when it completes.");
        ModelVersion = modelVersion;
        UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>
    /// A fine-tune: the run starts from a registered version's checkpoint, on that version's tokenizer, and learns from
    /// what the version learned from as well as from its own dataset.
    /// </summary>
    public void StartFrom(string baseModel, string checkpointKey, string checkpointSha256, string tokenizerKey,
        IEnumerable<Guid> baseLineage)
    {
        if (State != RunState.Queued || StartedAt is not null)
            throw new RunStateException($"Run {Id} has started; what it starts from cannot change.");
        (BaseModel, BaseCheckpointKey, BaseCheckpointSha256, TokenizerKey) = (baseModel, checkpointKey,
            checkpointSha256, tokenizerKey);
        Lineage = [.. new[] { DatasetId }.Concat(baseLineage).Distinct()];
    }

    /// <summary>The run trains on its dataset encoded with this tokenizer instead of the dataset's own.</summary>
    public void UseTokenizer(string tokenizerKey)
    {
        if (State != RunState.Queued || StartedAt is not null)
            throw new RunStateException($"Run {Id} has started; its tokenizer cannot change.");
        TokenizerKey = tokenizerKey;
    }

    public void Queue()
    {
        Move(RunState.Queued, from: [RunState.Queued, RunState.WaitingForData]);
        TraceParent = System.Diagnostics.Activity.Current?.Id ?? TraceParent;
    }

    /// <summary>A Queued run, or a Training run whose worker stopped renewing its lease, may be claimed by a worker;
    /// an external run never.</summary>
    public bool IsClaimable(DateTimeOffset now) => !External
        && (State == RunState.Queued
            || (State == RunState.Training && (LeaseExpiresAt is null || LeaseExpiresAt < now)));

    /// <summary>
    /// A worker takes the run for <paramref name="lease"/>, renewable. Taking it from a worker whose lease expired
    /// counts a crash; at <paramref name="maxCrashes"/> the run fails instead, and false says there is nothing to
    /// train.
    /// </summary>
    public bool Claim(string worker, DateTimeOffset now, TimeSpan lease, int maxCrashes)
    {
        if (!IsClaimable(now))
            throw new RunStateException($"Run {Id} is {State} and held by {LeaseOwner} until {LeaseExpiresAt:O}.");
        if (State == RunState.Training)
        {
            Crashes++;
            if (Crashes >= maxCrashes)
            {
                Fail($"Training crashed {Crashes} times at step {Step}; last error: worker {LeaseOwner} stopped " +
                    "renewing its lease (its process died or stalled: out of memory?). Make the model or batch " +
                    "smaller, then resume the run.");
                return false;
            }
        }
        (LeaseOwner, LeaseToken, LeaseExpiresAt) = (worker, LeaseToken + 1, now + lease);
        UpdatedAt = now;
        return true;
    }

    /// <summary>An attempt at training ended (finished, cancelled, failed or handed back): its cost is added to the
    /// run's.</summary>
    public void AddCost(RunCost attempt) => Cost = (Cost ?? new RunCost()).Add(attempt);

    /// <summary>The worker stops (it is shutting down) before the run finished: another worker continues it, no crash
    /// counted.</summary>
    public void Requeue()
    {
        Move(RunState.Queued, from: [RunState.Training]);
        ReleaseLease();
    }

    private void ReleaseLease() => (LeaseOwner, LeaseExpiresAt) = (null, null);

    public void WaitForData() => Move(RunState.WaitingForData, from: [RunState.Queued, RunState.WaitingForData]);

    /// <summary>Training begins, or continues from a checkpoint's step after a crash or a resume.</summary>
    public void Start(int fromStep)
    {
        Move(RunState.Training, from: [RunState.Queued, RunState.WaitingForData, RunState.Training]);
        Step = fromStep;
        FailureReason = null;
        FinishedAt = null;
        StartedAt ??= UpdatedAt;
    }

    /// <summary>
    /// A run counted in epochs learns how many steps they take from its training split, once, before it starts: a
    /// resumed run keeps its plan, so its learning-rate schedule continues where it was.
    /// </summary>
    public void PlanEpochs(int stepsPerEpoch)
    {
        if (Spec.Training.Epochs is not { } epochs)
            throw new RunStateException($"Run {Id} is counted in steps, not epochs.");
        if (State is not (RunState.Queued or RunState.WaitingForData) || StepsPerEpoch is not null)
            throw new RunStateException($"Run {Id} is {State}; its epochs are counted once, before it starts.");
        if (stepsPerEpoch < 1 || (long)epochs * stepsPerEpoch > RunSpecValidator.MaxSteps)
            throw new RunStateException($"{epochs} epochs of {stepsPerEpoch:N0} steps is more than " +
                $"{RunSpecValidator.MaxSteps:N0} steps.");
        (StepsPerEpoch, MaxSteps) = (stepsPerEpoch, epochs * stepsPerEpoch);
        UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>The epoch (1-based) that the next step belongs to, for a run counted in epochs.</summary>
    public int? Epoch => EpochOf(Step);

    /// <summary>The epoch (1-based) of a 0-based step, for a run counted in epochs (the last one from the end
    /// on).</summary>
    public int? EpochOf(int step) => StepsPerEpoch is { } perEpoch && Spec.Training.Epochs is { } epochs
        ? Math.Min(epochs, EpochPlan.EpochOf(step, perEpoch)) : null;

    /// <summary>
    /// The worker that starts the run decides its precision once; a resumed run keeps it, so its checkpoints and its
    /// losses continue in the precision they began in.
    /// </summary>
    public void UsePrecision(string precision, string reason)
    {
        if (State != RunState.Training)
            throw new RunStateException($"Run {Id} is {State}; its precision is decided when it starts training.");
        if (Precision is not null && Precision != precision)
            throw new RunStateException($"Run {Id} trains in {Precision}; it cannot change to {precision}.");
        (Precision, PrecisionReason) = (precision, reason);
        UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>Training finished; the final checkpoint goes to evaluation.</summary>
    public void FinishTraining(long parameters, string checkpointKey, string checkpointSha256, int steps)
    {
        Move(RunState.Evaluating, from: [RunState.Training]);
        (Parameters, CheckpointKey, CheckpointSha256, Step) = (parameters, checkpointKey, checkpointSha256, steps);
        TrainedAt = UpdatedAt;
    }

    public void Complete(int modelVersion)
    {
        Move(RunState.Completed, from: [RunState.Evaluating]);
        ModelVersion = modelVersion;
        FinishedAt = UpdatedAt;
    }

    public void Fail(string reason)
    {
        if (IsFinished)
            throw new RunStateException($"Run {Id} is {State} and cannot fail.");
        State = RunState.Failed;
        FailureReason = reason;
        ReleaseLease();
        FinishedAt = UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>Replaces the tags and/or the note (null leaves one as it is); allowed in any state but
    /// Deleted.</summary>
    public void Annotate(IReadOnlyList<string>? tags, string? note)
    {
        if (State == RunState.Deleted)
            throw new RunStateException($"Run {Id} is deleted.");
        if (tags is not null)
            Tags = [.. tags.Distinct(StringComparer.Ordinal)];
        if (note is not null)
            Note = note.Length == 0 ? null : note;
        UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>
    /// A run not started yet is cancelled now; a training run stops at its next step (see <see cref="MarkCancelled"/>).
    /// </summary>
    public void RequestCancel()
    {
        if (IsFinished || State == RunState.Evaluating)
            throw new RunStateException($"Run {Id} is {State}.");
        CancelRequested = true;
        // No trainer holds an external run: it is cancelled now, and its script's next call is refused.
        if (State is RunState.WaitingForData or RunState.Queued || External)
        {
            // A worker may have claimed the run without starting it yet (it is still Queued): raising the fencing
            // token makes that worker's next write fail, so it cannot start a cancelled run.
            LeaseToken++;
            MarkCancelled();
        }
        else
            UpdatedAt = DateTimeOffset.UtcNow;
    }

    public void MarkCancelled()
    {
        Move(RunState.Cancelled, from: [RunState.Queued, RunState.WaitingForData, RunState.Training]);
        FinishedAt = UpdatedAt;
    }

    /// <summary>What the trainer reported since the last flush; Step follows it, back to a checkpoint's step when a run
    /// resumes.</summary>
    public void RecordProgress(Training.Runs.RunProgressSnapshot snapshot)
    {
        Step = snapshot.Step ?? Step;
        LatestTrainLoss = snapshot.TrainLoss ?? LatestTrainLoss;
        if (snapshot.ValidationLoss is { } validation)
        {
            LatestValidationLoss = validation;
            BestValidationLoss = Math.Min(BestValidationLoss ?? double.MaxValue, validation);
        }
        TokensPerSecond = snapshot.TokensPerSecond ?? TokensPerSecond;
        EtaSeconds = snapshot.EtaSeconds ?? EtaSeconds;
        if (snapshot.LatestCheckpoint is { } latest)
            (LatestCheckpointStep, LatestCheckpointSha256) = latest;
        if (snapshot.BestCheckpoint is { } best)
            (BestCheckpointStep, BestCheckpointSha256) = best;
        UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>A Failed or Cancelled run goes back in the queue, to continue from its latest checkpoint.</summary>
    public void Resume()
    {
        if (State is not (RunState.Failed or RunState.Cancelled))
            throw new RunStateException($"Run {Id} is {State}; only Failed or Cancelled runs resume.");
        if (External)
            throw new RunStateException($"Run {Id} is an external run: its script trains it, not the platform.");
        Move(RunState.Queued, from: [RunState.Failed, RunState.Cancelled]);
        TraceParent = System.Diagnostics.Activity.Current?.Id ?? TraceParent;
        CancelRequested = false;
        Crashes = 0;
        FailureReason = null;
        FinishedAt = null;
    }

    /// <summary>A training run must stop before its files go: it is cancelled and deleted when the trainer has
    /// stopped.</summary>
    public void RequestDeletion()
    {
        if (IsDeleted)
            return;
        DeleteRequested = CancelRequested = true;
        UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>The registry deleted the version this run registered; false when it is not the run's version (or
    /// already forgotten).</summary>
    public bool ForgetVersion(int version)
    {
        if (ModelVersion != version)
            return false;
        ModelVersion = null;
        UpdatedAt = DateTimeOffset.UtcNow;
        return true;
    }

    /// <summary>The run's checkpoints, metrics and version are being removed; it answers 404 from now on.</summary>
    public void MarkDeleted()
    {
        if (State == RunState.Training && !External)
            throw new RunStateException($"Run {Id} is training; it is deleted once it has stopped.");
        // As with a cancel: a worker that claimed the run but has not started it yet must fail its next write, or its
        // start would bring the deleted run back as Training.
        LeaseToken++;
        State = RunState.Deleted;
        DeletedAt = UpdatedAt = DateTimeOffset.UtcNow;
        FinishedAt ??= DeletedAt;
        ModelVersion = null;
    }

    private void Move(RunState to, RunState[] from)
    {
        if (!from.Contains(State))
            throw new RunStateException($"Run {Id} is {State} and cannot become {to}.");
        if (to != RunState.Training)
            ReleaseLease();
        State = to;
        UpdatedAt = DateTimeOffset.UtcNow;
    }
}

/// <summary>One point of a run's metric series (append-only).</summary>
public sealed class MetricPoint
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public string Key { get; set; } = "";
    public int Step { get; set; }
    public double Value { get; set; }
    public DateTimeOffset Timestamp { get; set; }
}

/// <summary>What this service knows of a dataset, built from Ingestion's and Tokenization's events.</summary>
public sealed class KnownDataset
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public DatasetStatus Status { get; set; }
    public string? FailureReason { get; set; }
    public Guid? TokenizerId { get; set; }
    public string? TokenizerKey { get; set; }
    public string? TrainTokensKey { get; set; }
    public string? ValidationTokensKey { get; set; }
    public int? VocabSize { get; set; }
    /// <summary>"text" or "pairs"; pairs datasets train encoder-decoders only.</summary>
    public string Format { get; set; } = DatasetFormats.Text;
    /// <summary>Pairs with one tokenizer per side: the source side's (TokenizerKey is then the target
    /// side's).</summary>
    public string? SourceTokenizerKey { get; set; }
    public int? SourceVocabSize { get; set; }
    /// <summary>The training split's tokens (null for a dataset tokenized before they were recorded).</summary>
    public long? TrainTokens { get; set; }
    public long? ValidationTokens { get; set; }
    public long? ValidationBytes { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// A dataset's splits encoded with a tokenizer not its own, as Tokenization announced them (Pending from the request
/// until DatasetEncoded or DatasetEncodingFailed).
/// </summary>
public sealed class KnownEncoding
{
    public Guid DatasetId { get; set; }
    public string TokenizerKey { get; set; } = "";
    public EncodingStatus Status { get; set; }
    public string? FailureReason { get; set; }
    public int? VocabSize { get; set; }
    public string? TrainTokensKey { get; set; }
    public string? ValidationTokensKey { get; set; }
    public long? ValidationTokens { get; set; }
    public long? ValidationBytes { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The row for a dataset and tokenizer, added (tracked) when there is none yet.</summary>
    public static async Task<KnownEncoding> FindOrAddAsync(Training.Data.TrainingDbContext db, Guid datasetId,
        string tokenizerKey,
        CancellationToken cancellationToken)
    {
        var encoding = await db.Encodings.FindAsync([datasetId, tokenizerKey], cancellationToken);
        if (encoding is null)
            db.Encodings.Add(encoding = new KnownEncoding
            {
                DatasetId = datasetId,
                TokenizerKey = tokenizerKey,
                UpdatedAt = DateTimeOffset.UtcNow
            });
        return encoding;
    }

    /// <summary>Tokenization announced the encoding: its files, vocabulary and sizes.</summary>
    public void MarkReady(DatasetEncoded m)
    {
        (Status, FailureReason, VocabSize, TrainTokensKey, ValidationTokensKey) = (EncodingStatus.Ready, null,
            m.VocabSize, m.TrainTokensKey, m.ValidationTokensKey);
        (ValidationTokens, ValidationBytes, UpdatedAt) = (m.ValidationTokens, m.ValidationBytes, DateTimeOffset.UtcNow);
    }

    /// <summary>The encoding cannot be made; false (and nothing changes) when it is already Ready.</summary>
    public bool MarkFailed(string reason)
    {
        if (Status == EncodingStatus.Ready)
            return false;
        (Status, FailureReason, UpdatedAt) = (EncodingStatus.Failed, reason, DateTimeOffset.UtcNow);
        return true;
    }

    /// <summary>The dataset as a run on this encoding sees it: its own fields, with this tokenizer's files and
    /// vocabulary (not tracked).</summary>
    public KnownDataset Apply(KnownDataset dataset) => new()
    {
        Id = dataset.Id,
        Name = dataset.Name,
        Status = dataset.Status,
        Format = dataset.Format,
        TokenizerId = null,
        TokenizerKey = TokenizerKey,
        TrainTokensKey = TrainTokensKey,
        ValidationTokensKey = ValidationTokensKey,
        VocabSize = VocabSize,
        ValidationTokens = ValidationTokens,
        ValidationBytes = ValidationBytes,
        UpdatedAt = UpdatedAt,
    };
}

public enum EncodingStatus { Pending, Ready, Failed }

/// <summary>Ingested → Tokenized | Failed, and Deleted from any of them (never left: late events change
/// nothing).</summary>
public enum DatasetStatus { Ingested, Tokenized, Failed, Deleted }

/// <summary>Word vectors a user uploaded (word2vec or GloVe text), which runs may initialise their embedding
/// from.</summary>
public sealed class VectorsFile : IOwned, IListed
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public Guid? OwnerId { get; set; }
    public string? OwnerName { get; set; }
    public string Key { get; set; } = "";
    public int Dimension { get; set; }
    public int Words { get; set; }
    public long Bytes { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public static string PrefixOf(Guid id) => $"vectors/{id:N}";
}

/// <summary>Tags as keys and values: "team:nlp" is key "team", value "nlp"; "baseline" is key "baseline", no
/// value.</summary>
public static class RunTags
{
    public static string KeyOf(string tag) =>
        tag.IndexOf(':', StringComparison.Ordinal) is var i and >= 0 ? tag[..i] : tag;

    public static string ValueOf(string tag) =>
        tag.IndexOf(':', StringComparison.Ordinal) is var i and >= 0 ? tag[(i + 1)..] : "";

    public static string Of(string key, string value) => value.Length == 0 ? key : $"{key}:{value}";
}
