using Evaluation.Data;
using Platform.ServiceDefaults.Persistence;

namespace Evaluation.Consumers;

/// <summary>Keeps this service's copy of the aliases, so "name@alias" resolves here.</summary>
public sealed class ModelAliasMovedConsumer(EvaluationDbContext db) : ModelAliasProjector<EvaluationDbContext>(db);
