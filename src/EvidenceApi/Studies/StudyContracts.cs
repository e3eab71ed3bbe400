using EvidenceApi.Interventions;
using EvidenceApi.Outcomes;

namespace EvidenceApi.Studies;

/// <summary>A study as listed by <c>GET /v1/studies</c>: enough to choose which to open.</summary>
public sealed record StudySummary
{
    /// <example>2</example>
    public long Id { get; init; }

    /// <summary>Stable, human-readable identifier.</summary>
    /// <example>srivastava-2024-scalp-secretome</example>
    public required string Key { get; init; }

    /// <example>Stem cell secretome-mediated alleviation of scalp psoriasis: A case report</example>
    public required string Title { get; init; }

    /// <summary>Study design (see <c>GET /v1/vocabularies</c>).</summary>
    /// <example>case_report</example>
    public required string Design { get; init; }

    /// <summary><c>published</c> (results reported) or <c>registered</c> (a registry entry without results).</summary>
    /// <example>published</example>
    public required string Status { get; init; }

    /// <example>psoriasis</example>
    public required string Condition { get; init; }

    /// <example>scalp</example>
    public string? ConditionSubtype { get; init; }

    /// <example>India</example>
    public string? Country { get; init; }

    /// <summary>Number of participants (patients; for a review, patients across its included studies; for a registered study, the planned enrollment).</summary>
    /// <example>1</example>
    public int? Participants { get; init; }

    /// <summary>Longest follow-up reported, in weeks.</summary>
    /// <example>156</example>
    public decimal? FollowUpWeeks { get; init; }

    /// <summary>Publication year of the source.</summary>
    /// <example>2024</example>
    public int? Year { get; init; }

    public string? Journal { get; init; }

    /// <example>10.46439/stemcell.5.019</example>
    public string? Doi { get; init; }

    public string? Pmid { get; init; }

    /// <summary>Products tested in the study's interventions.</summary>
    /// <example>["conditioned_medium"]</example>
    public string[] Products { get; init; } = [];

    /// <example>["unknown"]</example>
    public string[] CellSources { get; init; } = [];

    /// <example>["topical"]</example>
    public string[] Routes { get; init; } = [];

    /// <summary>Outcome measures reported.</summary>
    /// <example>["clinical_response", "relapse_free"]</example>
    public string[] Measures { get; init; } = [];

    public int InterventionCount { get; init; }

    public int OutcomeCount { get; init; }

    /// <summary>For a review: how many of the studies it covered are in the database.</summary>
    public int IncludedStudyCount { get; init; }
}

/// <summary>A short reference to another study (a review's included studies, or the reviews covering a study).</summary>
public sealed record StudyReference
{
    public long Id { get; init; }

    public required string Key { get; init; }

    public required string Title { get; init; }

    public required string Design { get; init; }

    public int? Year { get; init; }

    public int? Participants { get; init; }
}

/// <summary>The publication or registry entry a study comes from.</summary>
public sealed record SourceDetail
{
    /// <summary>The study it was read for, when several studies are read at once (not part of the answer).</summary>
    internal long StudyId { get; init; }

    public long Id { get; init; }

    public required string Title { get; init; }

    public string[] Authors { get; init; } = [];

    public string? Journal { get; init; }

    public int? Year { get; init; }

    public string? Volume { get; init; }

    public string? Issue { get; init; }

    public string? Pages { get; init; }

    /// <example>10.46439/stemcell.5.019</example>
    public string? Doi { get; init; }

    public string? Pmid { get; init; }

    /// <summary>Trial registry identifier, e.g. NCT03745417.</summary>
    public string? RegistryId { get; init; }

    /// <example>https://doi.org/10.46439/stemcell.5.019</example>
    public string? Url { get; init; }
}

/// <summary>A study with everything known about it.</summary>
public sealed record StudyDetail
{
    public long Id { get; init; }

    public required string Key { get; init; }

    public required string Title { get; init; }

    public required string Design { get; init; }

    public required string Status { get; init; }

    public required string Condition { get; init; }

    public string? ConditionSubtype { get; init; }

    public string? Country { get; init; }

    public int? Participants { get; init; }

    public decimal? AgeMin { get; init; }

    public decimal? AgeMax { get; init; }

    public decimal? AgeMean { get; init; }

    /// <summary>Number of male participants.</summary>
    public int? MaleCount { get; init; }

    /// <summary>Number of female participants.</summary>
    public int? FemaleCount { get; init; }

    public string? PopulationDescription { get; init; }

    public decimal? FollowUpWeeks { get; init; }

    public string? Summary { get; init; }

    /// <summary>When the study, its interventions, outcomes, review links or source last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    public SourceDetail? Source { get; init; }

    public IReadOnlyList<InterventionItem> Interventions { get; init; } = [];

    public IReadOnlyList<OutcomeItem> Outcomes { get; init; } = [];

    /// <summary>For a review: the primary studies it covered.</summary>
    public IReadOnlyList<StudyReference> IncludedStudies { get; init; } = [];

    /// <summary>The reviews that covered this study.</summary>
    public IReadOnlyList<StudyReference> IncludedInReviews { get; init; } = [];

    /// <summary>
    /// For a study made from a contributed case report: its patients, each with their own results (individual patient
    /// data). The study's participants and outcomes are derived from them. Empty for studies from seed files.
    /// </summary>
    public IReadOnlyList<PatientItem> Patients { get; init; } = [];
}
