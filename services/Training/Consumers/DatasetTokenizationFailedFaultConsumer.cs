using MassTransit;
using Platform.Contracts;
using Platform.ServiceDefaults.Reliability;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>Recording the dataset's tokenization gave up after its retries: the runs waiting for it fail with the reason.</summary>
public sealed class DatasetTokenizationFailedFaultConsumer(TrainingDbContext db, ILogger<DatasetTokenizationFailedFaultConsumer> logger) : IConsumer<Fault<DatasetTokenizationFailed>>
{
    public Task Consume(ConsumeContext<Fault<DatasetTokenizationFailed>> context)
    {
        var fault = context.Message;
        if (!fault.IsFromThisService())
            return Task.CompletedTask;
        var datasetId = fault.Message.DatasetId;
        return RunFaults.FailAsync(db, db.Runs.Where(r => r.DatasetId == datasetId && r.State == RunState.WaitingForData),
            fault.Reason("Recording the dataset's tokenization") + "; resume the run to try again", logger, context.CancellationToken);
    }
}
