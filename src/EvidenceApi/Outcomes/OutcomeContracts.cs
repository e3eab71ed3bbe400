using EvidenceApi.Interventions;
using EvidenceApi.Studies;

namespace EvidenceApi.Outcomes;

/// <summary>A measured result, traceable to its source by a quote.</summary>
public sealed record OutcomeItem
{
    public long Id { get; init; }

    public long StudyId { get; init; }

    /// <summary>The intervention this result belongs to, when the source ties it to one.</summary>
    public long? InterventionId { get; init; }

    /// <summary>Measure (see <c>GET /v1/vocabularies</c>).</summary>
    /// <example>pasi_40</example>
    public required string Measure { get; init; }

    /// <summary>Timepoint as the source words it.</summary>
    /// <example>6 months</example>
    public string? Timepoint { get; init; }

    /// <example>26</example>
    public decimal? TimepointWeeks { get; init; }

    /// <summary>Score at baseline, for score measures (PASI, BSA, DLQI, PGA, PSSI).</summary>
    public decimal? BaselineValue { get; init; }

    /// <summary>Score at the timepoint.</summary>
    public decimal? Value { get; init; }

    public string? Unit { get; init; }

    /// <summary>Top of the declared scale, for PGA/IGA.</summary>
    public decimal? ScaleMax { get; init; }

    /// <summary>Participants assessed for this outcome.</summary>
    /// <example>17</example>
    public int? Assessed { get; init; }

    /// <summary>Participants meeting the outcome (for adverse events: participants with an event).</summary>
    /// <example>8</example>
    public int? Responders { get; init; }

    /// <summary>The result in words.</summary>
    public string? Result { get; init; }

    /// <summary>Verbatim quote from the source supporting the values.</summary>
    /// <example>47.1% (8/17) of the psoriasis patients had at least 40% improvement in the PASI score</example>
    public required string Quote { get; init; }

    /// <summary><c>primary</c> (from the study's own publication) or <c>secondary</c> (reported by another source).</summary>
    /// <example>primary</example>
    public required string Evidence { get; init; }

    /// <summary>For secondary evidence: the source that reports it.</summary>
    public string? SourceNote { get; init; }
}

/// <summary>An outcome with its study and intervention, as listed by <c>GET /v1/outcomes</c>.</summary>
public sealed record OutcomeListItem
{
    public required OutcomeItem Outcome { get; init; }

    public required StudyReference Study { get; init; }

    public InterventionItem? Intervention { get; init; }
}
