using Evaluation.Apis;
using Evaluation.Consumers;
using Evaluation.Data;
using Evaluation.Scoring;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayCallers("evaluation");
builder.AddArtifactStore();
builder.AddServiceDatabase<EvaluationDbContext>(EvaluationDbContext.Schema);
builder.AddServiceMessaging("evaluation", bus =>
{
    bus.AddConsumer<TrainingCompletedConsumer>();
    bus.AddConsumer<TrainingCompletedFaultConsumer>();
    bus.AddConsumer<RunDeletedConsumer>();
    bus.AddConsumer<DatasetIngestedConsumer>();
    bus.AddConsumer<DatasetDeletedConsumer>();
    bus.AddConsumer<ModelVersionRegisteredConsumer>();
    bus.AddConsumer<ModelVersionDeletedConsumer>();
    bus.AddConsumer<ModelAliasMovedConsumer>();
    bus.AddConsumer<DatasetSharingChangedConsumer>();
    bus.AddConsumer<DatasetTokenizedConsumer>();
    bus.AddConsumer<DatasetTokenizationFailedConsumer>();
    bus.AddConsumer<DatasetEncodedConsumer>();
    bus.AddConsumer<DatasetEncodingFailedConsumer>();
});
builder.AddOutboxDispatcher<EvaluationDbContext>();
builder.Services.Configure<EvaluationOptions>(builder.Configuration.GetSection("Evaluation"));
builder.Services.AddSingleton<CheckpointScorer>();
builder.Services.AddSingleton<EvaluationWorker>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<EvaluationWorker>());

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseGatewayCallers();
app.MapEvaluationsApi();
app.MapOutboxAdminApi<EvaluationDbContext>();

app.Run();
