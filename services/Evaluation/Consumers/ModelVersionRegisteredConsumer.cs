using Evaluation.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;

namespace Evaluation.Consumers;

/// <summary>
/// Records a registered version so it can be evaluated on request; keyed by (name, version), so redelivery changes
/// nothing. A version from before sharing is announced again with its lineage, which its evaluations then take.
/// </summary>
public sealed class ModelVersionRegisteredConsumer(EvaluationDbContext db) : IConsumer<ModelVersionRegistered>
{
    public async Task Consume(ConsumeContext<ModelVersionRegistered> context)
    {
        var m = context.Message;
        var known = await db.ModelVersions.FindAsync([m.Name, m.Version], context.CancellationToken);
        if (known is not null)
        {
            if (known.Lineage is not null || m.Lineage is not { } lineage)
                return;
            known.Lineage = [.. lineage];
            foreach (var evaluation in await db.Evaluations.Where(e => e.RunId == m.RunId && e.Lineage == null)
                         .ToListAsync(context.CancellationToken))
                evaluation.Lineage = evaluation.DatasetId is { } judgedOn ? [.. lineage, judgedOn] : [.. lineage];
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }
        db.ModelVersions.Add(new KnownModelVersion
        {
            Name = m.Name,
            Version = m.Version,
            RunId = m.RunId,
            CheckpointKey = m.CheckpointKey,
            CheckpointSha256 = m.CheckpointSha256,
            TokenizerKey = m.TokenizerKey,
            SourceTokenizerKey = m.SourceTokenizerKey,
            Architecture = m.Architecture,
            Lineage = m.Lineage?.ToList(),
        });
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
