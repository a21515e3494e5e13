using Platform.Contracts;
using Training.Data;

namespace Training.Consumers;

/// <summary>Starting the run gave up after its retries: it fails with the reason instead of staying Queued.</summary>
public sealed class StartTrainingFaultConsumer(TrainingDbContext db,
    ILogger<StartTrainingFaultConsumer> logger) : RunFaultConsumer<StartTraining>(db, logger)
{
    protected override string What => "Starting the run";
    protected override string Remedy => "; resume the run to try again";

    protected override IQueryable<Run> Stranded(IQueryable<Run> runs, StartTraining message) =>
        runs.Where(r => r.Id == message.RunId && r.State == RunState.Queued);
}
