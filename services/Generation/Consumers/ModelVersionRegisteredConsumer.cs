using Generation.Data;
using MassTransit;
using Platform.Contracts;

namespace Generation.Consumers;

/// <summary>
/// Makes a newly registered version servable; keyed by (name, version), so redelivery changes nothing. A version from
/// before sharing is announced again with its lineage, which it then takes.
/// </summary>
public sealed class ModelVersionRegisteredConsumer(GenerationDbContext db) : IConsumer<ModelVersionRegistered>
{
    public async Task Consume(ConsumeContext<ModelVersionRegistered> context)
    {
        var m = context.Message;
        if (await db.Models.FindAsync([m.Name, m.Version], context.CancellationToken) is { } known)
        {
            if (known.Lineage is null && m.Lineage is { } lineage)
            {
                known.Lineage = [.. lineage];
                await db.SaveChangesAsync(context.CancellationToken);
            }
            return;
        }
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
            Lineage = m.Lineage?.ToList(),
            ChatTemplate = m.ChatTemplate,
        });
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
