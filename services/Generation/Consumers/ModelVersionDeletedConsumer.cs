using Generation.Data;
using Generation.Serving;
using MassTransit;
using Platform.Contracts;

namespace Generation.Consumers;

/// <summary>A version deleted from the registry is no longer served: forgotten here and in the model cache.
/// Idempotent.</summary>
public sealed class ModelVersionDeletedConsumer(GenerationDbContext db,
    ModelCache cache) : IConsumer<ModelVersionDeleted>
{
    public async Task Consume(ConsumeContext<ModelVersionDeleted> context)
    {
        var m = context.Message;
        if (await db.Models.FindAsync([m.Name, m.Version], context.CancellationToken) is { } model)
        {
            db.Models.Remove(model);
            await db.SaveChangesAsync(context.CancellationToken);
            cache.Forget(model.CheckpointKey);
        }
    }
}
