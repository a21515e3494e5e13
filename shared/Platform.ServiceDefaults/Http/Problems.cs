using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Contracts;

namespace Platform.ServiceDefaults.Http;

/// <summary>
/// RFC 7807 problems as typed results. A 400 naming its fields is a <see cref="ProblemHttpResult"/> holding
/// validation details (not <see cref="ValidationProblem"/>), so the problem details service gives it the trace id it
/// gives every other problem.
/// </summary>
public static class Problems
{
    public static ProblemHttpResult Invalid(IDictionary<string, string[]> errors, string? title = null,
        string? detail = null, int statusCode = StatusCodes.Status400BadRequest)
    {
        var details = new HttpValidationProblemDetails(errors)
        {
            Status = statusCode,
            Detail = detail,
        };
        if (title is not null)
            details.Title = title;
        return TypedResults.Problem(details);
    }

    public static ProblemHttpResult Invalid(ValidationErrors errors, string? title = null) =>
        Invalid(errors.ToDictionary(), title);

    public static ProblemHttpResult Invalid(string field, string reason, string? title = null) =>
        Invalid(new Dictionary<string, string[]> { [field] = [reason] }, title);

    public static ProblemHttpResult NotFound(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: title, detail: detail);
}
