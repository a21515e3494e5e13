using Evaluation.Data;
using MassTransit;
using Platform.Contracts;

namespace Evaluation.Consumers;

/// <summary>Records a registered version so it can be evaluated on request; keyed by (name, version), so redelivery changes nothing.</summary>
public sealed class ModelVersionRegisteredConsumer(EvaluationDbContext db) : IConsumer<ModelVersionRegistered>
{
    public async Task Consume(ConsumeContext<ModelVersionRegistered> context)
    {
        var m = context.Message;
        if (await db.ModelVersions.FindAsync([m.Name, m.Version], context.CancellationToken) is not null)
            return;
        db.ModelVersions.Add(new KnownModelVersion
        {
            Name = m.Name, Version = m.Version, RunId = m.RunId, CheckpointKey = m.CheckpointKey, CheckpointSha256 = m.CheckpointSha256,
            TokenizerKey = m.TokenizerKey, SourceTokenizerKey = m.SourceTokenizerKey, Architecture = m.Architecture,
        });
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
