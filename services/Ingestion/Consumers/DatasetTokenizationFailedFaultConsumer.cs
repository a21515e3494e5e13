using Ingestion.Data;
using Platform.Contracts;

namespace Ingestion.Consumers;

/// <summary>Recording DatasetTokenizationFailed gave up after its retries: the dataset fails with the reason instead of
/// staying Ingested.</summary>
public sealed class DatasetTokenizationFailedFaultConsumer(
    IngestionDbContext db) : DatasetFaultConsumer<DatasetTokenizationFailed>(db)
{
    protected override Guid DatasetOf(DatasetTokenizationFailed message) => message.DatasetId;
}
