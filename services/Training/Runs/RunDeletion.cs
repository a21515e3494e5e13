using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.Storage;
using Training.Data;
using Training.Registry;

namespace Training.Runs;

/// <summary>
/// Deletes runs: their metrics and registered versions (announced as ModelVersionDeleted, so Generation stops serving
/// them) with the caller's SaveChanges, then their checkpoints. A run that is training is only marked: the training
/// worker deletes it when it has stopped (<see cref="TrainingWorker"/>). RunDeleted tells Evaluation, and
/// this service's own RunDeletedConsumer removes the files again, so a crash after the commit loses nothing.
/// </summary>
public sealed class RunDeletion(TrainingDbContext db, ArtifactStore store, ILogger<RunDeletion> logger)
{
    /// <summary>Deletes the run now (true), or marks a training run for deletion when it stops (false). Call SaveChanges, then <see cref="RemoveFiles"/>.</summary>
    public async Task<bool> DeleteOrScheduleAsync(Run run, CancellationToken cancellationToken)
    {
        if (run.State == RunState.Training)
        {
            run.RequestDeletion();
            return false;
        }
        await DeleteNowAsync(run, cancellationToken);
        return true;
    }

    public async Task DeleteNowAsync(Run run, CancellationToken cancellationToken)
    {
        foreach (var version in await db.ModelVersions.Where(v => v.RunId == run.Id).ToListAsync(cancellationToken))
        {
            db.ModelVersions.Remove(version);
            await AliasBook.RemoveAllToAsync(db, version.Name, version.Version, "deletion of run " + run.Id, cancellationToken);
            db.PublishViaOutbox(new ModelVersionDeleted(version.Name, version.Version, run.Id, DateTimeOffset.UtcNow));
        }
        db.Metrics.RemoveRange(await db.Metrics.Where(m => m.RunId == run.Id).ToListAsync(cancellationToken));
        run.MarkDeleted();
        db.PublishViaOutbox(new RunDeleted(run.Id, run.DatasetId, run.UpdatedAt));
    }

    /// <summary>Deletes a run whose deletion was asked for while it trained, now that it has stopped: cancelled, then deleted.</summary>
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
