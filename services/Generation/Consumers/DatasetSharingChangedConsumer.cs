using Generation.Data;
using Platform.ServiceDefaults.Security;

namespace Generation.Consumers;

/// <summary>Follows who may read each dataset, and so use the versions that learned from it.</summary>
public sealed class DatasetSharingChangedConsumer(GenerationDbContext db)
    : DatasetReachProjector<GenerationDbContext>(db);
