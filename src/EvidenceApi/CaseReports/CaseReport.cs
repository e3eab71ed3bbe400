using System.Text.Json.Serialization;

namespace EvidenceApi.CaseReports;

/// <summary>
/// A case report submitted by a contributor, following the CARE checklist where it applies:
/// the source, the patient, what was given, what was measured, follow-up, relapse, adverse events and consent.
/// </summary>
public sealed record CaseReport
{
    /// <summary>Where the case is published, if it is. Omit for an unpublished case (then <c>title</c> is required).</summary>
    public CaseReportSource? Source { get; init; }

    /// <summary>A title for the case. Required when there is no source title.</summary>
    /// <example>Topical adipose MSC conditioned medium for scalp psoriasis</example>
    public string? Title { get; init; }

    /// <summary>Short narrative of the case: presentation, treatment, result.</summary>
    /// <example>A 38-year-old man with scalp psoriasis for 2 years received topical MSC conditioned medium once daily; PSSI fell from 28 to 0 within a month.</example>
    public string? Summary { get; init; }

    /// <summary>
    /// The one patient of a single-patient report, with the results in <c>outcomes</c> and the relapse in <c>relapse</c>.
    /// Omit it when the report describes its patients in <c>patients</c>.
    /// </summary>
    public CaseReportPatient? Patient { get; init; }

    /// <summary>
    /// The patients of the report, 1 to 50, each with their own outcomes and relapse (individual patient data). Use
    /// either <c>patients</c> or <c>patient</c> with <c>outcomes</c> and <c>relapse</c>, not both. The study's
    /// participants and its outcomes (responders of assessed, per measure and timepoint) are derived from them.
    /// </summary>
    // Left out when absent, so that a single-patient report keeps the canonical form (and idempotency hash) it always had.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<CaseReportPatientData>? Patients { get; init; }

    /// <summary>One or more interventions. Outcomes refer to them by position (0 is the first).</summary>
    public IReadOnlyList<CaseReportIntervention>? Interventions { get; init; }

    /// <summary>Measured results of the single patient. A report with <c>patients</c> gives each patient's results in <c>patients[i].outcomes</c>.</summary>
    public IReadOnlyList<CaseReportOutcome>? Outcomes { get; init; }

    /// <summary>Total follow-up after the start of treatment, in weeks; at least the last outcome timepoint.</summary>
    /// <example>26</example>
    public decimal? FollowUpWeeks { get; init; }

    /// <summary>Whether the disease came back during follow-up (single patient; with <c>patients</c>, each patient's <c>relapse</c>).</summary>
    public CaseReportRelapse? Relapse { get; init; }

    /// <summary>Adverse events, or an explicit statement that none were reported.</summary>
    public CaseReportAdverseEvents? AdverseEvents { get; init; }

    /// <summary>Must be true: the patient gave informed consent for publication of the case.</summary>
    /// <example>true</example>
    public bool? InformedConsent { get; init; }

    /// <summary>Who submits the report, so that curators can ask questions.</summary>
    public CaseReportContributor? Contributor { get; init; }
}

/// <summary>The publication of the case, when there is one.</summary>
public sealed record CaseReportSource
{
    /// <summary>DOI without resolver prefix.</summary>
    /// <example>10.5555/evidence.example.2025.001</example>
    public string? Doi { get; init; }

    /// <summary>PubMed id (digits only).</summary>
    public string? Pmid { get; init; }

    /// <example>https://doi.org/10.5555/evidence.example.2025.001</example>
    public string? Url { get; init; }

    /// <example>Example case: topical adipose MSC conditioned medium for scalp psoriasis</example>
    public string? Title { get; init; }

    /// <example>["Doe J", "Roe R"]</example>
    public IReadOnlyList<string>? Authors { get; init; }

    /// <example>Example Journal of Dermatology Case Reports</example>
    public string? Journal { get; init; }

    /// <example>2025</example>
    public int? Year { get; init; }

    /// <summary>Publication date; not in the future.</summary>
    /// <example>2025-03-14</example>
    public DateOnly? PublishedOn { get; init; }
}

/// <summary>The patient: who they were, their disease before treatment and what they had tried.</summary>
public record CaseReportPatient
{
    /// <summary>Age in years at treatment, 0-120.</summary>
    /// <example>38</example>
    public decimal? Age { get; init; }

    /// <summary>The patient's sex.</summary>
    /// <example>male</example>
    public string? Sex { get; init; }

    /// <example>psoriasis</example>
    public string? Condition { get; init; }

    /// <summary>A subtype of the condition, by its code or a synonym (vulgaris is stored as plaque); GET /v1/vocabularies lists them.</summary>
    /// <example>scalp</example>
    public string? ConditionSubtype { get; init; }

    /// <summary>Years since diagnosis.</summary>
    /// <example>2</example>
    public decimal? DiseaseDurationYears { get; init; }

    /// <example>India</example>
    public string? Country { get; init; }

    /// <summary>Severity scores before treatment.</summary>
    public IReadOnlyList<CaseReportScore>? BaselineScores { get; init; }

    /// <summary>Treatments tried before.</summary>
    /// <example>["topical corticosteroids", "methotrexate"]</example>
    public IReadOnlyList<string>? PriorTreatments { get; init; }
}

/// <summary>One patient of a report with several: who they were, their baseline and their own results.</summary>
public sealed record CaseReportPatientData : CaseReportPatient
{
    /// <summary>How the source names the patient.</summary>
    /// <example>Patient 1</example>
    public string? Label { get; init; }

    /// <summary>
    /// This patient's measured results (assessed 0 or 1, responders at most assessed). May be empty for a patient of
    /// whom the source reports only the relapse; the report needs at least one outcome over all its patients.
    /// </summary>
    public IReadOnlyList<CaseReportOutcome>? Outcomes { get; init; }

    /// <summary>Whether this patient's disease came back during follow-up.</summary>
    public CaseReportRelapse? Relapse { get; init; }
}

public sealed record CaseReportScore
{
    /// <summary>A score measure.</summary>
    /// <example>pssi</example>
    public string? Measure { get; init; }

    /// <example>28</example>
    public decimal? Value { get; init; }

    /// <summary>Top of the declared scale; required for PGA and IGA (e.g. 4 or 5).</summary>
    public decimal? ScaleMax { get; init; }
}

public sealed record CaseReportIntervention
{
    /// <summary>What was given.</summary>
    /// <example>conditioned_medium</example>
    public string? Product { get; init; }

    /// <summary>Where the cells came from.</summary>
    /// <example>adipose</example>
    public string? CellSource { get; init; }

    /// <summary>Whose cells they were.</summary>
    /// <example>allogeneic</example>
    public string? Donor { get; init; }

    /// <summary>How it was given.</summary>
    /// <example>topical</example>
    public string? Route { get; init; }

    /// <summary>Dose per administration; needs doseUnit.</summary>
    public decimal? DoseValue { get; init; }

    /// <example>cells/kg</example>
    public string? DoseUnit { get; init; }

    /// <summary>The dose in words.</summary>
    /// <example>Conditioned medium applied to the affected scalp</example>
    public string? DoseText { get; init; }

    /// <summary>Number of administrations.</summary>
    /// <example>30</example>
    public int? Administrations { get; init; }

    /// <example>once daily for one month</example>
    public string? Schedule { get; init; }

    /// <summary>Other treatment given alongside.</summary>
    public string? Cotreatment { get; init; }

    /// <summary>First administration; not in the future.</summary>
    /// <example>2024-09-02</example>
    public DateOnly? StartedOn { get; init; }
}

public sealed record CaseReportOutcome
{
    /// <summary>Position of the intervention in <c>interventions</c> this result belongs to (default 0).</summary>
    /// <example>0</example>
    public int? Intervention { get; init; }

    /// <summary>What was measured (labels and score ranges: GET /v1/vocabularies).</summary>
    /// <example>pssi</example>
    public string? Measure { get; init; }

    /// <summary>Weeks after the start of treatment, 0 or more.</summary>
    /// <example>4</example>
    public decimal? TimepointWeeks { get; init; }

    /// <summary>The timepoint in words.</summary>
    /// <example>1 month</example>
    public string? Timepoint { get; init; }

    /// <example>28</example>
    public decimal? BaselineValue { get; init; }

    /// <example>0</example>
    public decimal? Value { get; init; }

    /// <example>points</example>
    public string? Unit { get; init; }

    /// <summary>Top of the declared scale; required for PGA and IGA.</summary>
    public decimal? ScaleMax { get; init; }

    /// <summary>Patients assessed: 0 or 1, the one patient the outcome belongs to (default 1).</summary>
    /// <example>1</example>
    public int? Assessed { get; init; }

    /// <summary>Patients meeting the outcome (0 or 1); at most assessed.</summary>
    /// <example>1</example>
    public int? Responders { get; init; }

    /// <summary>The result in words.</summary>
    /// <example>Complete regression of scalp plaques (PSSI 0)</example>
    public string? Result { get; init; }
}

public sealed record CaseReportRelapse
{
    /// <example>false</example>
    public bool? Occurred { get; init; }

    /// <summary>Weeks after the start of treatment when the relapse was seen.</summary>
    public decimal? AtWeeks { get; init; }

    public string? Description { get; init; }
}

public sealed record CaseReportAdverseEvents
{
    /// <summary>True when the report states that no adverse events occurred; then <c>events</c> must be empty.</summary>
    /// <example>true</example>
    public bool? NoneReported { get; init; }

    public IReadOnlyList<CaseReportAdverseEvent>? Events { get; init; }
}

public sealed record CaseReportAdverseEvent
{
    /// <example>Transient itching at the application site</example>
    public string? Description { get; init; }

    /// <summary>How severe the event was.</summary>
    /// <example>mild</example>
    public string? Severity { get; init; }

    /// <summary>In a report with <c>patients</c>: the position of the patient who had the event (0 is the first); required there, absent otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Patient { get; init; }
}

public sealed record CaseReportContributor
{
    /// <example>Dr. Jane Doe</example>
    public string? Name { get; init; }

    /// <example>jane.doe@example.org</example>
    public string? Email { get; init; }

    /// <example>Department of Dermatology, Example University Hospital</example>
    public string? Affiliation { get; init; }

    /// <summary>ORCID iD, e.g. 0000-0002-1825-0097.</summary>
    /// <example>0000-0002-1825-0097</example>
    public string? Orcid { get; init; }
}
