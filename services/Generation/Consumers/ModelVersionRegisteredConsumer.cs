using Generation.Data;
using MassTransit;
using Platform.Contracts;

namespace Generation.Consumers;

/// <summary>Makes a newly registered version servable; keyed by (name, version), so redelivery changes nothing.</summary>
public sealed class ModelVersionRegisteredConsumer(GenerationDbContext db) : IConsumer<ModelVersionRegistered>
{
    public async Task Consume(ConsumeContext<ModelVersionRegistered> context)
    {
        var m = context.Message;
        if (await db.Models.FindAsync([m.Name, m.Version], context.CancellationToken) is not null)
            return;
        db.Models.Add(new ServableModel
        {
            Name = m.Name,
            Version = m.Version,
            RunId = m.RunId,
            CheckpointKey = m.CheckpointKey,
            CheckpointSha256 = m.CheckpointSha256,
            TokenizerKey = m.TokenizerKey,
            Architecture = m.Architecture,
            SourceTokenizerKey = m.SourceTokenizerKey,
            OwnerName = m.Owner?.Name,
            RegisteredAt = m.RegisteredAt,
        });
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
