using MassTransit;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// Records the dataset in this service's projection and, when the upload asked for it, creates the
/// auto-train run, owned by the uploader. The run id was chosen at upload, so a redelivery finds the run and
/// does nothing; a dataset deleted meanwhile gets no run.
/// </summary>
public sealed class DatasetIngestedConsumer(TrainingDbContext db) : IConsumer<DatasetIngested>
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
            await RunScheduler.ScheduleAsync(db, run, dataset, context.CancellationToken);
        }, context.CancellationToken);
    }
}
