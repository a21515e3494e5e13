namespace Platform.ServiceDefaults.Reliability;

/// <summary>
/// Chaos rules for tests and game days (FaultInjection:Rules:N:{Point, Match, Kind}); none by default. A rule fires at
/// a named point (a consumed message's type name, or a point such as "training-step") when the point's subject (the
/// message as JSON, or the run's name) contains Match.
/// </summary>
public sealed class FaultInjectionOptions
{
    public const string Section = "FaultInjection";

    public List<FaultRule> Rules { get; set; } = [];
}

public sealed class FaultRule
{
    public string Point { get; set; } = "";
    public string Match { get; set; } = "";
    /// <summary>io, database, unknown, or kill (the process ends as if kill -9 had hit it).</summary>
    public string Kind { get; set; } = "unknown";
}
