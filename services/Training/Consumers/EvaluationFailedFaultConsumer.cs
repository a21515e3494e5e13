using MassTransit;
using Platform.Contracts;
using Platform.ServiceDefaults.Reliability;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>Recording the run's evaluation gave up after its retries: the run fails with the reason instead of staying Evaluating.</summary>
public sealed class EvaluationFailedFaultConsumer(TrainingDbContext db, ILogger<EvaluationFailedFaultConsumer> logger) : IConsumer<Fault<EvaluationFailed>>
{
    public Task Consume(ConsumeContext<Fault<EvaluationFailed>> context)
    {
        var fault = context.Message;
        var runId = fault.Message.RunId;
        if (!fault.IsFromThisService())
            return Task.CompletedTask;
        return RunFaults.FailAsync(db, db.Runs.Where(r => r.Id == runId && r.State == RunState.Evaluating),
            fault.Reason("Registering the evaluated model"), logger, context.CancellationToken);
    }
}
