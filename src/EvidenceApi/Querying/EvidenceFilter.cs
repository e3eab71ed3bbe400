using EvidenceApi.Http;
using EvidenceApi.Vocabularies;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Querying;

/// <summary>
/// The filters every evidence query shares (studies, interventions, outcomes, synthesis): one definition, so that a
/// filter is bound, validated and documented the same way everywhere. Filters combine with AND; a comma-separated list
/// means any of its values. Product, cell source, route and donor describe one intervention: given together, all must
/// hold for the same intervention.
/// </summary>
public sealed record EvidenceFilter
{
    /// <summary>Condition studied (case-insensitive), e.g. psoriasis.</summary>
    /// <example>psoriasis</example>
    [FromQuery(Name = "condition")]
    public string? Condition { get; init; }

    /// <summary>Condition subtype, by code or synonym (vulgaris is plaque), e.g. scalp or psoriatic_arthritis.</summary>
    /// <example>scalp</example>
    [FromQuery(Name = "subtype")]
    public string? Subtype { get; init; }

    /// <summary>Study design(s), comma-separated.</summary>
    /// <example>case_report,case_series</example>
    [FromQuery(Name = "design")]
    public string? Design { get; init; }

    /// <summary>Product(s) of the intervention, comma-separated.</summary>
    /// <example>msc_cells</example>
    [FromQuery(Name = "product")]
    public string? Product { get; init; }

    /// <summary>Cell source(s) of the intervention, comma-separated.</summary>
    /// <example>umbilical_cord</example>
    [FromQuery(Name = "cellSource")]
    public string? CellSource { get; init; }

    /// <summary>Route(s) of administration of the intervention, comma-separated.</summary>
    /// <example>intravenous</example>
    [FromQuery(Name = "route")]
    public string? Route { get; init; }

    /// <summary>Donor of the intervention's cells, comma-separated.</summary>
    /// <example>allogeneic</example>
    [FromQuery(Name = "donor")]
    public string? Donor { get; init; }

    /// <summary>Country where the study was done (case-insensitive).</summary>
    /// <example>China</example>
    [FromQuery(Name = "country")]
    public string? Country { get; init; }

    /// <summary>Earliest publication year of the study's source.</summary>
    /// <example>2016</example>
    [FromQuery(Name = "yearFrom")]
    public int? YearFrom { get; init; }

    /// <summary>Latest publication year of the study's source.</summary>
    /// <example>2024</example>
    [FromQuery(Name = "yearTo")]
    public int? YearTo { get; init; }

    /// <summary>The conditions on the study (alias <c>s</c>): condition, subtype, design, country and years.</summary>
    public SqlFilter ApplyToStudy(SqlFilter filter) => filter
        .When(Condition?.Trim().ToLowerInvariant(), "Condition", "s.condition = @Condition")
        .When(Vocabulary.CanonicalSubtype(null, Subtype), "Subtype", "s.condition_subtype = @Subtype")
        .WhenIn(Paging.SplitList(Design), "Designs", "s.design")
        .When(Country?.Trim(), "Country", "lower(s.country) = lower(@Country)")
        .When(YearFrom, "YearFrom", "s.year >= @YearFrom")
        .When(YearTo, "YearTo", "s.year <= @YearTo");

    /// <summary>For a list of studies: the study conditions, and at least one intervention of the study matching the intervention criteria.</summary>
    public SqlFilter ForStudies(SqlFilter filter) =>
        ApplyToStudy(filter).WhenStudyIntervention(Product, CellSource, Route, Donor);

    /// <summary>
    /// For an analysis over every study in scope (synthesis): the same studies as <see cref="ForStudies"/>, with the
    /// intervention criteria as one EXISTS over the interventions instead of the study's summary columns, so that the
    /// scope can be found from indexes without reading each (wide) study row.
    /// </summary>
    public SqlFilter ForStudiesByInterventions(SqlFilter filter) => ApplyToStudy(filter)
        .WhenIntervention(Product, CellSource, Route, Donor,
            conditions => $"EXISTS (SELECT 1 FROM interventions i WHERE i.study_id = s.id AND {conditions})");

    /// <summary>For a list of interventions (alias <c>i</c>, joined to its study <c>s</c>): the intervention itself must match.</summary>
    public SqlFilter ForInterventions(SqlFilter filter) => ApplyToStudy(filter)
        .WhenIn(Paging.SplitList(Product), "Products", "i.product")
        .WhenIn(Paging.SplitList(CellSource), "CellSources", "i.cell_source")
        .WhenIn(Paging.SplitList(Route), "Routes", "i.route")
        .WhenIn(Paging.SplitList(Donor), "Donors", "i.donor");

    /// <summary>
    /// For a list of outcomes (alias <c>o</c>, joined to its study <c>s</c>): the outcome's own intervention must match,
    /// or, for an outcome not tied to one, any intervention of its study.
    /// </summary>
    public SqlFilter ForOutcomes(SqlFilter filter) => ForOutcomeIntervention(ApplyToStudy(filter));

    /// <summary>Whether any of product, cell source, route or donor is asked for.</summary>
    public bool HasInterventionCriteria =>
        Paging.SplitList(Product) is { Length: > 0 } || Paging.SplitList(CellSource) is { Length: > 0 }
        || Paging.SplitList(Route) is { Length: > 0 } || Paging.SplitList(Donor) is { Length: > 0 };

    /// <summary>
    /// The intervention criteria alone, for an outcome (alias <c>o</c>): its own intervention must match them, or, for an
    /// outcome not tied to one, any intervention of its study. Synthesis pools only such outcomes.
    /// </summary>
    public SqlFilter ForOutcomeIntervention(SqlFilter filter) => filter
        .WhenIntervention(Product, CellSource, Route, Donor,
            conditions => "EXISTS (SELECT 1 FROM interventions i WHERE i.study_id = o.study_id " +
                          $"AND (o.intervention_id IS NULL OR i.id = o.intervention_id) AND {conditions})");
}

public sealed class EvidenceFilterValidator : AbstractValidator<EvidenceFilter>
{
    public EvidenceFilterValidator()
    {
        RuleFor(f => f.Condition).MaximumLength(200);
        RuleFor(f => f.Subtype).MaximumLength(200).ConditionSubtype(null);
        RuleFor(f => f.Design).InVocabulary(Vocabulary.Designs);
        RuleFor(f => f.Product).InVocabulary(Vocabulary.Products);
        RuleFor(f => f.CellSource).InVocabulary(Vocabulary.CellSources);
        RuleFor(f => f.Route).InVocabulary(Vocabulary.Routes);
        RuleFor(f => f.Donor).InVocabulary(Vocabulary.Donors);
        RuleFor(f => f.Country).MaximumLength(200);
        RuleFor(f => f.YearFrom).InclusiveBetween(1800, 2200);
        RuleFor(f => f.YearTo).InclusiveBetween(1800, 2200)
            .GreaterThanOrEqualTo(f => f.YearFrom).When(f => f.YearFrom is not null)
            .WithMessage("yearTo must not be before yearFrom.");
    }
}
