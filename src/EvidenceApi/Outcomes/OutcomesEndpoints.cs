using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Http;
using EvidenceApi.Interventions;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Vocabularies;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace EvidenceApi.Outcomes;

/// <summary>
/// What <c>GET /v1/outcomes</c> takes beside the shared evidence filters. The intervention filters (product, cell source,
/// route, donor) apply to the intervention the outcome belongs to, or, for an outcome not tied to one, to any
/// intervention of its study.
/// </summary>
public sealed record OutcomeListQuery : PageQuery
{
    /// <summary>Only the outcomes of this study (numeric id).</summary>
    [FromQuery(Name = "studyId")]
    public long? StudyId { get; init; }

    /// <summary>Measure(s), comma-separated.</summary>
    /// <example>pasi_75</example>
    [FromQuery(Name = "measure")]
    public string? Measure { get; init; }

    /// <summary>Evidence level: primary or secondary.</summary>
    /// <example>primary</example>
    [FromQuery(Name = "evidence")]
    public string? Evidence { get; init; }

    /// <summary>Earliest timepoint, in weeks.</summary>
    [FromQuery(Name = "minWeeks")]
    public decimal? MinWeeks { get; init; }

    /// <summary>Latest timepoint, in weeks.</summary>
    [FromQuery(Name = "maxWeeks")]
    public decimal? MaxWeeks { get; init; }
}

public sealed class OutcomeListQueryValidator : AbstractValidator<OutcomeListQuery>
{
    public OutcomeListQueryValidator()
    {
        RuleFor(q => q.StudyId).GreaterThan(0);
        RuleFor(q => q.Measure).InVocabulary(Vocabulary.Measures);
        RuleFor(q => q.Evidence).InVocabulary(Vocabulary.EvidenceLevels);
        RuleFor(q => q.MinWeeks).GreaterThanOrEqualTo(0);
        RuleFor(q => q.MaxWeeks).GreaterThanOrEqualTo(q => q.MinWeeks ?? 0)
            .WithMessage("maxWeeks must not be below minWeeks (or 0).");
        Include(new PageQueryValidator());
    }
}

public static class OutcomesEndpoints
{
    internal const string ListSql = """
        SELECT o.id, o.study_id, o.intervention_id, o.measure, o.timepoint, o.timepoint_weeks, o.baseline_value, o.value,
               o.unit, o.scale_max, o.assessed, o.responders, o.result, o.quote, o.evidence, o.source_note,
               s.id, s.key, s.title, s.design, s.year, s.participants,
               i.id, i.study_id, i.key, i.product, i.cell_source, i.donor, i.route, i.dose_value, i.dose_unit, i.dose_text,
               i.administrations, i.schedule, i.cotreatment, i.description
        FROM outcomes o
        JOIN studies s ON s.id = o.study_id
        LEFT JOIN interventions i ON i.id = o.intervention_id
        {0} {1}
        ORDER BY o.id
        LIMIT @Take OFFSET @Offset;
        """;

    private const string ExportSql = """
        SELECT o.id, o.study_id, s.key AS study_key, s.title AS study_title, s.design AS study_design, s.year AS study_year,
               o.intervention_id, i.product, i.cell_source, i.donor, i.route,
               o.measure, o.timepoint, o.timepoint_weeks, o.baseline_value, o.value, o.unit, o.scale_max,
               o.assessed, o.responders, o.result, o.quote, o.evidence, o.source_note
        FROM outcomes o
        JOIN studies s ON s.id = o.study_id
        LEFT JOIN interventions i ON i.id = o.intervention_id
        {0}
        ORDER BY o.id
        {1}
        """;

    private const string CountSql = """
        SELECT count(*) FROM outcomes o JOIN studies s ON s.id = o.study_id {0};
        """;

    public static RouteGroupBuilder MapOutcomes(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/outcomes").WithTags("Outcomes");
        group.MapGet("/", ListOutcomes)
            .WithName("ListOutcomes")
            .WithSummary("Outcomes across studies, with their study and intervention")
            .WithDescription("For example all PASI-75 results for umbilical-cord MSCs given intravenously: " +
                             "measure=pasi_75&cellSource=umbilical_cord&route=intravenous. Each result carries its source quote.")
            .ValidateArguments()
            .ListOf<OutcomeListItem>();
        return group;
    }

    private static async Task<Results<Ok<Page<OutcomeListItem>>, CsvResult>> ListOutcomes(
        [AsParameters] EvidenceFilter evidence, [AsParameters] OutcomeListQuery query, HttpContext context, ReadDataSource reads, CancellationToken cancellationToken)
    {
        if (CsvResult.Requested(context, query))
        {
            return Filter(evidence, query).Export(reads.Source, ExportSql, query.Limit, "outcomes.csv");
        }

        return TypedResults.Ok(await ListAsync(reads.Source, evidence, query, cancellationToken));
    }

    /// <summary>One page of outcomes with their study and intervention, ordered by id.</summary>
    public static Task<Page<OutcomeListItem>> ListAsync(NpgsqlDataSource dataSource, EvidenceFilter evidence, OutcomeListQuery query, CancellationToken cancellationToken) =>
        QueryAsync(dataSource, Filter(evidence, query), query, cancellationToken);

    /// <summary>One outcome with its study and intervention.</summary>
    public static async Task<OutcomeListItem?> FindAsync(NpgsqlDataSource dataSource, long id, CancellationToken cancellationToken)
    {
        var query = new OutcomeListQuery { Limit = 1, IncludeTotal = false };
        var page = await QueryAsync(dataSource, new SqlFilter().When(id, "Id", "o.id = @Id"), query, cancellationToken);
        return page.Items.SingleOrDefault();
    }

    private static SqlFilter Filter(EvidenceFilter evidence, OutcomeListQuery query) => evidence.ForOutcomes(new SqlFilter())
        .When(query.StudyId, "StudyId", "o.study_id = @StudyId")
        .WhenIn(Paging.SplitList(query.Measure), "Measures", "o.measure")
        .WhenIn(Paging.SplitList(query.Evidence), "Evidence", "o.evidence")
        .When(query.MinWeeks, "MinWeeks", "o.timepoint_weeks >= @MinWeeks")
        .When(query.MaxWeeks, "MaxWeeks", "o.timepoint_weeks <= @MaxWeeks");

    private static Task<Page<OutcomeListItem>> QueryAsync(NpgsqlDataSource dataSource, SqlFilter filter, OutcomeListQuery query, CancellationToken cancellationToken) =>
        IdKeysetPage.QueryAsync(
            dataSource, ListSql, CountSql, filter, "o.id", query.Limit, query.Offset, query.Cursor, query.IncludeTotal,
            (connection, command) => connection.QueryAsync<OutcomeItem, StudyReference, InterventionItem?, OutcomeListItem>(
                command,
                (outcome, study, intervention) => new OutcomeListItem { Outcome = outcome, Study = study, Intervention = intervention },
                splitOn: "id,id"),
            item => item.Outcome.Id,
            cancellationToken);
}
