using Platform.Contracts;
using Training.Data;

namespace Training.Consumers;

/// <summary>The registry gave up recording a trained run after its retries: the run fails with the reason instead of
/// staying Evaluating.</summary>
public sealed class TrainingCompletedFaultConsumer(TrainingDbContext db, ILogger<TrainingCompletedFaultConsumer> logger)
    : RunFaultConsumer<TrainingCompleted>(db, logger)
{
    protected override string What => "Recording the trained model in the registry";

    protected override IQueryable<Run> Stranded(IQueryable<Run> runs, TrainingCompleted message) =>
        runs.Where(r => r.Id == message.RunId && r.State == RunState.Evaluating);
}
