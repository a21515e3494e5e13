using Ingestion.Data;
using Platform.Contracts;

namespace Ingestion.Consumers;

/// <summary>Recording DatasetTokenized gave up after its retries: the dataset fails with the reason instead of staying
/// Ingested.</summary>
public sealed class DatasetTokenizedFaultConsumer(IngestionDbContext db) : DatasetFaultConsumer<DatasetTokenized>(db)
{
    protected override Guid DatasetOf(DatasetTokenized message) => message.DatasetId;
}
