using MassTransit;
using Platform.Contracts;
using Training.Data;
using Platform.ServiceDefaults.Messaging;
using Training.Registry;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// Records the dataset in this service's projection and, when the upload asked for it, creates the auto-train run,
/// owned by the uploader (failed at once when its model name is another key's). The run id was chosen at upload, so a
/// redelivery finds the run and does nothing; a dataset deleted meanwhile gets no run.
/// </summary>
public sealed class DatasetIngestedConsumer(TrainingDbContext db, ModelRegistry registry) : IConsumer<DatasetIngested>
{
    public Task Consume(ConsumeContext<DatasetIngested> context)
    {
        var m = context.Message;
        // Tokenized may arrive first (separate queues): the row is created here if missing, never downgraded.
        return DatasetProjection.UpdateAsync(db, m.DatasetId, async dataset =>
        {
            dataset.Name = m.Name;
            dataset.Format = m.Format;
            if (dataset.Status == DatasetStatus.Deleted || m.AutoTrain is not { } auto
                || await db.Runs.FindAsync([auto.RunId], context.CancellationToken) is not null)
                return;
            var run = Run.Create(auto.RunId, auto.Spec, m.DatasetId, m.Owner);
            db.Runs.Add(run);
            // The uploader's name is checked as a run's is at creation (an upload carries no role: as an editor's).
            if (m.Owner is { } owner && await registry.NameTakenAsync(auto.Spec.Name, owner, isAdmin: false,
                    context.CancellationToken) is { } taken)
            {
                run.Fail($"The model name '{taken}' belongs to another key; the auto-train run was not started.");
                return;
            }
            await RunScheduler.ScheduleAsync(db, run, dataset, context.CancellationToken);
        }, context.CancellationToken);
    }
}
