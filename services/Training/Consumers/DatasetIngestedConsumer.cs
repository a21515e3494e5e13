using MassTransit;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// Records the dataset in this service's projection and, when the upload asked for it, creates the
/// auto-train run. The run id was chosen at upload, so a redelivery finds the run and does nothing.
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
            if (m.AutoTrain is not { } auto || await db.Runs.FindAsync([auto.RunId], context.CancellationToken) is not null)
                return;
            var run = new Run
            {
                Id = auto.RunId,
                Name = auto.Spec.Name,
                DatasetId = m.DatasetId,
                Spec = auto.Spec,
                MaxSteps = auto.Spec.Training.MaxSteps,
                CreatedAt = DateTimeOffset.UtcNow,
            };
            db.Runs.Add(run);
            RunScheduler.Schedule(db, run, dataset);
        }, context.CancellationToken);
    }
}
