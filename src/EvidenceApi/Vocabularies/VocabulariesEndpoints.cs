using Dapper;
using EvidenceApi.Database;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EvidenceApi.Vocabularies;

/// <summary>A value of a controlled vocabulary.</summary>
public sealed record Term
{
    /// <example>umbilical_cord</example>
    public required string Code { get; init; }

    /// <example>Umbilical cord</example>
    public required string Label { get; init; }
}

/// <summary>An outcome measure, with the valid range of its scores where it has a fixed scale.</summary>
public sealed record MeasureTerm
{
    /// <example>pasi</example>
    public required string Code { get; init; }

    /// <example>Psoriasis Area and Severity Index</example>
    public required string Label { get; init; }

    /// <example>0</example>
    public decimal? MinValue { get; init; }

    /// <example>72</example>
    public decimal? MaxValue { get; init; }

    /// <summary>True for responder measures (PASI-75, clinical response, ...), counted as responders of assessed.</summary>
    public bool IsResponse { get; init; }
}

/// <summary>Every controlled vocabulary the filters and submissions accept.</summary>
public sealed record Vocabularies(
    IReadOnlyList<Term> Designs,
    IReadOnlyList<Term> Products,
    IReadOnlyList<Term> CellSources,
    IReadOnlyList<Term> Donors,
    IReadOnlyList<Term> Routes,
    IReadOnlyList<MeasureTerm> Measures,
    IReadOnlyList<SubtypeTerm> ConditionSubtypes);

public static class VocabulariesEndpoints
{
    private const string Sql = """
        SELECT code, label FROM study_designs ORDER BY sort_order;
        SELECT code, label FROM products ORDER BY code;
        SELECT code, label FROM cell_sources ORDER BY code;
        SELECT code, label FROM routes ORDER BY code;
        SELECT code, label, min_value, max_value, is_response FROM measures ORDER BY code;
        SELECT s.condition, s.code, s.label,
               coalesce(array_agg(y.synonym ORDER BY y.synonym) FILTER (WHERE y.synonym IS NOT NULL), '{}') AS synonyms
        FROM condition_subtypes s
        LEFT JOIN condition_subtype_synonyms y ON y.condition = s.condition AND y.code = s.code
        GROUP BY s.condition, s.code, s.label, s.sort_order
        ORDER BY s.condition, s.sort_order;
        """;

    private static readonly IReadOnlyList<Term> DonorTerms =
    [
        new() { Code = "autologous", Label = "Autologous (patient's own cells)" },
        new() { Code = "allogeneic", Label = "Allogeneic (donor cells)" },
        new() { Code = "unknown", Label = "Not reported" },
    ];

    public static RouteGroupBuilder MapVocabularies(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/vocabularies").WithTags("Vocabularies");
        group.MapGet("/", GetVocabularies)
            .WithName("GetVocabularies")
            .WithSummary("The allowed values of every coded field")
            .WithDescription("Designs, products, cell sources, donors, routes, outcome measures (with score ranges) and the " +
                             "subtypes of each condition that has them (with the synonyms accepted for each).");
        return group;
    }

    private static async Task<Ok<Vocabularies>> GetVocabularies(ReadDataSource reads, CancellationToken cancellationToken) =>
        TypedResults.Ok(await LoadAsync(reads.Source, cancellationToken));

    /// <summary>Every controlled vocabulary, from the lookup tables (donors, a CHECK constraint, from code).</summary>
    public static async Task<Vocabularies> LoadAsync(Npgsql.NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(Sql, cancellationToken: cancellationToken));
        var designs = (await results.ReadAsync<Term>()).ToList();
        var products = (await results.ReadAsync<Term>()).ToList();
        var cellSources = (await results.ReadAsync<Term>()).ToList();
        var routes = (await results.ReadAsync<Term>()).ToList();
        var measures = (await results.ReadAsync<MeasureTerm>()).ToList();
        var subtypes = (await results.ReadAsync<(string Condition, string Code, string Label, string[] Synonyms)>())
            .Select(row => new SubtypeTerm(row.Condition, row.Code, row.Label, row.Synonyms))
            .ToList();
        return new Vocabularies(designs, products, cellSources, DonorTerms, routes, measures, subtypes);
    }
}
