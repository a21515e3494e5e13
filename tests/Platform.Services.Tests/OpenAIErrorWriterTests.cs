using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Platform.ServiceDefaults.Http;

namespace Platform.Services.Tests;

/// <summary>Problems on OpenAI's routes, in the envelope OpenAI documents for its errors.</summary>
public sealed class OpenAIErrorWriterTests
{
    [Fact]
    public void A_validation_problem_names_its_first_field_as_param_and_every_field_in_the_message()
    {
        var problem = new HttpValidationProblemDetails(new Dictionary<string, string[]>
        {
            ["max_tokens"] = ["must be between 1 and 2048."],
            ["top_p"] = ["must be in (0, 1]."],
        })
        { Status = 400, Title = "The completion request is invalid." };
        var json = JsonSerializer.Serialize(OpenAIErrorWriter.Envelope(problem, 400));
        Assert.Equal("{\"error\":{\"message\":\"max_tokens: must be between 1 and 2048.; top_p: must be in (0, 1].\"," +
            "\"type\":\"invalid_request_error\",\"param\":\"max_tokens\",\"code\":\"invalid_value\"}}", json);
    }

    [Theory]
    [InlineData(401, "invalid_request_error", "invalid_api_key")]
    [InlineData(404, "invalid_request_error", "not_found")]
    [InlineData(429, "requests", "rate_limit_exceeded")]
    [InlineData(503, "server_error", null)]
    public void Other_problems_carry_their_detail_and_a_type_and_code_by_status(int status, string type, string? code)
    {
        var envelope = OpenAIErrorWriter.Envelope(new ProblemDetails { Title = "Refused.", Detail = "Why." }, status);
        Assert.Equal(new OpenAIError("Why.", type, null, code), envelope.Error);
    }

    [Theory]
    [InlineData("/v1/completions", true)]
    [InlineData("/v1", true)]
    [InlineData("/api/generate", false)]
    [InlineData("/v10/x", false)]
    public void Only_OpenAIs_routes_get_the_envelope(string path, bool openAi)
    {
        var http = new DefaultHttpContext();
        http.Request.Path = path;
        Assert.Equal(openAi, new OpenAIErrorWriter().CanWrite(new ProblemDetailsContext { HttpContext = http }));
    }
}
