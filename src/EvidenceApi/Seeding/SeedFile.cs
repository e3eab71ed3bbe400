using System.Text.Json.Serialization;

namespace EvidenceApi.Seeding;

/// <summary>
/// One seed file: a source and the studies it reports (format in seeds/README.md). The source is null only for an unpublished
/// case contributed through the API, as export-seeds writes it.
/// </summary>
public sealed record SeedFile(
    [property: JsonRequired] SeedSource? Source,
    [property: JsonRequired] IReadOnlyList<SeedStudy> Studies);

public sealed record SeedSource(
    [property: JsonRequired] string Title,
    IReadOnlyList<string>? Authors,
    string? Journal,
    int? Year,
    string? Volume,
    string? Issue,
    string? Pages,
    string? Doi,
    string? Pmid,
    string? RegistryId,
    string? Url);

public sealed record SeedStudy(
    [property: JsonRequired] string Key,
    [property: JsonRequired] string Title,
    [property: JsonRequired] string Design,
    string? Status,
    [property: JsonRequired] string Condition,
    string? ConditionSubtype,
    string? Country,
    int? Participants,
    SeedPopulation? Population,
    decimal? FollowUpWeeks,
    string? Summary,
    IReadOnlyList<string>? Includes,
    IReadOnlyList<SeedIntervention>? Interventions,
    IReadOnlyList<SeedOutcome>? Outcomes,
    IReadOnlyList<SeedPatient>? Patients = null);

/// <summary>
/// A patient of a study made from a contributed case report (individual patient data), as export-seeds writes it; the
/// study's outcomes are the sums of its patients' results, each of which names its outcome by position in <c>outcomes</c>.
/// </summary>
public sealed record SeedPatient(
    [property: JsonRequired] int Position,
    string? Label,
    decimal? Age,
    string? Sex,
    string? ConditionSubtype,
    decimal? DiseaseDurationYears,
    string? Country,
    IReadOnlyList<string>? PriorTreatments,
    IReadOnlyList<Studies.PatientScore>? BaselineScores,
    [property: JsonRequired] Studies.PatientRelapse Relapse,
    IReadOnlyList<SeedPatientOutcome>? Outcomes);

/// <summary>One patient's result, counted in the study's outcome at position <c>outcome</c> (0 is the first).</summary>
public sealed record SeedPatientOutcome(
    [property: JsonRequired] int Outcome,
    string? Timepoint,
    decimal? Baseline,
    decimal? Value,
    string? Unit,
    decimal? ScaleMax,
    [property: JsonRequired] int Assessed,
    int? Responders,
    string? Result);

public sealed record SeedPopulation(
    decimal? AgeMin,
    decimal? AgeMax,
    decimal? AgeMean,
    int? Male,
    int? Female,
    string? Description);

public sealed record SeedIntervention(
    [property: JsonRequired] string Key,
    [property: JsonRequired] string Product,
    string? CellSource,
    string? Donor,
    [property: JsonRequired] string Route,
    decimal? DoseValue,
    string? DoseUnit,
    string? DoseText,
    int? Administrations,
    string? Schedule,
    string? Cotreatment,
    string? Description);

public sealed record SeedOutcome(
    string? Intervention,
    [property: JsonRequired] string Measure,
    string? Timepoint,
    decimal? TimepointWeeks,
    decimal? Baseline,
    decimal? Value,
    string? Unit,
    decimal? ScaleMax,
    int? Assessed,
    int? Responders,
    string? Result,
    [property: JsonRequired] string Quote,
    string? Evidence,
    string? SourceNote);
