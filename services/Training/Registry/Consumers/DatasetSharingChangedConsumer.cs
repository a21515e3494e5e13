using Platform.ServiceDefaults.Security;
using Training.Registry.Data;

namespace Training.Registry.Consumers;

/// <summary>Follows who may read each dataset, and so the versions that learned from it.</summary>
public sealed class DatasetSharingChangedConsumer(RegistryDbContext db) : DatasetReachProjector<RegistryDbContext>(db);
