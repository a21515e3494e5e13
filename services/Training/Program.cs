using MassTransit;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;
using Training.Apis;
using Training.Consumers;
using Training.Data;
using Training.Registry;
using Training.Runs;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayCallers("training");
builder.AddArtifactStore();
// The model registry, a module with its own schema, outbox and queues, hosted here (see Registry/RegistryModule.cs).
// Registered first: its first migration takes the versions and aliases over from the training schema before
// Training's migration drops them there; an older installation's training schema is first brought to where the
// registry takes them from.
builder.Services.AddHostedService<TrainingSchemaBeforeRegistry>();
builder.AddModelRegistry();
builder.AddServiceDatabase<TrainingDbContext>(TrainingDbContext.Schema);
builder.AddServiceMessaging("training", bus =>
{
    bus.AddConsumer<DatasetIngestedConsumer>();
    bus.AddConsumer<DatasetSharingChangedConsumer>();
    bus.AddConsumer<DatasetTokenizedConsumer>();
    bus.AddConsumer<DatasetTokenizationFailedConsumer>();
    bus.AddConsumer<DatasetEncodedConsumer>();
    bus.AddConsumer<DatasetEncodingFailedConsumer>();
    bus.AddConsumer<StartTrainingConsumer, StartTrainingConsumerDefinition>();
    bus.AddConsumer<EvaluationFailedConsumer>();
    bus.AddConsumer<ModelVersionRegisteredConsumer>();
    bus.AddConsumer<ModelVersionDeletedConsumer>();
    // A message that faults after its retries ends what it was about in Failed, whatever the exception.
    bus.AddConsumer<DatasetIngestedFaultConsumer>();
    bus.AddConsumer<DatasetTokenizedFaultConsumer>();
    bus.AddConsumer<DatasetTokenizationFailedFaultConsumer>();
    bus.AddConsumer<DatasetEncodedFaultConsumer>();
    bus.AddConsumer<DatasetEncodingFailedFaultConsumer>();
    bus.AddConsumer<StartTrainingFaultConsumer>();
    bus.AddConsumer<EvaluationCompletedFaultConsumer>();
    bus.AddConsumer<EvaluationFailedFaultConsumer>();
    bus.AddConsumer<TrainingCompletedFaultConsumer>();
    bus.AddConsumer<ModelVersionRegisteredFaultConsumer>();
    bus.AddConsumer<DatasetDeletedConsumer>();
    bus.AddConsumer<RunDeletedConsumer>();
    // Progress for live views: a temporary queue of this instance's own, so every instance hears every run.
    bus.AddConsumer<TrainingProgressedConsumer>().Endpoint(e =>
    {
        e.Temporary = true;
        e.InstanceId = Guid.NewGuid().ToString("N")[..12];
    });
    bus.AddRegistryConsumers();
});
builder.AddOutboxDispatcher<TrainingDbContext>();
builder.AddTrainingRuns();
builder.Services.Configure<VectorsOptions>(builder.Configuration.GetSection("Imports"));

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseGatewayCallers();
app.MapRunsApi();
app.MapRunTrackingApi();
app.MapExperimentsApi();
app.MapSweepsApi();
app.MapVectorsApi();
app.MapModelRegistry();
app.MapOutboxAdminApi<TrainingDbContext>();

app.Run();
