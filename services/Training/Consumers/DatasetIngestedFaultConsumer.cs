using MassTransit;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ServiceDefaults.Reliability;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// Recording an upload gave up after its retries: its auto-train run is created Failed with the reason (or, if it
/// exists, fails), so the id the upload answered with leads somewhere.
/// </summary>
public sealed class DatasetIngestedFaultConsumer(TrainingDbContext db,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, ILogger<DatasetIngestedFaultConsumer> logger)
    : IConsumer<Fault<DatasetIngested>>
{
    public async Task Consume(ConsumeContext<Fault<DatasetIngested>> context)
    {
        var fault = context.Message;
        if (!fault.IsFromThisService() || fault.Message.AutoTrain is not { } auto)
            return;
        var reason = fault.Reason("Creating the auto-train run") + "; start the run again with POST /api/runs";
        if (await db.Runs.FindAsync([auto.RunId], context.CancellationToken) is null)
        {
            var spec = AutoTrainSpec.SpecOf(AutoTrainSpec.Parse(auto.Spec, fault.Message.DatasetId),
                json.Value.SerializerOptions, fault.Message.Name);
            var run = Run.Create(auto.RunId, spec, fault.Message.DatasetId, fault.Message.Owner);
            run.Fail(reason);
            db.Runs.Add(run);
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }
        await RunFaults.FailAsync(db, db.Runs.Where(r => r.Id == auto.RunId && r.State == RunState.WaitingForData),
            reason, logger,
            context.CancellationToken);
    }
}
