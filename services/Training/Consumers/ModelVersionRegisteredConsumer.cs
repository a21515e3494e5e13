using MassTransit;
using Platform.Contracts;
using Training.Data;

namespace Training.Consumers;

/// <summary>
/// The registry registered the run's model: the run is Completed with that version. A redelivery, a run deleted
/// meanwhile (the registry drops the version on RunDeleted) and an import (no run) change nothing.
/// </summary>
public sealed class ModelVersionRegisteredConsumer(TrainingDbContext db,
    ILogger<ModelVersionRegisteredConsumer> logger) : IConsumer<ModelVersionRegistered>
{
    public async Task Consume(ConsumeContext<ModelVersionRegistered> context)
    {
        var m = context.Message;
        var run = await db.Runs.FindAsync([m.RunId], context.CancellationToken);
        if (run is not { State: RunState.Evaluating })
            return;
        run.Complete(m.Version);
        await db.SaveChangesAsync(context.CancellationToken);
        logger.LogInformation("run {RunId} completed as {Name} v{Version}", run.Id, m.Name, m.Version);
    }
}
