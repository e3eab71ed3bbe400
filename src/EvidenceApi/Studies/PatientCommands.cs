namespace EvidenceApi.Studies;

/// <summary>Writing a study's patients: shared by publishing a submitted case report and by the seed loader.</summary>
public static class PatientCommands
{
    public const string Insert = """
        INSERT INTO study_patients (study_id, position, label, age, sex, condition, condition_subtype, disease_duration_years, country,
                                    prior_treatments, relapse_occurred, relapse_at_weeks, relapse_description)
        VALUES (@StudyId, @Position, @Label, @Age, @Sex, @Condition, @ConditionSubtype, @DiseaseDurationYears, @Country,
                @PriorTreatments, @RelapseOccurred, @RelapseAtWeeks, @RelapseDescription)
        RETURNING id
        """;

    public const string InsertBaselineScore = """
        INSERT INTO patient_baseline_scores (patient_id, position, measure, value, scale_max)
        VALUES (@PatientId, @Position, @Measure, @Value, @ScaleMax)
        """;

    public const string InsertOutcome = """
        INSERT INTO patient_outcomes (patient_id, outcome_id, measure, timepoint, baseline_value, value, unit, scale_max, assessed, responders, result)
        VALUES (@PatientId, @OutcomeId, @Measure, @Timepoint, @BaselineValue, @Value, @Unit, @ScaleMax, @Assessed, @Responders, @Result)
        """;
}
