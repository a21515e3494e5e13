using Generation.Apis;
using Generation.Consumers;
using Generation.Data;
using Generation.Serving;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddArtifactStore();
builder.AddServiceDatabase<GenerationDbContext>(GenerationDbContext.Schema);
builder.AddServiceMessaging("generation", bus => bus.AddConsumer<ModelVersionRegisteredConsumer>());
builder.Services.Configure<GenerationOptions>(builder.Configuration.GetSection("Generation"));
builder.Services.AddSingleton<ModelCache>();
builder.Services.AddSingleton<GenerationGate>();
builder.Services.AddScoped<ModelResolver>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGenerateApi();
app.MapCompletionsApi();

app.Run();
