using Evaluation.Data;
using Platform.ServiceDefaults.Security;

namespace Evaluation.Consumers;

/// <summary>Follows who may read each dataset, and so the evaluations of what learned from it or was judged on
/// it.</summary>
public sealed class DatasetSharingChangedConsumer(EvaluationDbContext db)
    : DatasetReachProjector<EvaluationDbContext>(db);
