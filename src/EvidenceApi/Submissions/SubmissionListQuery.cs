using EvidenceApi.Http;
using EvidenceApi.Querying;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Submissions;

/// <summary>Filters and paging of <c>GET /v1/submissions</c>.</summary>
public sealed record SubmissionListQuery : PageQuery
{
    public static readonly IReadOnlyList<string> Statuses = ["submitted", "published", "rejected"];

    /// <summary>Status(es), comma-separated: submitted, published, rejected.</summary>
    /// <example>submitted</example>
    [FromQuery(Name = "status")]
    public string? Status { get; init; }
}

public sealed class SubmissionListQueryValidator : AbstractValidator<SubmissionListQuery>
{
    public SubmissionListQueryValidator()
    {
        RuleFor(q => q.Status).InVocabulary(SubmissionListQuery.Statuses);
        Include(new PageQueryValidator());
        RuleFor(q => q.Format).NotEqual("csv").WithMessage("Submissions are JSON only; CSV export is offered for studies, interventions and outcomes.");
    }
}
