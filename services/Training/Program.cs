using MassTransit;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;
using Training.Apis;
using Training.Consumers;
using Training.Data;
using Training.Runs;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayCallers("training");
builder.AddArtifactStore();
builder.AddServiceDatabase<TrainingDbContext>(TrainingDbContext.Schema);
builder.AddServiceMessaging("training", bus =>
{
    bus.AddConsumer<DatasetIngestedConsumer>();
    bus.AddConsumer<DatasetTokenizedConsumer>();
    bus.AddConsumer<DatasetTokenizationFailedConsumer>();
    bus.AddConsumer<DatasetEncodedConsumer>();
    bus.AddConsumer<DatasetEncodingFailedConsumer>();
    bus.AddConsumer<StartTrainingConsumer, StartTrainingConsumerDefinition>();
    bus.AddConsumer<EvaluationCompletedConsumer>();
    bus.AddConsumer<EvaluationFailedConsumer>();
    // A message that faults after its retries ends what it was about in Failed, whatever the exception.
    bus.AddConsumer<DatasetIngestedFaultConsumer>();
    bus.AddConsumer<DatasetTokenizedFaultConsumer>();
    bus.AddConsumer<DatasetTokenizationFailedFaultConsumer>();
    bus.AddConsumer<DatasetEncodedFaultConsumer>();
    bus.AddConsumer<DatasetEncodingFailedFaultConsumer>();
    bus.AddConsumer<StartTrainingFaultConsumer>();
    bus.AddConsumer<EvaluationCompletedFaultConsumer>();
    bus.AddConsumer<EvaluationFailedFaultConsumer>();
    bus.AddConsumer<DatasetDeletedConsumer>();
    bus.AddConsumer<RunDeletedConsumer>();
    // Progress for live views: a temporary queue of this instance's own, so every instance hears every run.
    bus.AddConsumer<TrainingProgressedConsumer>().Endpoint(e =>
    {
        e.Temporary = true;
        e.InstanceId = Guid.NewGuid().ToString("N")[..12];
    });
});
builder.AddOutboxDispatcher<TrainingDbContext>();
builder.AddTrainingRuns();
builder.Services.Configure<ImportOptions>(builder.Configuration.GetSection("Imports"));

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseGatewayCallers();
app.MapRunsApi();
app.MapModelsApi();
app.MapAliasesApi();
app.MapImportApi();
app.MapOutboxAdminApi<TrainingDbContext>();

app.Run();
