namespace Training.Runs;

public static class TrainingRunsExtensions
{
    public static IHostApplicationBuilder AddTrainingRuns(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<TrainingOptions>(builder.Configuration.GetSection("Training"));
        builder.Services.AddSingleton<MetricsWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MetricsWriter>());
        builder.Services.AddScoped<TrainingJob>();
        builder.Services.AddHttpClient<IngestionClient>(http =>
        {
            http.BaseAddress = new Uri(builder.Configuration["Services:Ingestion"] ?? "http://127.0.0.1:8081");
            http.Timeout = TimeSpan.FromSeconds(10);
        });
        return builder;
    }
}
