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
            .WithSummary("Pooled proportion of responders, with a random- or fixed-effect meta-analysis on request")
            .WithDescription("For any filter and response definition: the per-study rows (with provenance), the pooled proportion, " +
                             "Wilson and Clopper-Pearson intervals, the number of studies and patients, the studies left out and why, and the method. " +
                             "Reviews are left out unless design names a review design, since they pool other studies. " +
                             "With model=random|fixed (transform, tau2, by): an inverse-variance meta-analysis of the same rows, with " +
                             "heterogeneity, prediction interval, each study's weight and subgroups. " +
                             "With Accept: image/svg+xml: the forest plot, as /v1/synthesis/forest.svg. " +
                             "Example: measure=clinical_response&review=paganelli-2020-msc-psoriasis-review.")
            .ValidateArguments()
            .RequireRateLimiting(Protection.ExpensiveReadsPolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/forest.svg", Forest)
            .WithName("ForestPlot")
            .WithSummary("Forest plot of the meta-analysis (SVG)")
            .WithDescription("The same parameters as /v1/synthesis; always a meta-analysis (model=random unless model=fixed). One row per study " +
                             $"(at most {ForestPlot.MaxStudies}, those with most weight), the pooled diamonds, the prediction interval, heterogeneity in words, " +
                             "subgroup blocks with by, an axis from 0 to 1. Plain SVG with title and desc for screen readers. " +
                             "Example: measure=relapse_free&condition=psoriasis&by=product.")
            .ValidateArguments()
            .RequireRateLimiting(Protection.ExpensiveReadsPolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<SynthesisResult>, SvgResult, ProblemHttpResult>> Synthesise(
        HttpRequest request, [AsParameters] EvidenceFilter evidence, [AsParameters] SynthesisQuery query, ReadDataSource reads, IConfiguration configuration,
        CancellationToken cancellationToken)
    {
        var svg = ContentNegotiation.PrefersSvg(request);
        var result = await SynthesisQueries.SynthesiseAsync(reads.Source, configuration, evidence, query, cancellationToken, forPlot: svg);
        if (result is null)
        {
            return ReviewNotFound(query);
        }

        return svg ? new SvgResult(ForestPlot.Render(result)) : TypedResults.Ok(result);
    }

    private static async Task<Results<SvgResult, ProblemHttpResult>> Forest(
        [AsParameters] EvidenceFilter evidence, [AsParameters] SynthesisQuery query, ReadDataSource reads, IConfiguration configuration,
        CancellationToken cancellationToken)
    {
        var result = await SynthesisQueries.SynthesiseAsync(reads.Source, configuration, evidence, query, cancellationToken, forPlot: true);
        return result is null ? ReviewNotFound(query) : new SvgResult(ForestPlot.Render(result));
    }

    private static ProblemHttpResult ReviewNotFound(SynthesisQuery query) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Review not found.", detail: $"No review has the id or key '{query.Review}'.");
}
