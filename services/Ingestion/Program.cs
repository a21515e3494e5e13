using Ingestion.Apis;
using Ingestion.Consumers;
using Ingestion.Data;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayCallers("ingestion");
builder.AddArtifactStore();
builder.AddServiceDatabase<IngestionDbContext>(IngestionDbContext.Schema);
builder.AddServiceMessaging("ingestion", bus =>
{
    bus.AddConsumer<DatasetTokenizedConsumer>();
    bus.AddConsumer<DatasetTokenizationFailedConsumer>();
    bus.AddConsumer<DatasetTokenizedFaultConsumer>();
    bus.AddConsumer<DatasetTokenizationFailedFaultConsumer>();
    bus.AddConsumer<DatasetDeletedConsumer>();
});
builder.AddOutboxDispatcher<IngestionDbContext>();
builder.Services.AddHostedService<ReachAnnouncement>();
builder.Services.Configure<IngestionOptions>(builder.Configuration.GetSection("Ingestion"));
builder.AddServiceClient<TrainingClient>("Training");

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseGatewayCallers();
app.MapDatasetsApi();
app.MapOutboxAdminApi<IngestionDbContext>();

app.Run();
