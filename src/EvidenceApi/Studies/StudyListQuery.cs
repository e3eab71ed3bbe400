using EvidenceApi.Http;
using EvidenceApi.Querying;
using EvidenceApi.Vocabularies;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Studies;

/// <summary>Filters, sort and paging of <c>GET /v1/studies</c>. Filters combine with AND; a comma-separated list means any of its values.</summary>
public sealed record StudyListQuery : PageQuery
{
    /// <summary>Condition studied (case-insensitive).</summary>
    /// <example>psoriasis</example>
    [FromQuery(Name = "condition")]
    public string? Condition { get; init; }

    /// <summary>Condition subtype, e.g. scalp, vulgaris, psoriatic_arthritis (case-insensitive).</summary>
    /// <example>scalp</example>
    [FromQuery(Name = "subtype")]
    public string? Subtype { get; init; }

    /// <summary>Study design(s), comma-separated.</summary>
    /// <example>case_report,case_series</example>
    [FromQuery(Name = "design")]
    public string? Design { get; init; }

    /// <summary>Product(s) tested in any intervention of the study.</summary>
    /// <example>conditioned_medium</example>
    [FromQuery(Name = "product")]
    public string? Product { get; init; }

    /// <summary>Cell source(s). Combined with product, route and donor, all must hold for the same intervention.</summary>
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

    /// <summary>Outcome measure(s) the study reports.</summary>
    /// <example>pasi_40</example>
    [FromQuery(Name = "measure")]
    public string? Measure { get; init; }

    /// <summary>Country where the study was done (case-insensitive).</summary>
    /// <example>China</example>
    [FromQuery(Name = "country")]
    public string? Country { get; init; }

    /// <summary>Earliest publication year.</summary>
    /// <example>2016</example>
    [FromQuery(Name = "yearFrom")]
    public int? YearFrom { get; init; }

    /// <summary>Latest publication year.</summary>
    /// <example>2024</example>
    [FromQuery(Name = "yearTo")]
    public int? YearTo { get; init; }

    /// <summary>Free text over title, condition and summary: words, "quoted phrases", OR, and -exclusions.</summary>
    /// <example>secretome</example>
    [FromQuery(Name = "q")]
    public string? Q { get; init; }

    /// <summary>Sort key, prefixed with - for descending: year, title, participants, id, relevance (with q). Default: relevance with q, else -year.</summary>
    /// <example>-year</example>
    [FromQuery(Name = "sort")]
    public string? Sort { get; init; }
}

public sealed class StudyListQueryValidator : AbstractValidator<StudyListQuery>
{
    public StudyListQueryValidator()
    {
        RuleFor(q => q.Design).InVocabulary(Vocabulary.Designs);
        RuleFor(q => q.Product).InVocabulary(Vocabulary.Products);
        RuleFor(q => q.CellSource).InVocabulary(Vocabulary.CellSources);
        RuleFor(q => q.Route).InVocabulary(Vocabulary.Routes);
        RuleFor(q => q.Donor).InVocabulary(Vocabulary.Donors);
        RuleFor(q => q.Measure).InVocabulary(Vocabulary.Measures);
        RuleFor(q => q.Condition).MaximumLength(200);
        RuleFor(q => q.Subtype).MaximumLength(200);
        RuleFor(q => q.Country).MaximumLength(200);
        RuleFor(q => q.Q).MaximumLength(500);
        RuleFor(q => q.YearFrom).InclusiveBetween(1800, 2200);
        RuleFor(q => q.YearTo).InclusiveBetween(1800, 2200)
            .GreaterThanOrEqualTo(q => q.YearFrom).When(q => q.YearFrom is not null)
            .WithMessage("yearTo must not be before yearFrom.");
        RuleFor(q => q.Sort)
            .Must(sort => sort is null || StudyQueries.SortKeys.ContainsKey(sort.TrimStart('-')))
            .WithMessage($"Unknown sort key. Allowed: {Vocabulary.Describe(StudyQueries.SortKeys.Keys)}, each optionally prefixed with - for descending.");
        RuleFor(q => q.Sort)
            .Must(sort => sort?.TrimStart('-') != "relevance")
            .When(q => string.IsNullOrWhiteSpace(q.Q))
            .WithMessage("Sorting by relevance needs a search text in q.");
        Include(new PageQueryValidator());
    }
}
