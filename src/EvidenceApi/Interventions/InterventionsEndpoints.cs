using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Http;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Interventions;

/// <summary>What <c>GET /v1/interventions</c> takes beside the shared evidence filters: the study, and paging.</summary>
public sealed record InterventionListQuery : PageQuery
{
    /// <summary>Only the interventions of this study (numeric id).</summary>
    /// <example>3</example>
    [FromQuery(Name = "studyId")]
    public long? StudyId { get; init; }
}

public sealed class InterventionListQueryValidator : AbstractValidator<InterventionListQuery>
{
    public InterventionListQueryValidator()
    {
        RuleFor(q => q.StudyId).GreaterThan(0);
        Include(new PageQueryValidator());
    }
}

public static class InterventionsEndpoints
{
    private const string ListSql = """
        SELECT i.id, i.study_id, i.key, i.product, i.cell_source, i.donor, i.route, i.dose_value, i.dose_unit, i.dose_text,
               i.administrations, i.schedule, i.cotreatment, i.description,
               s.id, s.key, s.title, s.design, s.year, s.participants
        FROM interventions i
        JOIN studies s ON s.id = i.study_id
        {0} {1}
        ORDER BY i.id
        LIMIT @Take OFFSET @Offset;
        """;

    private const string ExportSql = """
        SELECT i.id, i.study_id, s.key AS study_key, s.title AS study_title, s.design AS study_design, s.year AS study_year,
               i.key, i.product, i.cell_source, i.donor, i.route, i.dose_value, i.dose_unit, i.dose_text,
               i.administrations, i.schedule, i.cotreatment, i.description
        FROM interventions i
        JOIN studies s ON s.id = i.study_id
        {0}
        ORDER BY i.id
        {1}
        """;

    private const string CountSql = """
        SELECT count(*) FROM interventions i JOIN studies s ON s.id = i.study_id {0};
        """;

    public static RouteGroupBuilder MapInterventions(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/interventions").WithTags("Interventions");
        group.MapGet("/", ListInterventions)
            .WithName("ListInterventions")
            .WithSummary("Interventions across studies")
            .WithDescription("What was given (product, cell source, donor, route, dose, schedule) with the study it belongs to.")
            .ValidateArguments()
            .ListOf<InterventionListItem>();
        return group;
    }

    private static async Task<Results<Ok<Page<InterventionListItem>>, CsvResult>> ListInterventions(
        [AsParameters] EvidenceFilter evidence, [AsParameters] InterventionListQuery query, HttpContext context, ReadDataSource reads, CancellationToken cancellationToken)
    {
        var filter = evidence.ForInterventions(new SqlFilter())
            .When(query.StudyId, "StudyId", "i.study_id = @StudyId");
        if (CsvResult.Requested(context, query))
        {
            return filter.Export(reads.Source, ExportSql, query.Limit, "interventions.csv");
        }

        var page = await IdKeysetPage.QueryAsync(
            reads.Source, ListSql, CountSql, filter, "i.id", query.Limit, query.Offset, query.Cursor, query.IncludeTotal,
            (connection, command) => connection.QueryAsync<InterventionItem, StudyReference, InterventionListItem>(
                command, (intervention, study) => new InterventionListItem { Intervention = intervention, Study = study }, splitOn: "id"),
            item => item.Intervention.Id,
            cancellationToken);
        return TypedResults.Ok(page);
    }
}
