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

    public static void Schedule(TrainingDbContext db, Run run, KnownDataset? dataset)
    {
        switch (dataset?.Status)
        {
            case DatasetStatus.Tokenized:
                run.Queue();
                db.SendViaOutbox(new StartTraining(run.Id), Queues.StartTraining);
                break;
            case DatasetStatus.Failed:
                run.Fail($"Dataset {run.DatasetId} failed: {dataset.FailureReason}");
                db.PublishViaOutbox(new TrainingFailed(run.Id, run.FailureReason!, run.UpdatedAt));
                break;
            default:
                run.WaitForData();
                break;
        }
    }

    /// <summary>Starts (or fails) every run that was waiting for this dataset.</summary>
    public static async Task ReleaseWaitingRunsAsync(TrainingDbContext db, KnownDataset dataset, CancellationToken cancellationToken)
    {
        var waiting = await db.Runs.Where(r => r.DatasetId == dataset.Id && r.State == RunState.WaitingForData).ToListAsync(cancellationToken);
        foreach (var run in waiting)
            Schedule(db, run, dataset);
    }
}
