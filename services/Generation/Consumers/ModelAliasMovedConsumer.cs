using Generation.Data;
using Platform.ServiceDefaults.Persistence;

namespace Generation.Consumers;

/// <summary>Keeps this service's copy of the aliases, so "name@alias" resolves here.</summary>
public sealed class ModelAliasMovedConsumer(GenerationDbContext db) : ModelAliasProjector<GenerationDbContext>(db);
