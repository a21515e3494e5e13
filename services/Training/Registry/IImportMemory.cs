using Platform.ML;

namespace Training.Registry;

/// <summary>
/// The memory an import needs in the worker, against the worker's limit. The registry asks; the service hosting it
/// answers, as its run estimator knows the worker.
/// </summary>
public interface IImportMemory
{
    MemoryEstimate Of(ImportPlan plan);
}
