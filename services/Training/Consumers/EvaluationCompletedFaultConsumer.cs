using Platform.Contracts;
using Training.Data;

namespace Training.Consumers;

/// <summary>The registry gave up registering the evaluated model after its retries: the run fails with the reason
/// instead of staying Evaluating.</summary>
public sealed class EvaluationCompletedFaultConsumer(TrainingDbContext db,
    ILogger<EvaluationCompletedFaultConsumer> logger) : RunFaultConsumer<EvaluationCompleted>(db, logger)
{
    protected override string What => "Registering the evaluated model";

    protected override IQueryable<Run> Stranded(IQueryable<Run> runs, EvaluationCompleted message) =>
        runs.Where(r => r.Id == message.RunId && r.State == RunState.Evaluating);
}
