using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Http;
using MassTransit;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ServiceDefaults.Security;
using Training.Data;
using Training.Registry;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// Records the dataset in this service's projection and, when the upload asked for one, creates the auto-train run as
/// POST /api/runs creates a run (<see cref="RunCreation"/>), on behalf of the uploader: the same checks, the same
/// estimate. A run it refuses is still recorded, Failed with the reason, so the upload's autoTrainRun shows why. The
/// run id was chosen at upload, so a redelivery finds the run and does nothing; a dataset deleted meanwhile gets no
/// run.
/// </summary>
public sealed class DatasetIngestedConsumer(TrainingDbContext db, RunCreation creation, ModelRegistry registry,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, ILogger<DatasetIngestedConsumer> logger)
    : IConsumer<DatasetIngested>
{
    public async Task Consume(ConsumeContext<DatasetIngested> context)
    {
        var m = context.Message;
        var cancellationToken = context.CancellationToken;
        // Tokenized may arrive first (separate queues): the row is created here if missing, never downgraded.
        var deleted = false;
        await DatasetProjection.UpdateAsync(db, m.DatasetId, dataset =>
        {
            dataset.Name = m.Name;
            dataset.Format = m.Format;
            deleted = dataset.Status == DatasetStatus.Deleted;
            return Task.CompletedTask;
        }, cancellationToken);
        if (deleted || m.AutoTrain is not { } auto
            || await db.Runs.FindAsync([auto.RunId], cancellationToken) is not null)
            return;

        // The uploader asks for the run, as an editor would (an upload carries no role); an event from before owners
        // were recorded asks as the platform itself.
        var caller = m.Owner is { } owner
            ? new Caller(owner.Id, owner.Name, Roles.Editor)
            : new Caller(Caller.ServiceKeyId, "platform", Roles.Admin);
        var announced = new IngestionDataset(m.DatasetId, m.Name, nameof(DatasetStatus.Ingested), null, m.Format,
            m.Owner);
        var request = AutoTrainSpec.Parse(auto.Spec, m.DatasetId);
        var (prepared, refused) = request is null
            ? (null, Problems.Invalid("autoTrain", "must be a JSON object: a run as POST /api/runs takes it."))
            : await creation.PrepareAsync(request, json.Value.SerializerOptions, caller, announced, cancellationToken);
        if (prepared is not null && m.Owner is not null
            && await registry.NameTakenAsync(prepared.Spec.Name, m.Owner, isAdmin: false, cancellationToken)
                is { } taken)
            refused = TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "The model name belongs to another key.",
                detail: $"The model name '{taken}' belongs to another key.");

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (refused is null)
            (_, refused) = await creation.AddAsync(prepared!, m.Owner, sweepId: null, cancellationToken, auto.RunId);
        if (refused is not null)
        {
            db.ChangeTracker.Clear();
            // A dataset deleted meanwhile gets no run, not even a refused one.
            if ((await db.Datasets.FindAsync([m.DatasetId], cancellationToken))?.Status == DatasetStatus.Deleted)
                return;
            var spec = AutoTrainSpec.SpecOf(request, json.Value.SerializerOptions, m.Name);
            var run = Run.Create(auto.RunId, spec, m.DatasetId, m.Owner);
            run.Fail($"The auto-train run was not started: {RunRefusals.ReasonOf(refused)}");
            db.Runs.Add(run);
            logger.LogInformation("run {RunId}: the auto-train run of dataset {DatasetId} was refused: {Reason}",
                run.Id, m.DatasetId, run.FailureReason);
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
