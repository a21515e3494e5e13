using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.Storage;
using Training.Data;

namespace Training.Runs;

/// <summary>
/// Deletes runs: their metrics with the caller's SaveChanges, then their checkpoints. A run that is training is only
/// marked: the training worker deletes it when it has stopped (<see cref="TrainingWorker"/>). RunDeleted tells the
/// registry (which deletes the versions the run registered, announced as ModelVersionDeleted) and Evaluation, and this
/// service's own RunDeletedConsumer removes the files again, so a crash after the commit loses nothing.
/// </summary>
public sealed class RunDeletion(TrainingDbContext db, ArtifactStore store, ILogger<RunDeletion> logger)
{
    /// <summary>Deletes the run now (true), or marks a training run for deletion when it stops (false). Call
    /// SaveChanges, then <see cref="RemoveFiles"/>.</summary>
    public async Task<bool> DeleteOrScheduleAsync(Run run, CancellationToken cancellationToken)
    {
        // A training run stops first; no trainer holds an external one, so it goes at once.
        if (run.State == RunState.Training && !run.External)
        {
            run.RequestDeletion();
            return false;
        }
        await DeleteNowAsync(run, cancellationToken);
        return true;
    }

    public async Task DeleteNowAsync(Run run, CancellationToken cancellationToken)
    {
        db.Metrics.RemoveRange(await db.Metrics.Where(m => m.RunId == run.Id).ToListAsync(cancellationToken));
        db.RunArtifacts.RemoveRange(await db.RunArtifacts.Where(a => a.RunId == run.Id).ToListAsync(cancellationToken));
        run.MarkDeleted();
        db.PublishViaOutbox(new RunDeleted(run.Id, run.DatasetId, run.UpdatedAt));
    }

    /// <summary>Deletes a run whose deletion was asked for while it trained, now that it has stopped: cancelled, then
    /// deleted.</summary>
    public async Task DeleteStoppedAsync(Run run, CancellationToken cancellationToken)
    {
        if (run.State == RunState.Training)
            run.MarkCancelled();
        await DeleteNowAsync(run, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        RemoveFiles(run.Id);
    }

    /// <summary>Removes a deleted run's checkpoints and exports (after the deletion committed).</summary>
    public void RemoveFiles(Guid runId)
    {
        store.DeletePrefix(Run.PrefixOf(runId));
        logger.LogInformation("run {RunId} deleted with its checkpoints", runId);
    }
}
