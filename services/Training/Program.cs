using MassTransit;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Training.Apis;
using Training.Consumers;
using Training.Data;
using Training.Runs;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddArtifactStore();
builder.AddServiceDatabase<TrainingDbContext>(TrainingDbContext.Schema);
builder.AddServiceMessaging("training", bus =>
{
    bus.AddConsumer<DatasetIngestedConsumer>();
    bus.AddConsumer<DatasetTokenizedConsumer>();
    bus.AddConsumer<DatasetTokenizationFailedConsumer>();
    bus.AddConsumer<StartTrainingConsumer, StartTrainingConsumerDefinition>();
    bus.AddConsumer<EvaluationCompletedConsumer>();
    bus.AddConsumer<EvaluationFailedConsumer>();
});
builder.AddOutboxDispatcher<TrainingDbContext>();
builder.AddTrainingRuns();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapRunsApi();
app.MapModelsApi();

app.Run();
