using Gateway.Access;
using Gateway.Apis;
using Gateway.Audit;
using Gateway.Idempotency;
using Gateway.Proxy;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Security;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddCallerSignature();
builder.AddApiKeys();
builder.AddKeyRateLimits();
builder.AddProxy();
builder.AddOutboxApi();
builder.AddApiDocuments();
builder.Services.Configure<IdempotencyOptions>(builder.Configuration.GetSection("Idempotency"));

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseDashboard();
app.UseAuthentication();
app.UseOpenRequestTracking();
app.UseMiddleware<AuditMiddleware>();
app.UseRateLimiter();
app.UseAuthorization();
app.UseMiddleware<IdempotencyMiddleware>();
app.MapKeysApi();
app.MapAuditApi();
app.MapOutboxApi();
app.MapDocsApi();
app.MapReverseProxy(pipeline =>
{
    pipeline.UseTransportFailureRetry();
    pipeline.UseSessionAffinity();
    pipeline.UseLoadBalancing();
    pipeline.UsePassiveHealthChecks();
});

app.Run();
