using MassTransit;
using Platform.Contracts;
using Platform.ServiceDefaults.Reliability;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>Starting the run gave up after its retries: it fails with the reason instead of staying Queued.</summary>
public sealed class StartTrainingFaultConsumer(TrainingDbContext db, ILogger<StartTrainingFaultConsumer> logger)
    : IConsumer<Fault<StartTraining>>
{
    public Task Consume(ConsumeContext<Fault<StartTraining>> context)
    {
        var fault = context.Message;
        var runId = fault.Message.RunId;
        if (!fault.IsFromThisService())
            return Task.CompletedTask;
        return RunFaults.FailAsync(db, db.Runs.Where(r => r.Id == runId && r.State == RunState.Queued),
            fault.Reason("Starting the run") + "; resume the run to try again", logger, context.CancellationToken);
    }
}
