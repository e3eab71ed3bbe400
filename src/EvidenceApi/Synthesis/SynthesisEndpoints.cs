using EvidenceApi.Database;
using EvidenceApi.Http;
using EvidenceApi.Querying;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EvidenceApi.Synthesis;

public static class SynthesisEndpoints
{
    public static RouteGroupBuilder MapSynthesis(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/synthesis").WithTags("Synthesis");
        group.MapGet("/", Synthesise)
            .WithName("Synthesise")
            .WithSummary("Pooled proportion of responders with Wilson and Clopper-Pearson 95 % intervals")
            .WithDescription("For any filter and response definition: the per-study rows (with provenance), the pooled proportion, " +
                             "both intervals, the number of studies and patients, the studies left out and why, and the method. " +
                             "Reviews are left out unless design names a review design, since they pool other studies. " +
                             "Example: measure=clinical_response&review=paganelli-2020-msc-psoriasis-review.")
            .ValidateArguments()
            .RequireRateLimiting(Protection.ExpensiveReadsPolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<SynthesisResult>, ProblemHttpResult>> Synthesise(
        [AsParameters] EvidenceFilter evidence, [AsParameters] SynthesisQuery query, ReadDataSource reads, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var result = await SynthesisQueries.SynthesiseAsync(reads.Source, configuration, evidence, query, cancellationToken);
        return result is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Review not found.", detail: $"No review has the id or key '{query.Review}'.")
            : TypedResults.Ok(result);
    }
}
