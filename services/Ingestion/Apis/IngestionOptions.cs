namespace Ingestion.Apis;

public sealed class IngestionOptions
{
    /// <summary>Largest accepted corpus, in bytes of the uploaded file (default 100 MiB).</summary>
    public long MaxUploadBytes { get; set; } = 100L * 1024 * 1024;
}
