using EvidenceApi.Http;
using EvidenceApi.Vocabularies;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Synthesis;

/// <summary>Which studies to pool and what counts as a response.</summary>
public sealed record SynthesisQuery
{
    public static readonly IReadOnlyList<string> ResponderMeasures =
        ["pasi_40", "pasi_50", "pasi_75", "pasi_90", "pasi_100", "clinical_response", "relapse_free"];

    public static readonly IReadOnlyList<string> ScoreMeasures = ["pasi", "pssi", "bsa", "dlqi"];

    public static readonly IReadOnlyList<string> Timepoints = ["last", "first"];

    /// <summary>
    /// The response definition: a responder measure (pasi_40 ... pasi_100, clinical_response, relapse_free), or a score
    /// measure (pasi, pssi, bsa, dlqi) with a threshold of improvement from baseline.
    /// </summary>
    /// <example>clinical_response</example>
    [FromQuery(Name = "measure")]
    public string? Measure { get; init; }

    /// <summary>For a score measure: the improvement from baseline, in percent, that counts as a response (1-100).</summary>
    /// <example>75</example>
    [FromQuery(Name = "threshold")]
    public decimal? Threshold { get; init; }

    /// <summary>Which timepoint of each study: last (default) or first.</summary>
    /// <example>last</example>
    [FromQuery(Name = "timepoint")]
    public string? Timepoint { get; init; }

    /// <summary>Pool the primary studies this review (id or key) covered; if it has none linked, its own reported result.</summary>
    /// <example>paganelli-2020-msc-psoriasis-review</example>
    [FromQuery(Name = "review")]
    public string? Review { get; init; }
}

public sealed class SynthesisQueryValidator : AbstractValidator<SynthesisQuery>
{
    public SynthesisQueryValidator()
    {
        RuleFor(q => q.Measure).NotEmpty().WithMessage("Choose the response definition: measure=clinical_response, pasi_75, or a score measure with threshold.")
            .Must(m => m is null || SynthesisQuery.ResponderMeasures.Contains(m) || SynthesisQuery.ScoreMeasures.Contains(m))
            .WithMessage((_, m) => $"'{m}' cannot define a response. Allowed: {Vocabulary.Describe(SynthesisQuery.ResponderMeasures.Concat(SynthesisQuery.ScoreMeasures))}.");
        RuleFor(q => q.Threshold).NotNull().When(q => q.Measure is not null && SynthesisQuery.ScoreMeasures.Contains(q.Measure))
            .WithMessage("A score measure needs threshold: the percent improvement from baseline that counts as a response (e.g. 75).");
        RuleFor(q => q.Threshold).Null().When(q => q.Measure is not null && SynthesisQuery.ResponderMeasures.Contains(q.Measure))
            .WithMessage("A responder measure defines its own threshold; leave threshold out.");
        RuleFor(q => q.Threshold).InclusiveBetween(1, 100);
        RuleFor(q => q.Timepoint).InVocabulary(SynthesisQuery.Timepoints);
        RuleFor(q => q.Timepoint).Must(t => t is null || !t.Contains(',', StringComparison.Ordinal)).WithMessage("Choose one timepoint.");
        RuleFor(q => q.Review).MaximumLength(200);
    }
}

/// <summary>A pooled proportion of responders with its per-study rows, exclusions and method.</summary>
public sealed record SynthesisResult
{
    /// <summary>The response definition in words, e.g. "clinical_response as reported, at each study's last timepoint".</summary>
    public required string Definition { get; init; }

    /// <summary>Studies pooled.</summary>
    /// <example>1</example>
    public int Studies { get; init; }

    /// <summary>Patients assessed across pooled studies.</summary>
    /// <example>6</example>
    public int Patients { get; init; }

    /// <example>6</example>
    public int Responders { get; init; }

    /// <summary>Responders / patients, 0-1; null when nothing could be pooled.</summary>
    /// <example>1</example>
    public double? Proportion { get; init; }

    /// <summary>Wilson score 95 % interval.</summary>
    public Interval? Wilson { get; init; }

    /// <summary>Clopper-Pearson exact 95 % interval.</summary>
    public Interval? ClopperPearson { get; init; }

    /// <summary>One row per pooled study (the first 500 by id when there are more; see <c>rowsOmitted</c>).</summary>
    public IReadOnlyList<SynthesisRow> Rows { get; init; } = [];

    /// <summary>Pooled studies not listed in <c>rows</c> because there were more than 500; they count in the totals.</summary>
    public int RowsOmitted { get; init; }

    /// <summary>Studies in scope that could not be pooled, and why (the first 500 by id).</summary>
    public IReadOnlyList<ExcludedStudy> Excluded { get; init; } = [];

    /// <summary>Excluded studies not listed because there were more than 500.</summary>
    public int ExcludedOmitted { get; init; }

    /// <summary>How the numbers were computed, to cite with them.</summary>
    public required string Method { get; init; }
}

/// <summary>The result of one study under the response definition.</summary>
public sealed record SynthesisRow
{
    public long StudyId { get; init; }

    public required string Key { get; init; }

    public required string Title { get; init; }

    public required string Design { get; init; }

    public int? Year { get; init; }

    /// <example>6</example>
    public int Assessed { get; init; }

    /// <example>6</example>
    public int Responders { get; init; }

    /// <summary>The measure of the outcome used (a score measure when the response was derived from baseline and follow-up).</summary>
    public required string Measure { get; init; }

    /// <summary>True when the response was computed from a patient's baseline and follow-up scores.</summary>
    public bool Derived { get; init; }

    public string? Timepoint { get; init; }

    public decimal? TimepointWeeks { get; init; }

    public long OutcomeId { get; init; }

    /// <summary>The source's words behind the numbers.</summary>
    public required string Quote { get; init; }

    public required string Evidence { get; init; }

    public string? SourceNote { get; init; }
}

/// <summary>A study left out of the pool.</summary>
/// <param name="StudyId">The study.</param>
/// <param name="Key">Its key.</param>
/// <param name="Title">Its title.</param>
/// <param name="Reason">Why it was left out.</param>
public sealed record ExcludedStudy(long StudyId, string Key, string Title, string Reason);
