using Dapper;

namespace EvidenceApi.Studies;

/// <summary>One patient of a published case report (individual patient data), as the report described them.</summary>
public sealed record PatientItem
{
    public long Id { get; init; }

    /// <summary>The patient's position in the report (0 is the first): <c>patients[1]</c> of the submission is position 1.</summary>
    /// <example>0</example>
    public int Position { get; init; }

    /// <summary>How the source names the patient.</summary>
    /// <example>Patient 1</example>
    public string? Label { get; init; }

    /// <example>35</example>
    public decimal? Age { get; init; }

    /// <summary><c>female</c>, <c>male</c>, <c>other</c> or <c>unknown</c>.</summary>
    /// <example>male</example>
    public string? Sex { get; init; }

    /// <example>plaque</example>
    public string? ConditionSubtype { get; init; }

    /// <example>12</example>
    public decimal? DiseaseDurationYears { get; init; }

    public string? Country { get; init; }

    /// <summary>Severity scores before treatment.</summary>
    public IReadOnlyList<PatientScore> BaselineScores { get; init; } = [];

    /// <summary>Treatments tried before.</summary>
    public IReadOnlyList<string> PriorTreatments { get; init; } = [];

    /// <summary>Whether the disease came back during follow-up.</summary>
    public required PatientRelapse Relapse { get; init; }

    /// <summary>The patient's own results, each counted in one of the study's outcomes (<c>outcomeId</c>).</summary>
    public IReadOnlyList<PatientOutcome> Outcomes { get; init; } = [];
}

/// <summary>A severity score before treatment.</summary>
public sealed record PatientScore
{
    /// <summary>The patient the score belongs to, for reading; not part of the answer.</summary>
    internal long PatientId { get; init; }

    /// <example>pasi</example>
    public required string Measure { get; init; }

    /// <example>24.5</example>
    public decimal Value { get; init; }

    /// <summary>Top of the declared scale, for PGA/IGA.</summary>
    public decimal? ScaleMax { get; init; }
}

/// <summary>A patient's relapse during follow-up.</summary>
public sealed record PatientRelapse
{
    /// <example>false</example>
    public bool Occurred { get; init; }

    /// <summary>Weeks after the start of treatment when the relapse was seen.</summary>
    public decimal? AtWeeks { get; init; }

    public string? Description { get; init; }
}

/// <summary>One patient's result: assessed is 0 or 1, and the study's outcome <c>outcomeId</c> is the sum over its patients.</summary>
public sealed record PatientOutcome
{
    /// <summary>The patient the result belongs to, for reading; not part of the answer.</summary>
    internal long PatientId { get; init; }

    /// <summary>The study's outcome this result is counted in.</summary>
    public long OutcomeId { get; init; }

    public long? InterventionId { get; init; }

    /// <example>clinical_response</example>
    public required string Measure { get; init; }

    /// <example>12 months</example>
    public string? Timepoint { get; init; }

    /// <example>52</example>
    public decimal? TimepointWeeks { get; init; }

    public decimal? BaselineValue { get; init; }

    public decimal? Value { get; init; }

    public string? Unit { get; init; }

    public decimal? ScaleMax { get; init; }

    /// <summary>1 when the patient was assessed, else 0.</summary>
    /// <example>1</example>
    public int Assessed { get; init; }

    /// <summary>1 when the patient met the outcome (for adverse events: had an event), 0 when not, null when unknown.</summary>
    /// <example>1</example>
    public int? Responders { get; init; }

    /// <example>Skin returned to normal within 12 months</example>
    public string? Result { get; init; }
}

/// <summary>Reads the patients of studies made from case reports; studies from seed files have none.</summary>
internal static class StudyPatients
{
    // Columns are aliased to the records' names, so that seed export (which runs without Dapper's underscore setting) reads them too.
    public const string ByStudies = """
        SELECT p.id, p.study_id AS studyid, p.position, p.label, p.age, p.sex, p.condition_subtype AS conditionsubtype,
               p.disease_duration_years AS diseasedurationyears, p.country, p.prior_treatments AS priortreatments,
               p.relapse_occurred AS relapseoccurred, p.relapse_at_weeks AS relapseatweeks, p.relapse_description AS relapsedescription
        FROM study_patients p WHERE p.study_id = ANY(@Ids) ORDER BY p.study_id, p.position;

        SELECT b.patient_id AS patientid, b.measure, b.value, b.scale_max AS scalemax
        FROM patient_baseline_scores b JOIN study_patients p ON p.id = b.patient_id
        WHERE p.study_id = ANY(@Ids) ORDER BY b.patient_id, b.position;

        SELECT po.patient_id AS patientid, po.outcome_id AS outcomeid, o.intervention_id AS interventionid, po.measure, po.timepoint,
               o.timepoint_weeks AS timepointweeks, po.baseline_value AS baselinevalue, po.value, po.unit, po.scale_max AS scalemax,
               po.assessed, po.responders, po.result
        FROM patient_outcomes po JOIN study_patients p ON p.id = po.patient_id JOIN outcomes o ON o.id = po.outcome_id
        WHERE p.study_id = ANY(@Ids) ORDER BY po.patient_id, o.timepoint_weeks NULLS LAST, po.outcome_id;
        """;

    /// <summary>Reads the three result sets of <see cref="ByStudies"/>: the patients of each study, by study id.</summary>
    public static async Task<ILookup<long, PatientItem>> ReadAsync(SqlMapper.GridReader results)
    {
        var patients = (await results.ReadAsync<PatientRow>()).AsList();
        var scores = (await results.ReadAsync<PatientScore>()).ToLookup(s => s.PatientId);
        var outcomes = (await results.ReadAsync<PatientOutcome>()).ToLookup(o => o.PatientId);
        return patients.ToLookup(p => p.StudyId, p => new PatientItem
        {
            Id = p.Id,
            Position = p.Position,
            Label = p.Label,
            Age = p.Age,
            Sex = p.Sex,
            ConditionSubtype = p.ConditionSubtype,
            DiseaseDurationYears = p.DiseaseDurationYears,
            Country = p.Country,
            BaselineScores = scores[p.Id].ToList(),
            PriorTreatments = p.PriorTreatments,
            Relapse = new PatientRelapse { Occurred = p.RelapseOccurred, AtWeeks = p.RelapseAtWeeks, Description = p.RelapseDescription },
            Outcomes = outcomes[p.Id].ToList(),
        });
    }

    private sealed record PatientRow
    {
        public long Id { get; init; }

        public long StudyId { get; init; }

        public int Position { get; init; }

        public string? Label { get; init; }

        public decimal? Age { get; init; }

        public string? Sex { get; init; }

        public string? ConditionSubtype { get; init; }

        public decimal? DiseaseDurationYears { get; init; }

        public string? Country { get; init; }

        public string[] PriorTreatments { get; init; } = [];

        public bool RelapseOccurred { get; init; }

        public decimal? RelapseAtWeeks { get; init; }

        public string? RelapseDescription { get; init; }
    }
}
