using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Training.Data;

namespace Training.Runs;

/// <summary>Decides what a new or waiting run does next, given what is known of its dataset.</summary>
public static class RunScheduler
{
    /// <summary>
    /// Serialises run creation against the dataset's own events for the current transaction, so a run created
    /// while its dataset is being marked Tokenized cannot be left waiting for an event that already passed.
    /// </summary>
    public static Task LockDatasetAsync(TrainingDbContext db, Guid datasetId, CancellationToken cancellationToken) =>
        db.LockAsync(datasetId, cancellationToken);

    /// <summary>
    /// Queues the run when its data is ready, fails it when its data failed, and otherwise leaves it waiting. A run on
    /// a tokenizer not its dataset's own waits for that encoding too, which is asked of Tokenization once per (dataset,
    /// tokenizer).
    /// </summary>
    public static async Task ScheduleAsync(TrainingDbContext db, Run run, KnownDataset? dataset,
        CancellationToken cancellationToken)
    {
        if (dataset is { Status: DatasetStatus.Tokenized } && run.TokenizerKey is { } key
            && key != dataset.TokenizerKey)
        {
            var encoding = await db.Encodings.FindAsync([dataset.Id, key], cancellationToken);
            switch (encoding?.Status)
            {
                case EncodingStatus.Ready:
                    break;
                case EncodingStatus.Failed:
                    run.Fail($"Dataset {run.DatasetId} could not be encoded with the run's tokenizer: " +
                    $"{encoding.FailureReason}");
                    return;
                case EncodingStatus.Pending:
                    run.WaitForData();
                    return;
                default:
                    db.Encodings.Add(new KnownEncoding
                    {
                        DatasetId = dataset.Id,
                        TokenizerKey = key,
                        Status = EncodingStatus.Pending,
                        UpdatedAt = DateTimeOffset.UtcNow
                    });
                    db.SendViaOutbox(new EncodeDataset(dataset.Id, key), Queues.EncodeDataset);
                    run.WaitForData();
                    return;
            }
        }
        Schedule(db, run, dataset);
    }

    private static void Schedule(TrainingDbContext db, Run run, KnownDataset? dataset)
    {
        switch (dataset?.Status)
        {
            case DatasetStatus.Tokenized:
                run.Queue();
                db.SendViaOutbox(new StartTraining(run.Id), Queues.StartTraining);
                break;
            case DatasetStatus.Failed:
                run.Fail($"Dataset {run.DatasetId} failed: {dataset.FailureReason}");
                break;
            default:
                run.WaitForData();
                break;
        }
    }

    /// <summary>Starts (or fails, or sends on to be encoded) every run that was waiting for this dataset.</summary>
    public static async Task ReleaseWaitingRunsAsync(TrainingDbContext db, KnownDataset dataset,
        CancellationToken cancellationToken)
    {
        var waiting = await db.Runs.Where(r => r.DatasetId == dataset.Id
            && r.State == RunState.WaitingForData).ToListAsync(cancellationToken);
        foreach (var run in waiting)
            await ScheduleAsync(db, run, dataset, cancellationToken);
    }

    /// <summary>
    /// The dataset as the run trains on it: its own encoding, or the run's tokenizer's once that encoding is Ready;
    /// null while it is not.
    /// </summary>
    public static async Task<KnownDataset?> TrainingDataAsync(TrainingDbContext db, Run run, KnownDataset dataset,
        CancellationToken cancellationToken)
    {
        if (run.TokenizerKey is not { } key || key == dataset.TokenizerKey)
            return dataset;
        var encoding = await db.Encodings.AsNoTracking().FirstOrDefaultAsync(e => e.DatasetId == dataset.Id
            && e.TokenizerKey == key, cancellationToken);
        return encoding is { Status: EncodingStatus.Ready } ? encoding.Apply(dataset) : null;
    }
}
