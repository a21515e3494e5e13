using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Training.Data;

namespace Training.Runs;

/// <summary>A metric's latest value on a run: the point at its highest step (the last written among equals).</summary>
public sealed record LatestMetric(Guid RunId, string Key, double Value);

/// <summary>
/// Runs that match a <see cref="RunFilter"/>, in the order asked (default: newest first). The filter is evaluated
/// here over the newest <see cref="MaxCandidates"/> runs the caller may read, with each metric's latest value read in
/// one query; a run without a metric, parameter or tag a clause names does not match, and sorts last.
/// </summary>
public sealed class RunSearch(TrainingDbContext db)
{
    public const int MaxCandidates = 10_000;

    public async Task<IReadOnlyList<Run>> SearchAsync(IQueryable<Run> readable, IReadOnlyList<FilterClause> filter,
        IReadOnlyList<OrderTerm> order, CancellationToken cancellationToken)
    {
        var runs = await readable.AsNoTracking().OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Take(MaxCandidates).ToListAsync(cancellationToken);
        var operands = filter.Select(c => c.Operand).Concat(order.Select(o => o.Operand)).ToList();
        var metricKeys = operands.Where(o => o.Scope == FilterScope.Metrics).Select(o => o.Name).Distinct().ToArray();
        var ids = runs.Select(r => r.Id).ToArray();
        var metrics = metricKeys.Length == 0 || ids.Length == 0
            ? []
            : (await db.Database.SqlQuery<LatestMetric>($"""
                SELECT DISTINCT ON ("RunId", "Key") "RunId", "Key", "Value" FROM training.metrics
                WHERE "RunId" = ANY({ids}) AND "Key" = ANY({metricKeys})
                ORDER BY "RunId", "Key", "Step" DESC, "Id" DESC
                """).ToListAsync(cancellationToken)).ToDictionary(m => (m.RunId, m.Key), m => m.Value);
        var experiments = operands.Any(o => o is { Scope: FilterScope.Attributes, Name: "experiment" })
            ? await db.Experiments.AsNoTracking().ToDictionaryAsync(e => e.Id, e => e.Name, cancellationToken)
            : [];
        // A platform run's parameters are its spec flattened: worked out only for runs a clause asks them of.
        var parameters = new Dictionary<Guid, IReadOnlyDictionary<string, string>>();
        IReadOnlyDictionary<string, string> ParametersOf(Run run) =>
            parameters.TryGetValue(run.Id, out var known) ? known : parameters[run.Id] = RunParameters.Of(run);

        string? Text(Run run, FilterOperand operand) => operand.Scope switch
        {
            FilterScope.Metrics => metrics.TryGetValue((run.Id, operand.Name), out var v)
                ? v.ToString("R", CultureInfo.InvariantCulture)
                : null,
            FilterScope.Params => ParametersOf(run).GetValueOrDefault(operand.Name),
            FilterScope.Tags => run.Tags.Where(t => RunTags.KeyOf(t) == operand.Name).Select(RunTags.ValueOf)
                .FirstOrDefault(),
            _ => operand.Name switch
            {
                "name" => run.Name,
                "state" => run.State.ToString(),
                "step" => run.Step.ToString(CultureInfo.InvariantCulture),
                "owner" => run.OwnerName,
                "external" => run.External ? "true" : "false",
                "experiment" => run.ExperimentId is { } e ? experiments.GetValueOrDefault(e) : null,
                _ => run.CreatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture),
            },
        };

        var matching = runs.Where(r => filter.All(c => RunFilter.Compare(Text(r, c.Operand), c.Comparator, c.Value)));
        if (order.Count == 0)
            return [.. matching];
        var comparer = Comparer<Run>.Create((a, b) =>
        {
            foreach (var term in order)
            {
                var (x, y) = (Text(a, term.Operand), Text(b, term.Operand));
                // A run without the value sorts last, whichever the direction.
                if (x is null || y is null)
                {
                    if (x is null && y is null)
                        continue;
                    return x is null ? 1 : -1;
                }
                var compared = double.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out var dx)
                               && double.TryParse(y, NumberStyles.Float, CultureInfo.InvariantCulture, out var dy)
                    ? dx.CompareTo(dy)
                    : string.CompareOrdinal(x, y);
                if (compared != 0)
                    return term.Descending ? -compared : compared;
            }
            return b.CreatedAt.CompareTo(a.CreatedAt) is var newer and not 0 ? newer : b.Id.CompareTo(a.Id);
        });
        return [.. matching.Order(comparer)];
    }
}
