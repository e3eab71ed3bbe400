namespace EvidenceApi.Outcomes;

/// <summary>Writing outcomes: shared by the seed loader and by publishing a submitted case report.</summary>
public static class OutcomeCommands
{
    public const string Insert = """
        INSERT INTO outcomes (study_id, intervention_id, measure, timepoint, timepoint_weeks, baseline_value, value, unit,
                              scale_max, assessed, responders, result, quote, evidence, source_note)
        VALUES (@StudyId, @InterventionId, @Measure, @Timepoint, @TimepointWeeks, @BaselineValue, @Value, @Unit,
                @ScaleMax, @Assessed, @Responders, @Result, @Quote, coalesce(@Evidence, 'primary'), @SourceNote)
        """;

    /// <summary><see cref="Insert"/>, answering the new outcome's id (its patients' results refer to it).</summary>
    public const string InsertReturningId = Insert + "\nRETURNING id";
}
