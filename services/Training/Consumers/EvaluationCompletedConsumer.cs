using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Security;
using Training.Data;

namespace Training.Consumers;

/// <summary>
/// Registers the evaluated run as the next version of its model, owned by the run's owner, and completes the run.
/// The unique index on RunId makes a redelivery a no-op; the unique (name, version) index makes two concurrent
/// registrations of one name retry with the next number. A run deleted meanwhile registers nothing.
/// </summary>
public sealed class EvaluationCompletedConsumer(TrainingDbContext db, ILogger<EvaluationCompletedConsumer> logger) : IConsumer<EvaluationCompleted>
{
    public async Task Consume(ConsumeContext<EvaluationCompleted> context)
    {
        var m = context.Message;
        var run = await db.Runs.FindAsync([m.RunId], context.CancellationToken);
        if (run is null || run.State != RunState.Evaluating || run.CheckpointKey is null
            || await db.ModelVersions.AnyAsync(v => v.RunId == m.RunId, context.CancellationToken))
            return;
        var dataset = await db.Datasets.FindAsync([run.DatasetId], context.CancellationToken);

        var next = 1 + (await db.ModelVersions.Where(v => v.Name == run.Name).MaxAsync(v => (int?)v.Version, context.CancellationToken) ?? 0);
        var version = new ModelVersion
        {
            Id = Guid.NewGuid(),
            Name = run.Name,
            Version = next,
            RunId = run.Id,
            DatasetId = run.DatasetId,
            OwnerId = run.OwnerId,
            OwnerName = run.OwnerName,
            CheckpointKey = run.CheckpointKey,
            CheckpointSha256 = run.CheckpointSha256!,
            TokenizerKey = run.TokenizerKey ?? dataset?.TokenizerKey ?? "",
            Architecture = run.Spec.Model.Architecture,
            SourceTokenizerKey = dataset?.SourceTokenizerKey,
            BaseModel = run.BaseModel,
            FineTuneMethod = run.BaseModel is null ? null : run.Spec.FineTune?.Method ?? FineTuneMethods.Full,
            Evaluation = m.Figures,
            ValidationLoss = run.Spec.Training.Registration == Registrations.Best ? run.BestValidationLoss : run.LatestValidationLoss,
            Cost = run.Cost,
            Sample = m.Sample,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        db.ModelVersions.Add(version);
        run.Complete(next);
        db.PublishViaOutbox(new ModelVersionRegistered(version.Name, version.Version, run.Id, version.CheckpointKey,
            version.CheckpointSha256, version.TokenizerKey, m.Figures, version.CreatedAt,
            run.OwnerOf(), version.Architecture, version.SourceTokenizerKey));
        await db.SaveChangesAsync(context.CancellationToken);
        logger.LogInformation("Registered model {Name} v{Version} from run {RunId}", version.Name, version.Version, run.Id);
    }
}
