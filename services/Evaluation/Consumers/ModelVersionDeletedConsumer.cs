using Evaluation.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;

namespace Evaluation.Consumers;

/// <summary>Forgets a deleted version and the evaluations requested of it. Idempotent.</summary>
public sealed class ModelVersionDeletedConsumer(EvaluationDbContext db) : IConsumer<ModelVersionDeleted>
{
    public async Task Consume(ConsumeContext<ModelVersionDeleted> context)
    {
        var m = context.Message;
        await db.ModelVersions.Where(v => v.Name == m.Name
            && v.Version == m.Version).ExecuteDeleteAsync(context.CancellationToken);
        await db.Evaluations.Where(e => e.ModelName == m.Name
            && e.ModelVersion == m.Version).ExecuteDeleteAsync(context.CancellationToken);
    }
}
