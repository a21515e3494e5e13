using Platform.Contracts;
using Training.Data;

namespace Training.Consumers;

/// <summary>Recording a failed encoding gave up after its retries: the runs waiting for that tokenizer fail with the
/// reason.</summary>
public sealed class DatasetEncodingFailedFaultConsumer(TrainingDbContext db,
    ILogger<DatasetEncodingFailedFaultConsumer> logger)
    : RunFaultConsumer<DatasetEncodingFailed>(db, logger)
{
    protected override string What => "Recording the dataset's failed encoding";
    protected override string Remedy => "; resume the run to try again";

    protected override IQueryable<Run> Stranded(IQueryable<Run> runs, DatasetEncodingFailed message) =>
        runs.Where(r => r.DatasetId == message.DatasetId && r.TokenizerKey == message.TokenizerKey
        && r.State == RunState.WaitingForData);
}
