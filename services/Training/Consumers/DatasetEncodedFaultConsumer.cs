using Platform.Contracts;
using Training.Data;

namespace Training.Consumers;

/// <summary>Recording a dataset's encoding gave up after its retries: the runs waiting for that tokenizer fail with the
/// reason.</summary>
public sealed class DatasetEncodedFaultConsumer(TrainingDbContext db,
    ILogger<DatasetEncodedFaultConsumer> logger) : RunFaultConsumer<DatasetEncoded>(db, logger)
{
    protected override string What => "Recording the dataset's encoding";
    protected override string Remedy => "; resume the run to try again";

    protected override IQueryable<Run> Stranded(IQueryable<Run> runs, DatasetEncoded message) =>
        runs.Where(r => r.DatasetId == message.DatasetId && r.TokenizerKey == message.TokenizerKey
        && r.State == RunState.WaitingForData);
}
