using Evaluation.Apis;
using Evaluation.Consumers;
using Evaluation.Data;
using Evaluation.Scoring;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddArtifactStore();
builder.AddServiceDatabase<EvaluationDbContext>(EvaluationDbContext.Schema);
builder.AddServiceMessaging("evaluation", bus => bus.AddConsumer<TrainingCompletedConsumer>());
builder.AddOutboxDispatcher<EvaluationDbContext>();
builder.Services.Configure<EvaluationOptions>(builder.Configuration.GetSection("Evaluation"));
builder.Services.AddSingleton<CheckpointScorer>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapEvaluationsApi();

app.Run();
