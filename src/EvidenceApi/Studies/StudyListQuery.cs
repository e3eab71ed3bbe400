using EvidenceApi.Http;
using EvidenceApi.Querying;
using EvidenceApi.Vocabularies;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Studies;

/// <summary>What <c>GET /v1/studies</c> takes beside the shared evidence filters: measure, free text, sort and paging.</summary>
public sealed record StudyListQuery : PageQuery
{
    /// <summary>Outcome measure(s) the study reports.</summary>
    /// <example>pasi_40</example>
    [FromQuery(Name = "measure")]
    public string? Measure { get; init; }

    /// <summary>Free text over title, condition and summary: words, "quoted phrases", OR, and -exclusions.</summary>
    /// <example>secretome</example>
    [FromQuery(Name = "q")]
    public string? Q { get; init; }

    /// <summary>Only these studies: numeric ids, comma-separated (at most 100).</summary>
    /// <example>3,5</example>
    [FromQuery(Name = "id")]
    public string? Id { get; init; }

    /// <summary>Any identifier of the study: its key, or the DOI, PMID or registry id of its source (a DOI matches in any case).</summary>
    /// <example>10.1038/s41392-022-01059-y</example>
    [FromQuery(Name = "identifier")]
    public string? Identifier { get; init; }

    /// <summary>The title starts with this text (case-insensitive).</summary>
    /// <example>Safety and efficacy</example>
    [FromQuery(Name = "title")]
    public string? Title { get; init; }

    /// <summary>Only studies added or changed (themselves, their interventions, outcomes, review links or source) after this instant (ISO 8601).</summary>
    /// <example>2026-01-01T00:00:00Z</example>
    [FromQuery(Name = "updatedSince")]
    public DateTimeOffset? UpdatedSince { get; init; }

    /// <summary>Sort key, prefixed with - for descending: year, title, participants, id, relevance (with q). Default: relevance with q, else -year.</summary>
    /// <example>-year</example>
    [FromQuery(Name = "sort")]
    public string? Sort { get; init; }

    public const int MaxIds = 100;

    /// <summary>The ids of <see cref="Id"/>, or null when absent or not all numeric (the validator reports that).</summary>
    public static long[]? ParseIds(string? ids)
    {
        var parts = Paging.SplitList(ids);
        if (parts is null)
        {
            return null;
        }

        var parsed = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out parsed[i]))
            {
                return null;
            }
        }

        return parsed;
    }
}

public sealed class StudyListQueryValidator : AbstractValidator<StudyListQuery>
{
    public StudyListQueryValidator()
    {
        RuleFor(q => q.Measure).InVocabulary(Vocabulary.Measures);
        RuleFor(q => q.Q).MaximumLength(500);
        RuleFor(q => q.Id)
            .Must(ids => ids is null || StudyListQuery.ParseIds(ids) is { Length: > 0 and <= StudyListQuery.MaxIds })
            .WithMessage($"id takes numeric study ids, comma-separated, at most {StudyListQuery.MaxIds}.");
        RuleFor(q => q.Identifier).MaximumLength(300);
        RuleFor(q => q.Title).MaximumLength(500);
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
