using Platform.Contracts;
using Training.Data;

namespace Training.Consumers;

/// <summary>Recording the run's failed evaluation gave up after its retries: the run fails with the reason instead of
/// staying Evaluating.</summary>
public sealed class EvaluationFailedFaultConsumer(TrainingDbContext db,
    ILogger<EvaluationFailedFaultConsumer> logger) : RunFaultConsumer<EvaluationFailed>(db, logger)
{
    protected override string What => "Registering the evaluated model";

    protected override IQueryable<Run> Stranded(IQueryable<Run> runs, EvaluationFailed message) =>
        runs.Where(r => r.Id == message.RunId && r.State == RunState.Evaluating);
}
