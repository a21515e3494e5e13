using Generation.Apis;
using Generation.Consumers;
using Generation.Data;
using Generation.Serving;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayCallers("generation");
builder.AddArtifactStore();
builder.AddServiceDatabase<GenerationDbContext>(GenerationDbContext.Schema);
builder.AddServiceMessaging("generation", bus =>
{
    bus.AddConsumer<ModelVersionRegisteredConsumer>();
    bus.AddConsumer<ModelVersionDeletedConsumer>();
    bus.AddConsumer<ModelAliasMovedConsumer>();
    bus.AddConsumer<ModelVersionQuantizationChangedConsumer>();
    bus.AddConsumer<DatasetSharingChangedConsumer>();
});
builder.Services.Configure<GenerationOptions>(builder.Configuration.GetSection("Generation"));
builder.Services.AddSingleton<ModelCache>();
builder.Services.AddSingleton<GenerationMetrics>();
builder.Services.AddSingleton<GenerationGate>();
builder.Services.AddSingleton<ModelBatchers>();
builder.Services.AddSingleton<CompletionScheduler>();
builder.Services.AddScoped<ModelResolver>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseGatewayCallers();
app.MapGenerateApi();
app.MapCompletionsApi();
app.MapChatCompletionsApi();
app.MapEmbeddingsApi();
app.MapExplainApi();

app.Run();
