using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.ServiceDefaults.Security;
using Training.Data;

namespace Training.Apis;

/// <summary>
/// POST /api/sweeps: runs of <paramref name="Base"/> (a run request without datasetId) over a "grid" or a "random"
/// search space, at most <paramref name="MaxRuns"/>, ranked by <paramref name="Objective"/>; "registerBest": true (the
/// alias "best") or {"alias": "…"} moves that alias to the best run's version when the sweep completes.
/// </summary>
public sealed record CreateSweepRequest(Guid? DatasetId, string? Name, JsonObject? Base, JsonObject? Grid,
    JsonObject? Random, int? MaxRuns,
    int? Seed, string? Objective, JsonNode? RegisterBest);

/// <summary>One run of a sweep: its values of the swept parameters and where it stands.</summary>
public sealed record SweepRunResponse(Guid Id, RunState State, IReadOnlyDictionary<string, JsonNode?> Parameters,
    double? BestValidationLoss,
    int Step, int MaxSteps, int? ModelVersion, string? FailureReason, DateTimeOffset? StartedAt,
    DateTimeOffset? TrainedAt, DateTimeOffset? FinishedAt);

/// <summary>The best run so far by the sweep's objective (once the sweep has ended: the best completed run).</summary>
public sealed record SweepBestResponse(Guid RunId, double Value, IReadOnlyDictionary<string, JsonNode?> Parameters,
    string Model, int? ModelVersion);

public sealed record SweepResponse(
    Guid Id,
    string Name,
    Guid DatasetId,
    SweepState State,
    string Strategy,
    JsonNode? Space,
    int? Seed,
    int MaxRuns,
    string Objective,
    string? PromoteAlias,
    bool CancelRequested,
    Owner? Owner,
    IReadOnlyDictionary<string, int>? RunsByState,
    /// <summary>The best completed run's objective, once the sweep has ended (lists show this; GET shows the best so
    /// far too).</summary>
    double? BestValue,
    SweepBestResponse? Best,
    int? PeakRunsAtOnce,
    IReadOnlyList<SweepRunResponse>? Runs,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt)
{
    /// <summary>The sweep without its runs (lists).</summary>
    public static SweepResponse Summary(Sweep s) =>
        new(s.Id, s.Name, s.DatasetId, s.State, s.Strategy, JsonNode.Parse(s.Space), s.Seed, s.MaxRuns,
        s.Objective, s.PromoteAlias, s.CancelRequested, s.OwnerOf(), null, s.BestValue, null, null, null, s.CreatedAt,
        s.FinishedAt);

    /// <summary>The sweep with its runs, the best so far, and how many of them were in training or evaluation at
    /// once.</summary>
    public static SweepResponse From(Sweep s, IReadOnlyList<Run> runs)
    {
        var space = JsonNode.Parse(s.Space)!.AsObject();
        var paths = space.Select(p => p.Key).ToList();
        var best = s.IsFinished
            ? runs.FirstOrDefault(r => r.Id == s.BestRunId)
            : Sweep.Best(runs);
        return Summary(s) with
        {
            Space = space,
            RunsByState = runs.GroupBy(r => r.State.ToString()).OrderBy(g => g.Key,
            StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            Best = best is null ? null
            : new SweepBestResponse(best.Id, best.BestValidationLoss!.Value, ParametersOf(best, paths), best.Name,
            best.ModelVersion),
            PeakRunsAtOnce = PeakAtOnce(runs),
            Runs = [.. runs.Select(r =>
            new SweepRunResponse(r.Id, r.State, ParametersOf(r, paths), r.BestValidationLoss, r.Step, r.MaxSteps,
                r.ModelVersion, r.FailureReason, r.StartedAt, r.TrainedAt, r.FinishedAt))],
        };
    }

    /// <summary>The run's values of the swept parameters, read from its spec ("training.learningRate" →
    /// 0.003).</summary>
    public static IReadOnlyDictionary<string, JsonNode?> ParametersOf(Run run, IEnumerable<string> paths)
    {
        var sections = new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["model"] = JsonSerializer.SerializeToNode(run.Spec.Model, JsonSerializerOptions.Web),
            ["training"] = JsonSerializer.SerializeToNode(run.Spec.Training, JsonSerializerOptions.Web),
        };
        return paths.ToDictionary(p => p, p =>
        {
            var dot = p.IndexOf('.');
            return sections.GetValueOrDefault(p[..dot])?[p[(dot + 1)..]]?.DeepClone();
        }, StringComparer.Ordinal);
    }

    /// <summary>
    /// The most runs in training at one moment (from their start to the end of training, not of evaluation): above one
    /// only when several workers trained the sweep's runs side by side.
    /// </summary>
    public static int PeakAtOnce(IEnumerable<Run> runs)
    {
        var now = DateTimeOffset.UtcNow;
        var edges = runs.Where(r => r.StartedAt is not null)
            .SelectMany(r =>
            new[] { (At: r.StartedAt!.Value, Delta: 1), (At: r.TrainedAt ?? r.FinishedAt ?? now, Delta: -1) })
            // An end and a start at the same instant do not overlap: ends count first.
            .OrderBy(e => e.At).ThenBy(e => e.Delta);
        var (current, peak) = (0, 0);
        foreach (var (_, delta) in edges)
            peak = Math.Max(peak, current += delta);
        return peak;
    }
}
