using EvidenceApi.CaseReports;
using FluentValidation;

namespace EvidenceApi.Submissions;

/// <summary>A submitted case report and where it stands in moderation.</summary>
public sealed record SubmissionView
{
    /// <example>1</example>
    public long Id { get; init; }

    /// <summary><c>submitted</c> (waiting for a curator), <c>published</c> (now a study) or <c>rejected</c>.</summary>
    /// <example>submitted</example>
    public required string Status { get; init; }

    /// <example>Topical adipose MSC conditioned medium for scalp psoriasis</example>
    public required string Title { get; init; }

    public string? Doi { get; init; }

    public string? Pmid { get; init; }

    public DateTimeOffset SubmittedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The study this submission became, once published.</summary>
    public long? StudyId { get; init; }

    /// <summary>
    /// The search for a study with a near-identical title: <c>done</c> (every study's title was compared; see
    /// possibleDuplicate), <c>pending</c> (still running in the background, which over a million studies takes seconds) or
    /// <c>timed_out</c> (given up).
    /// </summary>
    /// <example>done</example>
    public required string TitleCheck { get; init; }

    /// <summary>Set when an existing study has a near-identical title, for the curator to compare.</summary>
    public PossibleDuplicate? PossibleDuplicate { get; init; }

    /// <summary>The case report as accepted.</summary>
    public required CaseReport Report { get; init; }
}

/// <summary>An existing study whose title closely resembles the submission's.</summary>
/// <param name="StudyId">The existing study.</param>
/// <param name="Title">Its title.</param>
/// <param name="Similarity">Trigram similarity of the titles, 0-1.</param>
public sealed record PossibleDuplicate(long StudyId, string Title, double Similarity);

/// <summary>One change of a submission's state.</summary>
public sealed record SubmissionEvent
{
    public long Id { get; init; }

    /// <summary>Null for the submission itself.</summary>
    public string? FromStatus { get; init; }

    public required string ToStatus { get; init; }

    public string? Reason { get; init; }

    public DateTimeOffset At { get; init; }

    /// <summary>The API key that made the change.</summary>
    public long ActorKeyId { get; init; }

    /// <summary>The name given to that key.</summary>
    public required string ActorName { get; init; }

    public required string ActorRole { get; init; }
}

/// <summary>A curator's decision.</summary>
public sealed record ModerationDecision
{
    /// <summary>Why: required to reject, optional to publish.</summary>
    /// <example>Complete report with baseline and follow-up scores; consent stated.</example>
    public string? Reason { get; init; }
}

public sealed class ModerationDecisionValidator : AbstractValidator<ModerationDecision>
{
    public const int MaxReason = 2000;

    public ModerationDecisionValidator() => RuleFor(d => d.Reason).MaximumLength(MaxReason);
}
