using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Persistence;
using Platform.ServiceDefaults.Security;
using Platform.Storage;
using Training.Data;
using Training.Registry;

namespace Training.Apis;

public sealed record MetricLog(string? Key, double? Value, int? Step, DateTimeOffset? Timestamp);
public sealed record MetricsLog(List<MetricLog>? Metrics);
public sealed record RunEnd(string? State, string? Reason);
public sealed record RunRegistration(string? Model, string? Weights, string? Tokenizer, string? Config);
public sealed record ArtifactResponse(string Path, long Bytes, string Sha256, DateTimeOffset CreatedAt);
/// <summary>The version registered from a run's files (GET /api/models/{name}/versions/{version} has the
/// rest).</summary>
public sealed record RunRegistered(string Name, int Version, Guid RunId);

/// <summary>
/// Tracking a run that a user's own script trains, as MLflow does: the script creates the run (POST /api/runs with
/// "external": true), logs parameters, batches of metric points, key → value tags and files, ends the run with its
/// final state, and may register a model version from the safetensors it uploaded. Only the run's owner (or an
/// admin) logs to it, and only while it is Training; the platform's trainer never touches it.
/// </summary>
public static partial class RunTrackingApi
{
    public const int MaxParamsPerRun = 1000, MaxPointsPerBatch = 1000, MaxParamValue = 500;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")]
    private static partial Regex KeyPattern();

    // A relative path of 1-8 segments of letters, digits, '.', '_' and '-', none of them "." or "..".
    [GeneratedRegex(@"^(?!.*(^|/)\.\.?(/|$))[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+){0,7}$")]
    private static partial Regex ArtifactPath();

    private const string KeyRule = "must be 1-64 letters, digits, '_', '.', ':', '/' or '-', starting with a letter " +
                                   "or digit.";

    public static IEndpointRouteBuilder MapRunTrackingApi(this IEndpointRouteBuilder app)
    {
        var limit = app.ServiceProvider.GetRequiredService<IOptions<ModelImportOptions>>().Value.MaxWeightsBytes;
        var group = app.MapGroup("/api/runs/{id:guid}").WithTags("Run tracking");
        group.MapPost("/params", LogParamsAsync).RetriedOnConflict<TrainingDbContext>();
        group.MapPost("/metrics", LogMetricsAsync).RetriedOnConflict<TrainingDbContext>();
        group.MapPost("/tags", SetTagsAsync).RetriedOnConflict<TrainingDbContext>();
        group.MapPost("/end", EndAsync).RetriedOnConflict<TrainingDbContext>();
        group.MapGet("/artifacts", ListArtifactsAsync);
        group.MapGet("/artifacts/{**path}", GetArtifactAsync);
        // An artifact may be a model's weights: the import's limit, as those are what a version is registered from.
        group.MapPut("/artifacts/{**path}", PutArtifactAsync)
            .WithMetadata(new RequestSizeLimitAttribute(limit + (1 << 20)));
        group.MapPost("/register", RegisterAsync);
        return app;
    }

    /// <summary>
    /// A new external run: its name, and optionally its experiment (by name, one the caller owns), initial
    /// parameters and tags. 201 with the run, Training at once.
    /// </summary>
    public static async Task<(Run? Run, ProblemHttpResult? Problem)> CreateAsync(JsonObject json,
        HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var name = json["name"] is JsonValue n && n.TryGetValue<string>(out var text) ? text : null;
        errors.Require(RunSpecValidator.IsModelName(name), "name", RunSpecValidator.ModelNameRule);
        foreach (var (key, _) in json)
            errors.Require(key is "external" or "name" or "experiment" or "params" or "tags", key,
                "is not a field of an external run (name, experiment, params, tags).");
        var parameters = ReadParams(json["params"], errors);
        var tags = ReadTags(json["tags"], errors);
        if (!errors.IsValid)
            return (null, Problems.Invalid(errors, "The run is invalid."));
        var caller = http.Caller();
        var (experimentId, refused) = await ExperimentOfAsync(json["experiment"], caller, db, cancellationToken);
        if (refused is not null)
            return (null, refused);
        var run = Run.CreateExternal(Guid.NewGuid(), name!, caller.AsOwner(), experimentId, parameters,
            [.. tags.Select(t => RunTags.Of(t.Key, t.Value))]);
        db.Runs.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        return (run, null);
    }

    /// <summary>The experiment a run joins, by name: it must exist, and the caller must own it (or be an
    /// admin).</summary>
    public static async Task<(Guid? Id, ProblemHttpResult? Problem)> ExperimentOfAsync(JsonNode? field, Caller caller,
        TrainingDbContext db, CancellationToken cancellationToken)
    {
        if (field is null)
            return (null, null);
        if (field is not JsonValue value || !value.TryGetValue<string>(out var name))
            return (null, Problems.Invalid("experiment", "must be an experiment's name.", "The run is invalid."));
        var experiment = await db.Experiments.AsNoTracking().FirstOrDefaultAsync(e => e.Name == name,
            cancellationToken);
        if (experiment is null)
            return (null, Problems.Invalid("experiment", $"names no experiment: create '{name}' first " +
                "(POST /api/experiments).", "The run is invalid."));
        if (!caller.MayChange(experiment.OwnerId))
            return (null, Problems.Invalid("experiment", $"'{name}' belongs to another key; only its owner adds " +
                "runs to it.", "The run is invalid."));
        return (experiment.Id, null);
    }

    /// <summary>name → value, each value a string, number or boolean kept as its text.</summary>
    private static Dictionary<string, string> ReadParams(JsonNode? node, ValidationErrors errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is null)
            return result;
        if (node is not JsonObject values)
        {
            errors.Add("params", "must be an object of name → value.");
            return result;
        }
        errors.Require(values.Count <= MaxParamsPerRun, "params", $"must hold at most {MaxParamsPerRun} parameters.");
        foreach (var (key, value) in values)
        {
            errors.Require(KeyPattern().IsMatch(key), $"params.{key}", KeyRule);
            var text = value is JsonValue v ? v.GetValueKind() switch
            {
                JsonValueKind.String => v.GetValue<string>(),
                JsonValueKind.Number => v.GetValue<double>().ToString("R", CultureInfo.InvariantCulture),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            } : null;
            if (text is null || text.Length > MaxParamValue)
                errors.Add($"params.{key}", $"must be a string, number or boolean of at most {MaxParamValue} " +
                                              "characters.");
            else
                result[key] = text;
        }
        return result;
    }

    /// <summary>key → value (an object), or bare labels (an array of "key" or "key:value"); each tag as "key:value"
    /// must be a valid tag.</summary>
    private static Dictionary<string, string> ReadTags(JsonNode? node, ValidationErrors errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (node)
        {
            case null:
                return result;
            case JsonObject pairs:
                foreach (var (key, value) in pairs)
                    result[key] = value is JsonValue v && v.TryGetValue<string>(out var s)
                        ? s
                        : value?.ToJsonString() ?? "";
                break;
            case JsonArray labels:
                foreach (var label in labels)
                    if (label is JsonValue v && v.TryGetValue<string>(out var s))
                        result[RunTags.KeyOf(s)] = RunTags.ValueOf(s);
                    else
                        errors.Add("tags", "must be an object of key → value or an array of strings.");
                break;
            default:
                errors.Add("tags", "must be an object of key → value or an array of strings.");
                return result;
        }
        foreach (var (key, value) in result)
            errors.Require(Annotations.IsTag(RunTags.Of(key, value)), $"tags.{key}",
                $"must make a tag \"key:value\" of {Annotations.TagCharacters}");
        errors.Require(result.Count <= Annotations.MaxTags, "tags", $"must be at most {Annotations.MaxTags} tags.");
        return result;
    }

    private static ProblemHttpResult Conflict(RunStateException ex) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The run cannot take this.",
            detail: ex.Message);

    /// <summary>{"params": {name: value}}: each parameter is set once; another value for one already logged is a
    /// 400 naming it.</summary>
    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> LogParamsAsync(Guid id, HttpContext http,
        TrainingDbContext db, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<JsonObject>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        errors.Require(body!["params"] is JsonObject, "params", "is required: an object of name → value.");
        var parameters = ReadParams(body["params"], errors);
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The parameters are invalid.");
        var (run, refused) = await RunLookup.ChangeableAsync(id, http, db, cancellationToken);
        if (refused is not null)
            return refused;
        try
        {
            if (run!.Params.Count + parameters.Keys.Count(k => !run.Params.ContainsKey(k)) > MaxParamsPerRun)
                return Problems.Invalid("params", $"would make more than {MaxParamsPerRun} parameters on the run.",
                    "The parameters are invalid.");
            if (run.LogParams(parameters) is { } changed)
                return Problems.Invalid($"params.{changed}",
                    $"was logged as '{run.Params[changed]}'; a parameter keeps its first value.",
                    "The parameters are invalid.");
        }
        catch (RunStateException ex)
        {
            return Conflict(ex);
        }
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(RunResponse.From(run));
    }

    /// <summary>{"metrics": [{key, value, step, timestamp?}, …]}: up to 1,000 points at once, all or none.</summary>
    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> LogMetricsAsync(Guid id,
        HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<MetricsLog>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var points = body!.Metrics ?? [];
        var errors = new ValidationErrors()
            .Require(points.Count is > 0 and <= MaxPointsPerBatch, "metrics",
                $"must hold 1 to {MaxPointsPerBatch} points.");
        for (var i = 0; i < points.Count && i < MaxPointsPerBatch; i++)
        {
            var p = points[i];
            errors.Require(p is not null && KeyPattern().IsMatch(p.Key ?? ""), $"metrics[{i}].key", KeyRule);
            errors.Require(p?.Value is { } v && double.IsFinite(v), $"metrics[{i}].value", "must be a finite number.");
            errors.Require(p?.Step is >= 0, $"metrics[{i}].step", "must be a whole number ≥ 0.");
        }
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The metrics are invalid.");
        var (run, refused) = await RunLookup.ChangeableAsync(id, http, db, cancellationToken);
        if (refused is not null)
            return refused;
        try
        {
            run!.RecordLoggedMetrics(points.Select(p => (p.Key!, p.Step!.Value, p.Value!.Value)));
        }
        catch (RunStateException ex)
        {
            return Conflict(ex);
        }
        var now = DateTimeOffset.UtcNow;
        db.Metrics.AddRange(points.Select(p => new MetricPoint
        {
            RunId = run.Id,
            Key = p.Key!,
            Step = p.Step!.Value,
            Value = p.Value!.Value,
            Timestamp = p.Timestamp ?? now,
        }));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(RunResponse.From(run));
    }

    /// <summary>{"tags": {key: value}}: sets those keys, replacing their earlier values; any run's owner may.</summary>
    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> SetTagsAsync(Guid id, HttpContext http,
        TrainingDbContext db, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<JsonObject>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        errors.Require(body!["tags"] is JsonObject or JsonArray, "tags", "is required: an object of key → value.");
        var tags = ReadTags(body["tags"], errors);
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The tags are invalid.");
        var (run, refused) = await RunLookup.ChangeableAsync(id, http, db, cancellationToken);
        if (refused is not null)
            return refused;
        var merged = run!.Tags.Where(t => !tags.ContainsKey(RunTags.KeyOf(t))).Count() + tags.Count;
        if (merged > Annotations.MaxTags)
            return Problems.Invalid("tags", $"would make {merged} tags on the run; at most {Annotations.MaxTags}.",
                "The tags are invalid.");
        run.SetTags(tags);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(RunResponse.From(run));
    }

    /// <summary>{"state": "Completed" | "Failed" | "Cancelled", "reason"?}: the script's run is over.</summary>
    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> EndAsync(Guid id, HttpContext http,
        TrainingDbContext db, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<RunEnd>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        RunState? state = body!.State switch
        {
            "Completed" or "completed" or "FINISHED" => RunState.Completed,
            "Failed" or "failed" or "FAILED" => RunState.Failed,
            "Cancelled" or "cancelled" or "KILLED" => RunState.Cancelled,
            _ => null,
        };
        var errors = new ValidationErrors()
            .Require(state is not null, "state", "must be Completed, Failed or Cancelled.")
            .Require(body.Reason is null || body.Reason.Length <= 4000, "reason", "must be at most 4,000 characters.");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The end of the run is invalid.");
        var (run, refused) = await RunLookup.ChangeableAsync(id, http, db, cancellationToken);
        if (refused is not null)
            return refused;
        try
        {
            run!.End(state!.Value, body.Reason);
        }
        catch (RunStateException ex)
        {
            return Conflict(ex);
        }
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(RunResponse.From(run));
    }

    /// <summary>
    /// PUT /api/runs/{id}/artifacts/{path}: the request body is the file. A path is relative ("model.safetensors",
    /// "plots/loss.png"); writing one again replaces it. 201 with its size and sha256.
    /// </summary>
    private static async Task<Results<Created<ArtifactResponse>, ProblemHttpResult>> PutArtifactAsync(Guid id,
        string path, HttpContext http, TrainingDbContext db, ArtifactStore store, CancellationToken cancellationToken)
    {
        if (path.Length > 256 || !ArtifactPath().IsMatch(path))
            return Problems.Invalid("path", "must be a relative path of 1-8 parts of letters, digits, '.', '_' or " +
                "'-' (no '.' or '..' part), at most 256 characters.", "The artifact is invalid.");
        var (run, refused) = await RunLookup.ChangeableAsync(id, http, db, cancellationToken);
        if (refused is not null)
            return refused;
        if (!run!.External || run.State != RunState.Training)
            return Conflict(new RunStateException(run.External
                ? $"Run {id} is {run.State}; an ended run takes no more files."
                : $"Run {id} is trained by the platform; only an external run takes files."));
        var key = RunArtifact.KeyOf(id, path);
        await store.WriteAsync(key, s => http.Request.Body.CopyToAsync(s, cancellationToken));
        var artifact = await db.RunArtifacts.FindAsync([id, path], cancellationToken);
        if (artifact is null)
            db.RunArtifacts.Add(artifact = new RunArtifact { RunId = id, Path = path });
        artifact.Bytes = new FileInfo(store.PathOf(key)).Length;
        artifact.Sha256 = await store.Sha256Async(key, cancellationToken);
        artifact.CreatedAt = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/runs/{id}/artifacts/{path}", From(artifact));
    }

    private static ArtifactResponse From(RunArtifact a) => new(a.Path, a.Bytes, a.Sha256, a.CreatedAt);

    private static async Task<Results<Ok<IReadOnlyList<ArtifactResponse>>, ProblemHttpResult>> ListArtifactsAsync(
        Guid id, HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        if (!await RunLookup.IsReadableAsync(id, http, db, cancellationToken))
            return RunLookup.NotFound(id);
        var artifacts = await db.RunArtifacts.AsNoTracking().Where(a => a.RunId == id).OrderBy(a => a.Path)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ArtifactResponse>>([.. artifacts.Select(From)]);
    }

    private static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> GetArtifactAsync(Guid id,
        string path, HttpContext http, TrainingDbContext db, ArtifactStore store, CancellationToken cancellationToken)
    {
        if (!await RunLookup.IsReadableAsync(id, http, db, cancellationToken))
            return RunLookup.NotFound(id);
        var artifact = await db.RunArtifacts.AsNoTracking().FirstOrDefaultAsync(a => a.RunId == id && a.Path == path,
            cancellationToken);
        if (artifact is null || !store.Exists(RunArtifact.KeyOf(id, path)))
            return Problems.NotFound("Artifact not found.", $"Run {id} has no file '{path}'.");
        return TypedResults.PhysicalFile(store.PathOf(RunArtifact.KeyOf(id, path)), "application/octet-stream",
            path[(path.LastIndexOf('/') + 1)..]);
    }

    /// <summary>
    /// {"model": name, "weights": path, "tokenizer": path, "config"?: path}: registers the next version of the model
    /// from the run's uploaded safetensors and tokenizer.json (and a config.json for a head count the weights do not
    /// carry), checked as an import is. Once per run. Generation serves it like any version.
    /// </summary>
    private static async Task<Results<Created<RunRegistered>, ProblemHttpResult>> RegisterAsync(Guid id,
        HttpContext http, TrainingDbContext db, ModelRegistry registry, ArtifactStore store,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<RunRegistration>(http.Request, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors()
            .Require(RunSpecValidator.IsModelName(body!.Model), "model", RunSpecValidator.ModelNameRule)
            .Require(!string.IsNullOrEmpty(body.Weights), "weights", "is required: the path of a .safetensors file.")
            .Require(!string.IsNullOrEmpty(body.Tokenizer), "tokenizer", "is required: the path of a tokenizer.json.");
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The registration is invalid.");
        var (run, refused) = await RunLookup.ChangeableAsync(id, http, db, cancellationToken);
        if (refused is not null)
            return refused;
        if (!run!.External)
            return Conflict(new RunStateException($"Run {id} is registered by the platform when it completes."));
        if (run.ModelVersion is { } registered)
            return Conflict(new RunStateException($"Run {id} is registered already, as version {registered}."));
        var files = await db.RunArtifacts.AsNoTracking().Where(a => a.RunId == id).Select(a => a.Path)
            .ToListAsync(cancellationToken);
        foreach (var (field, path) in new[] { ("weights", body.Weights), ("tokenizer", body.Tokenizer),
                     ("config", body.Config) })
            errors.Require(path is null || files.Contains(path), field, $"names no file of the run: '{path}'.");
        JsonObject? config = null;
        if (errors.IsValid && body.Config is not null)
        {
            try
            {
                config = JsonNode.Parse(await File.ReadAllTextAsync(store.PathOf(RunArtifact.KeyOf(id, body.Config)),
                    cancellationToken)) as JsonObject;
                errors.Require(config is not null, "config", "must be a JSON object.");
            }
            catch (JsonException ex)
            {
                errors.Add("config", $"is not valid JSON: {ex.Message}");
            }
        }
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The registration is invalid.");
        async Task Copy(string path, Stream to)
        {
            await using var from = File.OpenRead(store.PathOf(RunArtifact.KeyOf(id, path)));
            await from.CopyToAsync(to, cancellationToken);
        }
        var (version, rejected) = await registry.RegisterFilesAsync(body.Model!, run.Id, s => Copy(body.Weights!, s),
            s => Copy(body.Tokenizer!, s), config, http.Caller(), cancellationToken);
        if (rejected is not null)
            return rejected;
        run.RecordRegistration(version!.Version);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/models/{version.Name}/versions/{version.Version}",
            new RunRegistered(version.Name, version.Version, run.Id));
    }
}
