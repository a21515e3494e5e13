using Platform.ServiceDefaults.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ML;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Security;
using Platform.Storage;
using Platform.Tokenizers;
using Training.Registry.Data;

using Platform.ServiceDefaults;

namespace Training.Registry.Apis;

/// <summary>Bring your own model: weights (POST /api/models/import) registered as a version like any trained
/// one.</summary>
public static class ModelImportApi
{
    public static IEndpointRouteBuilder MapModelImportApi(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<ModelImportOptions>>().Value;
        // Kestrel's own limit sits just above ours so the multipart framing and the small parts fit.
        app.MapPost("/api/models/import", ImportAsync).WithTags("Models")
            .WithMetadata(new RequestSizeLimitAttribute(limits.MaxWeightsBytes + (16 << 20))).DisableAntiforgery();
        return app;
    }

    /// <summary>
    /// Registers weights (the platform's export, nanoGPT's or Hugging Face GPT-2's safetensors layout) and their
    /// tokenizer as the next version of Name. Every missing, surplus or misshapen tensor is named in the 400; nothing
    /// is kept then.
    /// </summary>
    private static async Task<Results<Created<ModelVersionResponse>, ProblemHttpResult>> ImportAsync(
        HttpContext http, ModelImporter importer, IOptions<ModelImportOptions> options,
        CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxWeightsBytes;
        var (form, problem) = await MultipartUpload.ReadFormAsync(http.Request, limit, cancellationToken);
        if (problem is not null)
            return problem;
        var errors = new ValidationErrors();
        var name = form!["name"].ToString().Trim();
        errors.Require(RunSpecValidator.IsModelName(name), "name", RunSpecValidator.ModelNameRule);
        var weights = form.Files.GetFile("weights");
        errors.Require(weights is { Length: > 0 }, "weights", "is required: a .safetensors file.");
        errors.Require(weights is null || weights.Length <= limit, "weights", $"must be at most {limit:N0} bytes.");
        var tokenizerFile = form.Files.GetFile("tokenizer");
        errors.Require(tokenizerFile is { Length: > 0 }, "tokenizer", "is required: a tokenizer.json file.");
        JsonObject? config = null;
        var configText = form.Files.GetFile("config") is { } configFile
            ? await new StreamReader(configFile.OpenReadStream()).ReadToEndAsync(cancellationToken)
            : form["config"].ToString();
        if (!string.IsNullOrWhiteSpace(configText))
        {
            try
            {
                config = JsonNode.Parse(configText) as JsonObject;
                errors.Require(config is not null, "config", "must be a JSON object.");
            }
            catch (JsonException ex)
            {
                errors.Add("config", $"is not valid JSON: {ex.Message}");
            }
        }
        if (!errors.IsValid)
            return Problems.Invalid(errors, "The import is invalid.");
        var (version, refused) = await importer.ImportAsync(name, s => weights!.CopyToAsync(s, cancellationToken),
            s => tokenizerFile!.CopyToAsync(s, cancellationToken), config, http.Caller(), runId: null,
            cancellationToken);
        if (refused is not null)
            return refused;
        return TypedResults.Created($"/api/models/{name}/versions/{version!.Version}",
            ModelVersionResponse.From(version));
    }
}
