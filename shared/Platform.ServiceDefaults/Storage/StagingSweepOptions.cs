namespace Platform.ServiceDefaults.Storage;

/// <summary>Artifacts:StagingMaxAge (a staged file untouched this long is abandoned) and
/// Artifacts:StagingSweepInterval.</summary>
public sealed class StagingSweepOptions
{
    public const string Section = "Artifacts";

    public TimeSpan StagingMaxAge { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan StagingSweepInterval { get; set; } = TimeSpan.FromMinutes(10);
}
