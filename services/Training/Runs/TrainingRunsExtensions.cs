using Platform.ServiceDefaults.Http;

namespace Training.Runs;

public static class TrainingRunsExtensions
{
    public static IHostApplicationBuilder AddTrainingRuns(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<TrainingOptions>(builder.Configuration.GetSection("Training"));
        builder.Services.AddSingleton<MetricsWriter>();
        builder.Services.AddSingleton<RunProgressFeed>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MetricsWriter>());
        builder.Services.Configure<CostOptions>(builder.Configuration.GetSection(CostOptions.Section));
        builder.Services.AddSingleton<RunEstimator>();
        builder.Services.AddSingleton<Registry.IImportMemory>(sp => sp.GetRequiredService<RunEstimator>());
        builder.Services.AddSingleton<TrainingTelemetry>();
        builder.Services.AddSingleton<TrainingWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TrainingWorker>());
        builder.Services.AddScoped<TrainingJob>();
        builder.Services.AddScoped<PrecisionChoice>();
        builder.Services.AddScoped<RunDeletion>();
        builder.Services.AddScoped<RunCreation>();
        builder.Services.AddScoped<RunSearch>();
        builder.Services.Configure<Sweeps.SweepOptions>(builder.Configuration.GetSection(Sweeps.SweepOptions.Section));
        builder.Services.AddHostedService<Sweeps.SweepMonitor>();
        builder.AddServiceClient<IngestionClient>("Ingestion");
        return builder;
    }
}
