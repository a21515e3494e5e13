using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;
using Training.Data;

namespace Training.Apis;

/// <summary>How a run endpoint finds the run it acts on, and what it answers when it may not.</summary>
internal static class RunLookup
{
    public static ProblemHttpResult NotFound(Guid id) => Problems.NotFound("Run not found.", $"No run has id {id}.");

    /// <summary>The run (tracked), if the caller may change it: its owner or an admin. 404 when the caller may not
    /// read it, 403 when it may read but not change it.</summary>
    public static async Task<(Run? Run, ProblemHttpResult? Problem)> ChangeableAsync(Guid id, HttpContext http,
        TrainingDbContext db, CancellationToken cancellationToken)
    {
        var readable = await db.ReadableRunsAsync(http.Caller(), cancellationToken);
        var run = await readable.FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (run is null)
            return (null, NotFound(id));
        if (!http.Caller().MayChange(run.OwnerId))
            return (null, AccessProblems.NotOwner("run"));
        return (run, null);
    }

    /// <summary>Whether the caller may read the run (a 404 otherwise).</summary>
    public static async Task<bool> IsReadableAsync(Guid id, HttpContext http, TrainingDbContext db,
        CancellationToken cancellationToken) =>
        await (await db.ReadableRunsAsync(http.Caller(), cancellationToken)).AnyAsync(r => r.Id == id,
            cancellationToken);
}
