using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Http;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Vocabularies;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Interventions;

/// <summary>Filters and paging of <c>GET /v1/interventions</c>. A comma-separated list means any of its values.</summary>
public sealed record InterventionListQuery : PageQuery
{
    /// <summary>Only the interventions of this study (numeric id).</summary>
    /// <example>3</example>
    [FromQuery(Name = "studyId")]
    public long? StudyId { get; init; }

    /// <summary>Condition of the study (case-insensitive).</summary>
    /// <example>psoriasis</example>
    [FromQuery(Name = "condition")]
    public string? Condition { get; init; }

    /// <summary>Design(s) of the study.</summary>
    /// <example>single_arm_trial</example>
    [FromQuery(Name = "design")]
    public string? Design { get; init; }

    /// <summary>Product(s).</summary>
    /// <example>msc_cells</example>
    [FromQuery(Name = "product")]
    public string? Product { get; init; }

    /// <summary>Cell source(s).</summary>
    /// <example>umbilical_cord</example>
    [FromQuery(Name = "cellSource")]
    public string? CellSource { get; init; }

    /// <summary>Route(s) of administration.</summary>
    /// <example>intravenous</example>
    [FromQuery(Name = "route")]
    public string? Route { get; init; }

    /// <summary>Donor: autologous, allogeneic or unknown.</summary>
    /// <example>allogeneic</example>
    [FromQuery(Name = "donor")]
    public string? Donor { get; init; }
}

public sealed class InterventionListQueryValidator : AbstractValidator<InterventionListQuery>
{
    public InterventionListQueryValidator()
    {
        RuleFor(q => q.StudyId).GreaterThan(0);
        RuleFor(q => q.Condition).MaximumLength(200);
        RuleFor(q => q.Design).InVocabulary(Vocabulary.Designs);
        RuleFor(q => q.Product).InVocabulary(Vocabulary.Products);
        RuleFor(q => q.CellSource).InVocabulary(Vocabulary.CellSources);
        RuleFor(q => q.Route).InVocabulary(Vocabulary.Routes);
        RuleFor(q => q.Donor).InVocabulary(Vocabulary.Donors);
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
            .Validate<InterventionListQuery>()
            .ListOf<InterventionListItem>();
        return group;
    }

    private static async Task<Results<Ok<Page<InterventionListItem>>, CsvResult>> ListInterventions(
        [AsParameters] InterventionListQuery query, HttpContext context, ReadDataSource reads, CancellationToken cancellationToken)
    {
        var filter = new SqlFilter()
            .When(query.StudyId, "StudyId", "i.study_id = @StudyId")
            .When(query.Condition?.Trim().ToLowerInvariant(), "Condition", "s.condition = @Condition")
            .WhenIn(Paging.SplitList(query.Design), "Designs", "s.design")
            .WhenIn(Paging.SplitList(query.Product), "Products", "i.product")
            .WhenIn(Paging.SplitList(query.CellSource), "CellSources", "i.cell_source")
            .WhenIn(Paging.SplitList(query.Route), "Routes", "i.route")
            .WhenIn(Paging.SplitList(query.Donor), "Donors", "i.donor");
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
