using Platform.Contracts;
using Training.Data;

namespace Training.Consumers;

/// <summary>Recording the dataset's tokenization gave up after its retries: the runs waiting for it fail with the
/// reason.</summary>
public sealed class DatasetTokenizedFaultConsumer(TrainingDbContext db,
    ILogger<DatasetTokenizedFaultConsumer> logger) : RunFaultConsumer<DatasetTokenized>(db, logger)
{
    protected override string What => "Recording the dataset's tokenization";
    protected override string Remedy => "; resume the run to try again";

    protected override IQueryable<Run> Stranded(IQueryable<Run> runs, DatasetTokenized message) =>
        runs.Where(r => r.DatasetId == message.DatasetId && r.State == RunState.WaitingForData);
}
