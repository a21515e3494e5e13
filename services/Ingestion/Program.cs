using Ingestion.Apis;
using Ingestion.Consumers;
using Ingestion.Data;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddArtifactStore();
builder.AddServiceDatabase<IngestionDbContext>(IngestionDbContext.Schema);
builder.AddServiceMessaging("ingestion", bus =>
{
    bus.AddConsumer<DatasetTokenizedConsumer>();
    bus.AddConsumer<DatasetTokenizationFailedConsumer>();
});
builder.AddOutboxDispatcher<IngestionDbContext>();
builder.Services.Configure<IngestionOptions>(builder.Configuration.GetSection("Ingestion"));

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapDatasetsApi();

app.Run();
