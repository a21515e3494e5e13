using Platform.ServiceDefaults.Security;
using Training.Data;

namespace Training.Consumers;

/// <summary>
/// Follows who may read each dataset, and so its runs and sweeps, and (for the registry module) the versions that
/// learned from it.
/// </summary>
public sealed class DatasetSharingChangedConsumer(TrainingDbContext db) : DatasetReachProjector<TrainingDbContext>(db);
