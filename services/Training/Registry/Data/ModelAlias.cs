using Platform.Contracts;

namespace Training.Registry.Data;

/// <summary>
/// A named pointer to one version of a model ("production" → v3). Moved only through <see cref="MoveTo"/>, under a lock
/// on the model's name, so two moves never interleave; each move is kept in <see cref="ModelAliasMove"/>.
/// </summary>
public sealed class ModelAlias
{
    public string Name { get; private set; } = "";
    public string Alias { get; private set; } = "";
    public int Version { get; private set; }
    /// <summary>The id of the move that set it: what <see cref="ModelAliasMoved.Sequence"/> carries.</summary>
    public long Sequence { get; private set; }
    public DateTimeOffset UpdatedAt { get; private set; }
    public string UpdatedBy { get; private set; } = "";

    public static ModelAlias Create(string name, string alias) => new() { Name = name, Alias = alias };

    public void MoveTo(ModelAliasMove move)
    {
        if (move.Name != Name || move.Alias != Alias || move.ToVersion is not { } version)
            throw new InvalidOperationException($"Move {move.Id} is not a move of {Name}@{Alias} to a version.");
        Version = version;
        Sequence = move.Id;
        UpdatedAt = move.At;
        UpdatedBy = move.By;
    }
}

/// <summary>One set, move or removal of an alias: who, when, from which version to which (null: none).</summary>
public sealed class ModelAliasMove
{
    public const string Sequence = "model_alias_move_ids";

    public long Id { get; private set; }
    public string Name { get; private set; } = "";
    public string Alias { get; private set; } = "";
    public int? FromVersion { get; private set; }
    public int? ToVersion { get; private set; }
    public string By { get; private set; } = "";
    public Guid ByKeyId { get; private set; }
    public DateTimeOffset At { get; private set; }

    public static ModelAliasMove Of(long id, string name, string alias, int? from, int? to, string by, Guid byKeyId,
        DateTimeOffset at) =>
        new()
        {
            Id = id,
            Name = name,
            Alias = alias,
            FromVersion = from,
            ToVersion = to,
            By = by,
            ByKeyId = byKeyId,
            At = at
        };

    public ModelAliasMoved Event() => new(Name, Alias, ToVersion, Id, At);
}

/// <summary>Bounds on one figure of a version that a move onto a gated alias must meet.</summary>
public sealed record GateBound(double? Min, double? Max);

/// <summary>
/// What a version needs before an alias may point to it: e.g. production requires val_loss ≤ 1.9. Figures are the
/// version's evaluation metrics (loss, perplexity, top1Accuracy, …) and val_loss, its run's final validation loss.
/// </summary>
public sealed class PromotionGate
{
    public string Name { get; private set; } = "";
    public string Alias { get; private set; } = "";
    public Dictionary<string, GateBound> Requires { get; private set; } = [];
    public DateTimeOffset UpdatedAt { get; private set; }
    public string UpdatedBy { get; private set; } = "";

    public static PromotionGate Create(string name, string alias) => new() { Name = name, Alias = alias };

    public void Require(Dictionary<string, GateBound> requires, string by, DateTimeOffset at)
    {
        Requires = requires;
        UpdatedBy = by;
        UpdatedAt = at;
    }

    /// <summary>Every figure of the gate's, with the version's value (null: the version has none) and whether it
    /// passes.</summary>
    public IReadOnlyList<GateCheck> Check(ModelVersion version) =>
        [.. Requires.Select(r =>
        {
            var value = GateFigures.Of(version, r.Key);
            var passes = value is { } v && (r.Value.Min is not { } min || v >= min)
                && (r.Value.Max is not { } max || v <= max);
            return new GateCheck(r.Key, value, r.Value.Min, r.Value.Max, passes);
        })];
}

public sealed record GateCheck(string Figure, double? Value, double? Min, double? Max, bool Passes);

/// <summary>
/// The figures a gate may name, read from a version: val_loss (its run's final validation loss) and every registered
/// evaluation metric, by the name its evaluation document uses (snake_case also: "top1_accuracy" is top1Accuracy).
/// </summary>
public static class GateFigures
{
    public const string ValidationLoss = "val_loss";

    public static IEnumerable<string> Names => [ValidationLoss, .. Platform.ML.EvaluationMetrics.Names];

    public static bool IsKnown(string figure) => figure == ValidationLoss
        || Platform.ML.EvaluationMetrics.Find(figure) is not null;

    public static double? Of(ModelVersion version, string figure) =>
        (figure == ValidationLoss ? version.ValidationLoss
            : Platform.ML.EvaluationMetrics.Find(figure) is { } metric ? version.Evaluation?[metric.Name] : null)
        is { } value && double.IsFinite(value) ? value : null;
}
