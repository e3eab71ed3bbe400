namespace EvidenceApi.Interventions;

/// <summary>Writing interventions: shared by the seed loader and by publishing a submitted case report.</summary>
public static class InterventionCommands
{
    public const string Insert = """
        INSERT INTO interventions (study_id, key, product, cell_source, donor, route, dose_value, dose_unit, dose_text,
                                   administrations, schedule, cotreatment, description)
        VALUES (@StudyId, @Key, @Product, coalesce(@CellSource, 'unknown'), coalesce(@Donor, 'unknown'), @Route, @DoseValue,
                @DoseUnit, @DoseText, @Administrations, @Schedule, @Cotreatment, @Description)
        RETURNING id
        """;
}
