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

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGenerateApi();

app.Run();
