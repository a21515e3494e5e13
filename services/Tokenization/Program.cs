using MassTransit;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;
using Tokenization.Apis;
using Tokenization.Consumers;
using Tokenization.Data;
using Tokenization.Encoding;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayCallers("tokenization");
builder.AddArtifactStore();
builder.AddServiceDatabase<TokenizationDbContext>(TokenizationDbContext.Schema);
builder.AddServiceMessaging("tokenization", bus =>
{
    bus.AddConsumer<DatasetIngestedConsumer>();
    bus.AddConsumer<DatasetIngestedFaultConsumer>();
    bus.AddConsumer<DatasetDeletedConsumer>();
    bus.AddConsumer<DatasetSharingChangedConsumer>();
    bus.AddConsumer<EncodeDatasetConsumer, EncodeDatasetConsumerDefinition>();
    bus.AddConsumer<EncodeDatasetFaultConsumer>();
});
builder.AddOutboxDispatcher<TokenizationDbContext>();
builder.Services.AddSingleton<PairEncoder>();
builder.Services.AddSingleton<ChatEncoder>();
builder.Services.AddSingleton<DatasetEncoder>();
builder.Services.AddSingleton<TokenizerCache>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseGatewayCallers();
app.MapTokenizersApi();
app.MapOutboxAdminApi<TokenizationDbContext>();

app.Run();
