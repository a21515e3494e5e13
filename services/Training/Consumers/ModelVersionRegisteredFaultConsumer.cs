using Platform.Contracts;
using Training.Data;

namespace Training.Consumers;

/// <summary>Completing a registered run gave up after its retries: the run fails with the reason instead of staying
/// Evaluating.</summary>
public sealed class ModelVersionRegisteredFaultConsumer(TrainingDbContext db,
    ILogger<ModelVersionRegisteredFaultConsumer> logger)
    : RunFaultConsumer<ModelVersionRegistered>(db, logger)
{
    protected override string What => "Completing the registered run";

    protected override IQueryable<Run> Stranded(IQueryable<Run> runs, ModelVersionRegistered message) =>
        runs.Where(r => r.Id == message.RunId && r.State == RunState.Evaluating);
}
