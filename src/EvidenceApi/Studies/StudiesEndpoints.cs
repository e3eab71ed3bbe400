using EvidenceApi.Database;
using EvidenceApi.Http;
using EvidenceApi.Querying;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EvidenceApi.Studies;

public static class StudiesEndpoints
{
    public static RouteGroupBuilder MapStudies(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/studies").WithTags("Studies");

        group.MapGet("/", ListStudies)
            .WithName("ListStudies")
            .WithSummary("Search and filter studies")
            .WithDescription("Studies of any design (reviews, trials, case series, case reports), filtered by condition, design, " +
                             "intervention (product, cell source, route, donor: all for the same intervention), outcome measure, " +
                             "year and free text; sorted and paged by offset or cursor, with the total.")
            .ValidateArguments()
            .ListOf<StudySummary>();

        group.MapGet("/{id}", GetStudy)
            .WithName("GetStudy")
            .WithSummary("One study with its source, interventions, outcomes and review links")
            .WithDescription("Accepts the numeric id or the study key (e.g. srivastava-2024-scalp-secretome).")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return group;
    }

    private static async Task<Results<Ok<Page<StudySummary>>, CsvResult>> ListStudies(
        [AsParameters] EvidenceFilter evidence, [AsParameters] StudyListQuery query, HttpContext context, ReadDataSource reads, CancellationToken cancellationToken)
    {
        if (CsvResult.Requested(context, query))
        {
            var (sql, parameters) = StudyQueries.ListCommand(evidence, query, export: true);
            return new CsvResult(reads.Source, sql, parameters, "studies.csv");
        }

        return TypedResults.Ok(await StudyQueries.ListAsync(reads.Source, evidence, query, cancellationToken));
    }

    /// <param name="id">Numeric id or key of the study.</param>
    /// <param name="reads">Where reads go (a standby when replicas are configured).</param>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    private static async Task<Results<Ok<StudyDetail>, ProblemHttpResult>> GetStudy(
        string id, ReadDataSource reads, CancellationToken cancellationToken)
    {
        var study = await StudyQueries.FindAsync(reads.Source, id, cancellationToken);
        return study is null
            ? TypedResults.Problem(
                title: "Study not found.",
                detail: $"No study has the id or key '{id}'.",
                statusCode: StatusCodes.Status404NotFound)
            : TypedResults.Ok(study);
    }
}
