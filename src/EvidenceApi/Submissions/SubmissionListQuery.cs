using EvidenceApi.Infrastructure;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Submissions;

/// <summary>Filters and paging of <c>GET /v1/submissions</c>.</summary>
public sealed record SubmissionListQuery
{
    public static readonly IReadOnlyList<string> Statuses = ["submitted", "published", "rejected"];

    /// <summary>Status(es), comma-separated: submitted, published, rejected.</summary>
    /// <example>submitted</example>
    [FromQuery(Name = "status")]
    public string? Status { get; init; }

    /// <summary>Page size, 1-200 (default 20).</summary>
    /// <example>20</example>
    [FromQuery(Name = "limit")]
    public int? Limit { get; init; }

    /// <summary>Rows to skip. Not combinable with cursor.</summary>
    [FromQuery(Name = "offset")]
    public int? Offset { get; init; }

    /// <summary>The <c>next</c> value of the previous page.</summary>
    [FromQuery(Name = "cursor")]
    public string? Cursor { get; init; }

    /// <summary>Count all matching rows (default true).</summary>
    [FromQuery(Name = "includeTotal")]
    public bool? IncludeTotal { get; init; }
}

public sealed class SubmissionListQueryValidator : AbstractValidator<SubmissionListQuery>
{
    public SubmissionListQueryValidator()
    {
        RuleFor(q => q.Status).InVocabulary(SubmissionListQuery.Statuses);
        this.PagingRules(q => q.Limit, q => q.Offset, q => q.Cursor);
    }
}
