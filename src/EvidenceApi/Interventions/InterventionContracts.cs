using EvidenceApi.Studies;

namespace EvidenceApi.Interventions;

/// <summary>What was given: product, cell source, donor, route, dose and schedule.</summary>
public sealed record InterventionItem
{
    /// <example>7</example>
    public long Id { get; init; }

    public long StudyId { get; init; }

    /// <summary>Identifier of the intervention within its study.</summary>
    /// <example>uc-msc-infusion</example>
    public required string Key { get; init; }

    /// <example>msc_cells</example>
    public required string Product { get; init; }

    /// <example>umbilical_cord</example>
    public required string CellSource { get; init; }

    /// <summary><c>autologous</c>, <c>allogeneic</c> or <c>unknown</c>.</summary>
    /// <example>allogeneic</example>
    public required string Donor { get; init; }

    /// <example>intravenous</example>
    public required string Route { get; init; }

    /// <example>2000000</example>
    public decimal? DoseValue { get; init; }

    /// <example>cells/kg</example>
    public string? DoseUnit { get; init; }

    /// <summary>The dose as the source words it.</summary>
    public string? DoseText { get; init; }

    /// <summary>Number of administrations.</summary>
    public int? Administrations { get; init; }

    public string? Schedule { get; init; }

    /// <summary>Other treatment given alongside.</summary>
    public string? Cotreatment { get; init; }

    public string? Description { get; init; }
}

/// <summary>An intervention with the study it belongs to, as listed by <c>GET /v1/interventions</c>.</summary>
public sealed record InterventionListItem
{
    public required InterventionItem Intervention { get; init; }

    public required StudyReference Study { get; init; }
}
