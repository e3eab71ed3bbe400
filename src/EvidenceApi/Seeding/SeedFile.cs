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
    IReadOnlyList<SeedOutcome>? Outcomes);

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
