using Microsoft.AspNetCore.Http.HttpResults;

namespace Training.Runs;

public static class RunRefusals
{
    /// <summary>
    /// A refusal's problem in words, for a run that records it instead of answering it: each field with its
    /// messages, or the detail (a run that would not fit: its estimate), or the title.
    /// </summary>
    public static string ReasonOf(ProblemHttpResult problem)
    {
        var details = problem.ProblemDetails;
        if (details is HttpValidationProblemDetails { Errors.Count: > 0 } validation)
            return string.Join("; ", validation.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
        return details.Detail ?? details.Title ?? "refused.";
    }
}
