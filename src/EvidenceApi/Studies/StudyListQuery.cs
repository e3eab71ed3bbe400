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

    /// <summary>Sort key, prefixed with - for descending: year, title, participants, id, relevance (with q). Default: relevance with q, else -year.</summary>
    /// <example>-year</example>
    [FromQuery(Name = "sort")]
    public string? Sort { get; init; }
}

public sealed class StudyListQueryValidator : AbstractValidator<StudyListQuery>
{
    public StudyListQueryValidator()
    {
        RuleFor(q => q.Measure).InVocabulary(Vocabulary.Measures);
        RuleFor(q => q.Q).MaximumLength(500);
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
