using System.Text.Json.Serialization;
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

    public static readonly IReadOnlyList<string> Models = ["random", "fixed"];

    /// <summary>The subgroup variables of <c>by</c>: a study's design, or an attribute of its intervention.</summary>
    public static readonly IReadOnlyList<string> Subgroupings = ["cellSource", "route", "product", "design", "donor"];

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

    /// <summary>
    /// A meta-analysis beside the simple pooled proportion: random (random effects) or fixed (fixed effect, inverse
    /// variance). Without model, transform, tau2 and by, the answer is the simple pooled proportion alone; with any of
    /// them, model defaults to random. The forest plot is always a meta-analysis (random unless fixed is asked for).
    /// </summary>
    /// <example>random</example>
    [FromQuery(Name = "model")]
    public string? Model { get; init; }

    /// <summary>
    /// Scale the proportions are pooled on: freeman_tukey (default; double arcsine, handles 0 % and 100 %, back-transformed
    /// with Miller's formula at the harmonic mean of the sample sizes) or logit (log odds; a study with 0 % or 100 % gets
    /// 0.5 added to its responders and non-responders, that study only).
    /// </summary>
    /// <example>freeman_tukey</example>
    [FromQuery(Name = "transform")]
    public string? Transform { get; init; }

    /// <summary>Estimator of the between-study variance τ² for model=random: dl (DerSimonian-Laird, default) or reml (restricted maximum likelihood).</summary>
    /// <example>dl</example>
    [FromQuery(Name = "tau2")]
    public string? Tau2 { get; init; }

    /// <summary>
    /// Subgroups: cellSource, route, product, design or donor. Each subgroup is pooled on its own and tested for
    /// differences. A study counts once: under the value of the intervention its outcome belongs to, or, when the
    /// outcome is not tied to one intervention and the study's interventions differ, under their combination
    /// (e.g. adipose+umbilical_cord).
    /// </summary>
    /// <example>cellSource</example>
    [FromQuery(Name = "by")]
    public string? By { get; init; }

    /// <summary>True when any meta-analysis parameter is given.</summary>
    public bool AsksForMetaAnalysis() => Model is not null || Transform is not null || Tau2 is not null || By is not null;
}

public sealed class SynthesisQueryValidator : AbstractValidator<SynthesisQuery>
{
    public SynthesisQueryValidator()
    {
        RuleFor(q => q.Measure).NotEmpty().WithMessage("Choose the response definition: measure=clinical_response, pasi_75, or a score measure with threshold.")
            .OptionalOneOf([.. SynthesisQuery.ResponderMeasures, .. SynthesisQuery.ScoreMeasures])
            .WithMessage((_, m) => $"'{m}' cannot define a response. Allowed: {Vocabulary.Describe(SynthesisQuery.ResponderMeasures.Concat(SynthesisQuery.ScoreMeasures))}.");
        RuleFor(q => q.Threshold).NotNull().When(q => q.Measure is not null && SynthesisQuery.ScoreMeasures.Contains(q.Measure))
            .WithMessage("A score measure needs threshold: the percent improvement from baseline that counts as a response (e.g. 75).");
        RuleFor(q => q.Threshold).Null().When(q => q.Measure is not null && SynthesisQuery.ResponderMeasures.Contains(q.Measure))
            .WithMessage("A responder measure defines its own threshold; leave threshold out.");
        RuleFor(q => q.Threshold).InclusiveBetween(1, 100);
        RuleFor(q => q.Timepoint).OptionalOneOf(SynthesisQuery.Timepoints);
        RuleFor(q => q.Review).MaximumLength(200);
        RuleFor(q => q.Model).OneValueOf(SynthesisQuery.Models);
        RuleFor(q => q.Transform).OneValueOf(ProportionScale.Names);
        RuleFor(q => q.Tau2).OneValueOf(InverseVariance.Tau2Methods);
        RuleFor(q => q.Tau2).Null().When(q => q.Model == "fixed")
            .WithMessage("tau2 estimates the between-study variance of model=random; the fixed-effect model has none.");
        RuleFor(q => q.By).OneValueOf(SynthesisQuery.Subgroupings);
    }
}

internal static class SynthesisRules
{
    /// <summary>Exactly one of <paramref name="allowed"/> (case-sensitive), or absent.</summary>
    public static IRuleBuilderOptions<T, string?> OneValueOf<T>(this IRuleBuilder<T, string?> rule, IReadOnlyList<string> allowed) =>
        rule.Must(value => value is null || allowed.Contains(value))
            .WithMessage((_, value) => $"'{value}' is not allowed. Allowed values (one): {Vocabulary.Describe(allowed)}.");
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

    /// <summary>The meta-analysis, when model (or transform, tau2, by) was given; absent otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MetaAnalysis? MetaAnalysis { get; init; }
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

    /// <summary>
    /// True when the response was computed from baseline and follow-up scores, patient by patient: one patient's, or each
    /// patient's own in a report that describes several (those without both a baseline and a value are not counted).
    /// </summary>
    public bool Derived { get; init; }

    public string? Timepoint { get; init; }

    public decimal? TimepointWeeks { get; init; }

    public long OutcomeId { get; init; }

    /// <summary>The source's words behind the numbers.</summary>
    public required string Quote { get; init; }

    public required string Evidence { get; init; }

    public string? SourceNote { get; init; }

    /// <summary>Meta-analysis only: first author and year (or the key), as a forest plot labels the study.</summary>
    /// <example>Chen 2016</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }

    /// <summary>Meta-analysis only: responders / assessed, 0-1.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Proportion { get; init; }

    /// <summary>Meta-analysis only: the study's Clopper-Pearson exact 95 % interval.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Interval? Interval { get; init; }

    /// <summary>Meta-analysis only: the study's weight in the overall pooled estimate, in percent.</summary>
    /// <example>18.4</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Weight { get; init; }

    /// <summary>With by: the study's subgroup (values joined with + when its interventions differ).</summary>
    /// <example>umbilical_cord</example>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Subgroup { get; init; }

    /// <summary>With by: the study's weight in its subgroup's pooled estimate, in percent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? SubgroupWeight { get; init; }
}

/// <summary>A study left out of the pool.</summary>
/// <param name="StudyId">The study.</param>
/// <param name="Key">Its key.</param>
/// <param name="Title">Its title.</param>
/// <param name="Reason">Why it was left out.</param>
public sealed record ExcludedStudy(long StudyId, string Key, string Title, string Reason);

/// <summary>An inverse-variance meta-analysis of the pooled studies' proportions.</summary>
public sealed record MetaAnalysis
{
    /// <summary>random or fixed.</summary>
    /// <example>random</example>
    public required string Model { get; init; }

    /// <summary>freeman_tukey or logit.</summary>
    /// <example>freeman_tukey</example>
    public required string Transform { get; init; }

    /// <summary>dl or reml for model=random; null for fixed.</summary>
    /// <example>dl</example>
    public string? Tau2Method { get; init; }

    /// <summary>The subgroup variable, when by was given.</summary>
    public string? By { get; init; }

    /// <summary>Every pooled study together.</summary>
    public required PooledEstimate Overall { get; init; }

    /// <summary>One pooled estimate per subgroup (by only), in the order of their values.</summary>
    public IReadOnlyList<PooledEstimate>? Subgroups { get; init; }

    /// <summary>Test for subgroup differences (by only, with two subgroups or more).</summary>
    public SubgroupDifferences? SubgroupDifferences { get; init; }

    /// <summary>How the meta-analysis was computed, to cite with it.</summary>
    public required string Method { get; init; }
}

/// <summary>A pooled proportion from an inverse-variance meta-analysis, back-transformed, with its heterogeneity.</summary>
public sealed record PooledEstimate
{
    /// <summary>The subgroup's value (null for the overall estimate).</summary>
    public string? Subgroup { get; init; }

    /// <example>5</example>
    public int Studies { get; init; }

    /// <example>75</example>
    public int Patients { get; init; }

    /// <example>49</example>
    public int Responders { get; init; }

    /// <summary>The pooled proportion, back-transformed, 0-1; null when nothing was pooled.</summary>
    /// <example>0.5844</example>
    public double? Proportion { get; init; }

    /// <summary>95 % confidence interval of the pooled proportion (normal quantile on the transformed scale, back-transformed).</summary>
    public Interval? Interval { get; init; }

    /// <summary>
    /// 95 % prediction interval for the proportion of a new study (Higgins 2009: t with k − 2 degrees of freedom,
    /// back-transformed); random effects with three studies or more only.
    /// </summary>
    public Interval? PredictionInterval { get; init; }

    /// <summary>The pooled value on the transformed scale.</summary>
    public double? Estimate { get; init; }

    /// <summary>Its standard error on the transformed scale.</summary>
    public double? StandardError { get; init; }

    /// <summary>Freeman-Tukey only: the harmonic mean of the sample sizes used to back-transform.</summary>
    public double? HarmonicMeanN { get; init; }

    /// <summary>Heterogeneity between the studies; null with fewer than two studies.</summary>
    public Heterogeneity? Heterogeneity { get; init; }

    /// <summary>Subgroups only: the subgroup's studies' share of the overall weight, in percent.</summary>
    public double? Weight { get; init; }

    /// <summary>What could not be estimated and why, or what was done to make it estimable.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>Between-study heterogeneity.</summary>
/// <param name="Q">Cochran's Q (fixed-effect weights).</param>
/// <param name="Df">Its degrees of freedom, k − 1.</param>
/// <param name="P">p-value of Q (chi-square).</param>
/// <param name="I2">I² in percent: the share of variability beyond chance, (Q − df)/Q (Higgins and Thompson 2002).</param>
/// <param name="Tau2">Between-study variance on the transformed scale (random effects only).</param>
/// <param name="Tau">Its square root.</param>
/// <param name="Words">I² in words (Higgins 2003): little (under 25 %), low (25-49 %), moderate (50-74 %) or high (75 % or more).</param>
/// <param name="Iterations">REML only: Fisher scoring steps until τ² changed by less than 1e-10.</param>
public sealed record Heterogeneity(double Q, int Df, double P, double I2, double? Tau2, double? Tau, string Words, int? Iterations);

/// <summary>Test for subgroup differences: Q between subgroups on (number of subgroups − 1) degrees of freedom.</summary>
/// <param name="Q">Σ W_g (μ_g − μ̄)², W_g = 1/SE_g².</param>
/// <param name="Df">Number of subgroups − 1.</param>
/// <param name="P">p-value (chi-square).</param>
public sealed record SubgroupDifferences(double Q, int Df, double P);
