using MassTransit;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Persistence;
using Training.Registry.Apis;
using Training.Registry.Data;

namespace Training.Registry;

/// <summary>
/// The model registry: a bounded context of its own, hosted in the Training process. It has its own schema
/// (<see cref="RegistryDbContext.Schema"/>) and migrations, its own outbox, its own queues ("registry-…"), and its own
/// endpoints (/api/models…). It learns about runs only from events.
/// </summary>
public static class RegistryModule
{
    public static IHostApplicationBuilder AddModelRegistry(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<ModelImportOptions>(builder.Configuration.GetSection("Imports"));
        builder.AddServiceDatabase<RegistryDbContext>(RegistryDbContext.Schema, healthCheck: "registry-database");
        builder.AddOutboxDispatcher<RegistryDbContext>();
        builder.Services.AddHostedService<LineageAnnouncement>();
        builder.Services.AddScoped<Registrar>();
        builder.Services.AddScoped<ModelImporter>();
        builder.Services.AddScoped<ModelRegistry>();
        return builder;
    }

    /// <summary>The registry's consumers, on queues named for the registry, not for the service hosting it.</summary>
    public static void AddRegistryConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<Consumers.TrainingCompletedConsumer>().Endpoint(e => e.Name = "registry-training-completed");
        bus.AddConsumer<Consumers.EvaluationCompletedConsumer>().Endpoint(e =>
            e.Name = "registry-evaluation-completed");
        bus.AddConsumer<Consumers.RunDeletedConsumer>().Endpoint(e => e.Name = "registry-run-deleted");
        bus.AddConsumer<Consumers.SweepCompletedConsumer>().Endpoint(e => e.Name = "registry-sweep-completed");
        bus.AddConsumer<Consumers.DatasetSharingChangedConsumer>().Endpoint(e
            => e.Name = "registry-dataset-sharing-changed");
    }

    public static IEndpointRouteBuilder MapModelRegistry(this IEndpointRouteBuilder app)
    {
        app.MapModelsApi();
        app.MapModelNamesApi();
        app.MapAliasesApi();
        app.MapModelImportApi();
        // The gateway lists it beside each service's own, as "registry".
        app.MapOutboxAdminApi<RegistryDbContext>(OutboxAdminApi.ModulePath("registry"));
        return app;
    }
}
