using MassTransit;
using Platform.Contracts;
using Training.Data;

namespace Training.Consumers;

/// <summary>The version a run registered was deleted from the registry: the run no longer has one, so it may be deleted
/// without cascade.</summary>
public sealed class ModelVersionDeletedConsumer(TrainingDbContext db) : IConsumer<ModelVersionDeleted>
{
    public async Task Consume(ConsumeContext<ModelVersionDeleted> context)
    {
        var m = context.Message;
        var run = await db.Runs.FindAsync([m.RunId], context.CancellationToken);
        if (run is null || !run.ForgetVersion(m.Version))
            return;
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
