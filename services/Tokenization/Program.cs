using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Tokenization.Apis;
using Tokenization.Consumers;
using Tokenization.Data;
using Tokenization.Encoding;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddArtifactStore();
builder.AddServiceDatabase<TokenizationDbContext>(TokenizationDbContext.Schema);
builder.AddServiceMessaging("tokenization", bus => bus.AddConsumer<DatasetIngestedConsumer>());
builder.AddOutboxDispatcher<TokenizationDbContext>();
builder.Services.AddSingleton<DatasetEncoder>();
builder.Services.AddSingleton<TokenizerCache>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapTokenizersApi();

app.Run();
