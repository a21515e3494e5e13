using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;

namespace Training.Data;

/// <summary>Running until every run of the sweep has ended; then Completed (some run completed), Failed or
/// Cancelled.</summary>
public enum SweepState { Running, Completed, Failed, Cancelled }

/// <summary>A transition the sweep's current state does not allow; the message says why, for a 409.</summary>
public sealed class SweepStateException(string message) : InvalidOperationException(message);

/// <summary>
/// A hyper-parameter search: runs of one base spec, each with its own values of the swept parameters, created together
/// and trained by whichever training workers are free. The runs carry the sweep's id; the sweep keeps its search
/// space and, once every run has ended, the best run by its objective.
/// </summary>
public sealed class Sweep : IOwned, IListed
{
    public const string ValidationLoss = "val_loss";

    public Guid Id { get; private set; }
    public string Name { get; private set; } = "";
    public Guid DatasetId { get; private set; }
    public SweepState State { get; private set; }
    /// <summary>"grid" or "random".</summary>
    public string Strategy { get; private set; } = "";
    /// <summary>The search space as the request gave it (JSON: parameter path to a list or a range).</summary>
    public string Space { get; private set; } = "{}";
    /// <summary>The seed of a random search's draws, so that the same request draws the same runs.</summary>
    public int? Seed { get; private set; }
    public int MaxRuns { get; private set; }
    public string Objective { get; private set; } = ValidationLoss;
    /// <summary>The alias moved to the best run's version when the sweep completes; null: none is.</summary>
    public string? PromoteAlias { get; private set; }
    public bool CancelRequested { get; private set; }
    public Guid? BestRunId { get; private set; }
    public double? BestValue { get; private set; }
    public Guid? OwnerId { get; private set; }
    public string? OwnerName { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset UpdatedAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }

    public bool IsFinished => State != SweepState.Running;

    public static Sweep Create(Guid id, string name, Guid datasetId, string strategy, string space, int? seed,
        int maxRuns, string objective,
        string? promoteAlias, Owner? owner) => new()
        {
            Id = id,
            Name = name,
            DatasetId = datasetId,
            Strategy = strategy,
            Space = space,
            Seed = seed,
            MaxRuns = maxRuns,
            Objective = objective,
            PromoteAlias = promoteAlias,
            OwnerId = owner?.Id,
            OwnerName = owner?.Name,
            CreatedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
        };

    /// <summary>Cancellation of every run not yet ended is asked for; the sweep ends Cancelled when they
    /// have.</summary>
    public void RequestCancel()
    {
        if (IsFinished)
            throw new SweepStateException($"Sweep {Id} is {State}.");
        CancelRequested = true;
        UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>Every run has ended: the sweep ends, with the best completed run by its objective.</summary>
    public void Finish(IReadOnlyCollection<Run> runs)
    {
        if (IsFinished)
            throw new SweepStateException($"Sweep {Id} is {State} already.");
        if (runs.FirstOrDefault(r => !r.IsFinished) is { } unfinished)
            throw new SweepStateException($"Run {unfinished.Id} of sweep {Id} is {unfinished.State}.");
        var best = Best(runs.Where(r => r.State == RunState.Completed));
        (BestRunId, BestValue) = (best?.Id, best?.BestValidationLoss);
        State = CancelRequested ? SweepState.Cancelled : runs.Any(r => r.State == RunState.Completed)
            ? SweepState.Completed : SweepState.Failed;
        FinishedAt = UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>The run with the lowest best validation loss (the earliest created on a tie); null when none has
    /// one.</summary>
    public static Run? Best(IEnumerable<Run> runs) => runs.Where(r => r.BestValidationLoss is not null)
        .OrderBy(r => r.BestValidationLoss).ThenBy(r => r.CreatedAt).ThenBy(r => r.Id).FirstOrDefault();

    /// <summary>What the registry is told when the sweep has ended: it moves the alias, if one was asked for.</summary>
    public SweepCompleted Completed(Run? best) =>
        new(Id, State.ToString(), best?.Id, best?.Name, best?.ModelVersion, BestValue, PromoteAlias,
        OwnerId is { } id ? new Owner(id, OwnerName ?? "") : null, FinishedAt ?? DateTimeOffset.UtcNow);
}
