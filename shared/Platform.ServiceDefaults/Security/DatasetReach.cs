using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;

namespace Platform.ServiceDefaults.Security;

/// <summary>
/// Who may read a dataset and what was learned from it (tokenizer, runs, evaluations, model versions): its owner,
/// admins, and the keys the owner shared it with, or everyone. Each service keeps its own copy, learned from
/// DatasetSharingChanged; a dataset whose reach has not arrived yet is readable by admins only.
/// </summary>
public sealed class DatasetReach
{
    public Guid DatasetId { get; private set; }
    public Guid? OwnerId { get; private set; }
    public bool Everyone { get; private set; }
    public List<Guid> Readers { get; private set; } = [];
    public long Sequence { get; private set; }

    /// <summary>Applies a change newer than what the row has seen; older or repeated ones change nothing.</summary>
    public bool Apply(DatasetSharingChanged changed)
    {
        if (changed.Sequence <= Sequence)
            return false;
        (OwnerId, Everyone, Readers, Sequence) = (changed.OwnerId, changed.Everyone, changed.Readers.ToList(),
            changed.Sequence);
        return true;
    }

    public static DatasetReach For(Guid datasetId) => new() { DatasetId = datasetId };

    public bool Admits(Caller caller) => DatasetReaches.Admits(caller, OwnerId, Everyone, Readers);
}

public static class DatasetReaches
{
    /// <summary>Imports learned from no dataset here: what they derive from is the importer's file, shared by
    /// importing it.</summary>
    public static readonly Guid NoDataset = Guid.Empty;

    /// <summary>
    /// The one rule of who may read a dataset: those who read everything, its owner, and, when it is shared with
    /// everyone or with them by id, other keys. Ingestion applies it to its datasets, the others to their copies.
    /// </summary>
    public static bool Admits(Caller caller, Guid? ownerId, bool everyone, IEnumerable<Guid> readers) =>
        caller.ReadsEverything || everyone || caller.KeyId == ownerId || readers.Contains(caller.KeyId);

    public static void ConfigureDatasetReach(this ModelBuilder modelBuilder) =>
        modelBuilder.Entity<DatasetReach>(e =>
        {
            e.ToTable("dataset_reach");
            e.HasKey(r => r.DatasetId);
        });

    /// <summary>
    /// The datasets <paramref name="caller"/> may read, for filtering lists by lineage; null when it may read all
    /// (admins and the services themselves). Always holds <see cref="NoDataset"/>.
    /// </summary>
    public static async Task<Guid[]?> ReadableByAsync(this DbContext db, Caller caller,
        CancellationToken cancellationToken)
    {
        if (caller.ReadsEverything)
            return null;
        var key = caller.KeyId;
        var ids = await db.Set<DatasetReach>().AsNoTracking()
            .Where(r => r.Everyone || r.OwnerId == key || r.Readers.Contains(key))
            .Select(r => r.DatasetId).ToListAsync(cancellationToken);
        ids.Add(NoDataset);
        return [.. ids];
    }

    /// <summary>
    /// Whether <paramref name="caller"/> may read everything learned from <paramref name="lineage"/> (the datasets a
    /// thing derives from); null lineage is not known yet, so admins only.
    /// </summary>
    public static async Task<bool> MayReadAsync(this DbContext db, Caller caller, IReadOnlyCollection<Guid>? lineage,
        CancellationToken cancellationToken) =>
        caller.ReadsEverything
        || (await db.ReadableAmongAsync(caller, lineage ?? [], cancellationToken)).Covers(lineage);

    /// <summary>
    /// Which of <paramref name="datasetIds"/> <paramref name="caller"/> may read (with <see cref="NoDataset"/>); null
    /// when it may read all. Looks up those datasets' reach only, by key: for a request about a few things (one
    /// model, its versions), where <see cref="ReadableByAsync"/> would list every dataset the caller may read.
    /// </summary>
    public static async Task<HashSet<Guid>?> ReadableAmongAsync(this DbContext db, Caller caller,
        IEnumerable<Guid> datasetIds, CancellationToken cancellationToken)
    {
        if (caller.ReadsEverything)
            return null;
        var ids = datasetIds.Where(d => d != NoDataset).Distinct().ToList();
        var reaches = ids.Count == 0
            ? []
            : await db.Set<DatasetReach>().AsNoTracking().Where(r => ids.Contains(r.DatasetId))
                .ToListAsync(cancellationToken);
        return [NoDataset, .. reaches.Where(r => r.Admits(caller)).Select(r => r.DatasetId)];
    }

    public static Task<bool> MayReadAsync(this DbContext db, Caller caller, Guid datasetId,
        CancellationToken cancellationToken) =>
        db.MayReadAsync(caller, [datasetId], cancellationToken);

    /// <summary>Whether every dataset of <paramref name="lineage"/> is among <paramref name="readable"/> (null: all
    /// are).</summary>
    public static bool Covers(this IEnumerable<Guid>? readable, IEnumerable<Guid>? lineage) =>
        readable is null || lineage is not null && lineage.All(readable.Contains);
}

/// <summary>
/// Keeps <typeparamref name="TContext"/>'s copy of datasets' reach in step with Ingestion; idempotent by sequence.
/// Each service derives its own consumer from it, so its queue is named after the service's consumer.
/// </summary>
public abstract class DatasetReachProjector<TContext>(TContext db) : IConsumer<DatasetSharingChanged> where TContext
    : DbContext
{
    public async Task Consume(ConsumeContext<DatasetSharingChanged> context)
    {
        var m = context.Message;
        var reaches = db.Set<DatasetReach>();
        var reach = await reaches.FindAsync([m.DatasetId], context.CancellationToken);
        if (reach is null)
            reaches.Add(reach = DatasetReach.For(m.DatasetId));
        if (reach.Apply(m))
            await db.SaveChangesAsync(context.CancellationToken);
    }
}
