using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Http;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Stats;

/// <summary>Narrows the counts of <c>GET /v1/stats</c>.</summary>
public sealed record StatsQuery
{
    /// <summary>Only studies of this condition (case-insensitive).</summary>
    /// <example>psoriasis</example>
    [FromQuery(Name = "condition")]
    public string? Condition { get; init; }
}

public sealed class StatsQueryValidator : AbstractValidator<StatsQuery>
{
    public StatsQueryValidator() => RuleFor(q => q.Condition).MaximumLength(200);
}

/// <summary>How many studies, and how many patients in them, share one value of a dimension.</summary>
/// <param name="Value">The value (a vocabulary code, a country, a year, or "unknown").</param>
/// <param name="Studies">Number of studies.</param>
/// <param name="Patients">Patients in those studies. Reviews count 0 (their patients belong to the studies they cover), and so do
/// registered studies (their participants are a planned enrollment, not patients treated).</param>
public sealed record Count(string Value, long Studies, long Patients);

/// <summary>Counts for dashboards. A study with several products (cell sources, routes) counts once under each.</summary>
public sealed record EvidenceStats(
    long Studies,
    long Patients,
    IReadOnlyList<Count> ByDesign,
    IReadOnlyList<Count> ByProduct,
    IReadOnlyList<Count> ByCellSource,
    IReadOnlyList<Count> ByRoute,
    IReadOnlyList<Count> ByCountry,
    IReadOnlyList<Count> ByYear);

public static class StatsEndpoints
{
    private const string Sql = """
        WITH scope AS (
            SELECT s.id, s.design, coalesce(s.country, 'unknown') AS country, coalesce(s.year::text, 'unknown') AS year,
                   CASE WHEN d.is_review OR s.status = 'registered' THEN 0 ELSE coalesce(s.participants, 0) END AS patients,
                   s.products, s.cell_sources, s.routes
            FROM studies s
            JOIN study_designs d ON d.code = s.design
            WHERE @Condition::text IS NULL OR s.condition = @Condition
        ),
        counts AS (
            SELECT 'total' AS dimension, '' AS value, count(*) AS studies, coalesce(sum(patients), 0) AS patients FROM scope
            UNION ALL SELECT 'design', design, count(*), sum(patients) FROM scope GROUP BY design
            UNION ALL SELECT 'country', country, count(*), sum(patients) FROM scope GROUP BY country
            UNION ALL SELECT 'year', year, count(*), sum(patients) FROM scope GROUP BY year
            UNION ALL SELECT 'product', product, count(*), sum(patients) FROM scope, unnest(products) AS product GROUP BY product
            UNION ALL SELECT 'cellSource', cell_source, count(*), sum(patients) FROM scope, unnest(cell_sources) AS cell_source GROUP BY cell_source
            UNION ALL SELECT 'route', route, count(*), sum(patients) FROM scope, unnest(routes) AS route GROUP BY route
        )
        SELECT dimension, value, studies, patients FROM counts ORDER BY dimension, studies DESC, value
        """;

    public static RouteGroupBuilder MapStats(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/stats").WithTags("Statistics");
        group.MapGet("/", GetStats)
            .WithName("GetStats")
            .WithSummary("Counts of studies and patients by design, product, cell source, route, country and year")
            .WithDescription("For dashboards. Patients of reviews count 0, since they belong to the studies the review covered; "
                + "so do those of registered studies, whose participants are a planned enrollment.")
            .ValidateArguments();
        return group;
    }

    private static async Task<Ok<EvidenceStats>> GetStats(
        [AsParameters] StatsQuery query, ReadDataSource reads, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var (connection, transaction) = await EvidenceDatabase.BeginAnalyticalAsync(reads.Source, configuration, cancellationToken);
        await using var _ = connection;
        await using var __ = transaction;
        var rows = (await connection.QueryAsync<(string Dimension, string Value, long Studies, long Patients)>(new CommandDefinition(
            Sql, new { Condition = query.Condition?.Trim().ToLowerInvariant() }, transaction, commandTimeout: 0, cancellationToken: cancellationToken))).ToList();

        IReadOnlyList<Count> By(string dimension) =>
            rows.Where(r => r.Dimension == dimension).Select(r => new Count(r.Value, r.Studies, r.Patients)).ToList();

        var total = rows.Single(r => r.Dimension == "total");
        return TypedResults.Ok(new EvidenceStats(
            total.Studies, total.Patients, By("design"), By("product"), By("cellSource"), By("route"), By("country"), By("year")));
    }
}
