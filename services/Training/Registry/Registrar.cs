using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;
using Training.Registry.Data;

namespace Training.Registry;

/// <summary>
/// Turns a run into a registered version once its candidate has both halves (see <see cref="RegistrationCandidate"/>).
/// Each change happens under the run's advisory lock, so the two halves arriving at once register it once; a version is
/// numbered under its name's lock, so two runs (or a run and an import) of one name registering at once take turns.
/// </summary>
public sealed class Registrar(RegistryDbContext db, ILogger<Registrar> logger)
{
    /// <summary>Applies <paramref name="record"/> to the run's candidate (made if new), then registers it if it is
    /// ready.</summary>
    public Task RecordAsync(Guid runId, Action<RegistrationCandidate> record, CancellationToken cancellationToken) =>
        db.ChangeUnderLockAsync(runId, async () =>
        {
            var candidate = await CandidateAsync(runId, cancellationToken);
            record(candidate);
            if (candidate.IsReady)
            {
                // A run created before names were claimed claims its own here; a claimed name is not checked
                // again: the run was refused at creation if the name was not its owner's.
                await ModelNames.ClaimAsync(db, candidate.Name, candidate.OwnerId is { } ownerId
                    ? new Owner(ownerId, candidate.OwnerName ?? "") : null, cancellationToken);
                await ModelNames.LockVersionsAsync(db, candidate.Name, cancellationToken);
                var version = Add(candidate.Register(await NextVersionAsync(candidate.Name, cancellationToken),
                    DateTimeOffset.UtcNow));
                logger.LogInformation("Registered model {Name} v{Version} from run {RunId}", version.Name,
                    version.Version, runId);
            }
            return true;
        }, cancellationToken);

    /// <summary>The number the next version of <paramref name="name"/> takes.</summary>
    public async Task<int> NextVersionAsync(string name, CancellationToken cancellationToken) =>
        1 + (await db.ModelVersions.Where(v => v.Name == name).MaxAsync(v => (int?)v.Version, cancellationToken) ?? 0);

    /// <summary>Adds a version (a trained run's or an import's), announced as ModelVersionRegistered; the caller
    /// saves.</summary>
    public ModelVersion Add(ModelVersion version)
    {
        db.ModelVersions.Add(version);
        db.PublishViaOutbox(Registered(version));
        return version;
    }

    public static ModelVersionRegistered Registered(ModelVersion version) =>
        new(version.Name, version.Version, version.RunId, version.CheckpointKey, version.CheckpointSha256,
            version.TokenizerKey, version.Evaluation, version.CreatedAt, version.OwnerOf(), version.Architecture,
            version.SourceTokenizerKey)
        { Lineage = version.Lineage, ChatTemplate = version.ChatTemplate };

    /// <summary>
    /// A deleted run registers nothing more, and the versions it registered go: their aliases are removed (each move
    /// recorded) and ModelVersionDeleted tells Training, Generation and Evaluation.
    /// </summary>
    public Task ForgetRunAsync(Guid runId, CancellationToken cancellationToken) =>
        db.ChangeUnderLockAsync(runId, async () =>
        {
            (await CandidateAsync(runId, cancellationToken)).MarkDeleted();
            foreach (var version in await db.ModelVersions.Where(v => v.RunId == runId).ToListAsync(cancellationToken))
                await RemoveAsync(version, "deletion of run " + runId, cancellationToken);
            return true;
        }, cancellationToken);

    private async Task<RegistrationCandidate> CandidateAsync(Guid runId, CancellationToken cancellationToken) =>
        await db.Candidates.FindAsync([runId], cancellationToken)
        ?? db.Candidates.Add(RegistrationCandidate.For(runId)).Entity;

    /// <summary>Removes a version with the aliases that point to it, announced as ModelVersionDeleted; the caller
    /// saves.</summary>
    public async Task RemoveAsync(ModelVersion version, string reason, CancellationToken cancellationToken)
    {
        db.ModelVersions.Remove(version);
        await AliasBook.RemoveAllToAsync(db, version.Name, version.Version, reason, cancellationToken);
        db.PublishViaOutbox(new ModelVersionDeleted(version.Name, version.Version, version.RunId,
            DateTimeOffset.UtcNow));
        logger.LogInformation("Model {Name} v{Version} deleted ({Reason})", version.Name, version.Version, reason);
    }
}
