using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Training.Apis;

namespace Training.Runs;

/// <summary>An upload's autoTrain field as the DatasetIngested event carries it: the JSON the uploader sent.</summary>
public static class AutoTrainSpec
{
    /// <summary>The run request it makes for the dataset, or null when it is not a JSON object.</summary>
    public static JsonObject? Parse(string spec, Guid datasetId)
    {
        try
        {
            if (JsonNode.Parse(spec) is not JsonObject request)
                return null;
            request["datasetId"] = datasetId;
            return request;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>What a refused or failed auto-train run records as its spec: as much of the request as binds, with
    /// the dataset's name when it names no model.</summary>
    public static RunSpec SpecOf(JsonObject? request, JsonSerializerOptions options, string datasetName)
    {
        RunSpec? spec = null;
        try
        {
            spec = request?.Deserialize<CreateRunRequest>(options)?.ToSpec();
        }
        catch (JsonException)
        {
        }
        spec ??= new RunSpec();
        return spec.Name.Length > 0 ? spec : spec with { Name = datasetName };
    }
}
