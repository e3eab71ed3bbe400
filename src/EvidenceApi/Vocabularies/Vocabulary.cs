namespace EvidenceApi.Vocabularies;

/// <summary>
/// The controlled vocabularies, mirrored from the lookup tables created in <c>db/</c>.
/// A test checks that both agree, so a new value is added in a migration and here together.
/// </summary>
public static class Vocabulary
{
    public static readonly IReadOnlyList<string> Designs =
    [
        "systematic_review", "meta_analysis", "narrative_review", "rct", "non_randomised_trial",
        "single_arm_trial", "case_series", "case_report", "preclinical",
    ];

    public static readonly IReadOnlyList<string> Products =
        ["msc_cells", "stromal_vascular_fraction", "conditioned_medium", "exosomes", "other"];

    public static readonly IReadOnlyList<string> CellSources =
    [
        "umbilical_cord", "adipose", "bone_marrow", "gingiva", "placenta", "dental_pulp", "amniotic",
        "embryonic_stem_cell_derived", "other", "unknown",
    ];

    public static readonly IReadOnlyList<string> Donors = ["autologous", "allogeneic", "unknown"];

    public static readonly IReadOnlyList<string> Routes =
        ["intravenous", "subcutaneous", "intradermal", "intralesional", "topical", "intramuscular", "intra_articular", "other", "unknown"];

    public static readonly IReadOnlyList<string> Measures =
    [
        "pasi", "pasi_40", "pasi_50", "pasi_75", "pasi_90", "pasi_100", "bsa", "pga", "iga", "dlqi", "pssi",
        "clinical_response", "relapse_free", "adverse_events", "other",
    ];

    /// <summary>
    /// Subtypes of the conditions that have them, each with the other names it goes by. A subtype belongs to one
    /// condition ("plaque" is a form of psoriasis, not of lupus), so a condition gets subtypes, by a migration, when its
    /// evidence needs them; until then its studies have none.
    /// </summary>
    public static readonly IReadOnlyList<SubtypeTerm> ConditionSubtypes =
    [
        new("psoriasis", "plaque", "Plaque psoriasis (psoriasis vulgaris)", ["vulgaris", "psoriasis vulgaris", "plaque psoriasis", "chronic plaque", "chronic plaque psoriasis"]),
        new("psoriasis", "scalp", "Scalp psoriasis", ["scalp psoriasis"]),
        new("psoriasis", "guttate", "Guttate psoriasis", ["guttate psoriasis"]),
        new("psoriasis", "pustular", "Pustular psoriasis", ["pustular psoriasis", "generalized pustular psoriasis", "generalised pustular psoriasis"]),
        new("psoriasis", "erythrodermic", "Erythrodermic psoriasis", ["erythrodermic psoriasis"]),
        new("psoriasis", "inverse", "Inverse (flexural) psoriasis", ["inverse psoriasis", "flexural psoriasis", "intertriginous psoriasis"]),
        new("psoriasis", "nail", "Nail psoriasis", ["nail psoriasis"]),
        new("psoriasis", "psoriatic_arthritis", "Psoriatic arthritis", ["psoriatic arthritis", "psa"]),
        new("psoriasis", "other", "Other subtype", []),
    ];

    /// <summary>The subtype codes of every condition, each once: what the <c>subtype</c> filter accepts besides their synonyms.</summary>
    public static readonly IReadOnlyList<string> SubtypeCodes = ConditionSubtypes.Select(s => s.Code).Distinct().ToList();

    private static readonly Dictionary<string, SubtypeTerm[]> SubtypesByName = ConditionSubtypes
        .SelectMany(term => term.Synonyms.Append(term.Code).Select(name => (Name: SubtypeName(name), Term: term)))
        .GroupBy(entry => entry.Name, StringComparer.Ordinal)
        .ToDictionary(group => group.Key, group => group.Select(entry => entry.Term).Distinct().ToArray(), StringComparer.Ordinal);

    /// <summary>The conditions that have subtypes.</summary>
    public static readonly IReadOnlySet<string> ConditionsWithSubtypes = ConditionSubtypes.Select(s => s.Condition).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The code of a subtype given by its code or a synonym, in any case and with spaces, dashes or underscores
    /// (<c>Psoriasis Vulgaris</c> is <c>plaque</c>); null when it is not a subtype of <paramref name="condition"/>
    /// (or, without a condition, of exactly one code of any condition).
    /// </summary>
    public static string? CanonicalSubtype(string? condition, string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || !SubtypesByName.TryGetValue(SubtypeName(value), out var terms))
        {
            return null;
        }

        var wanted = condition?.Trim().ToLowerInvariant();
        var codes = terms.Where(t => wanted is null || t.Condition == wanted).Select(t => t.Code).Distinct().ToList();
        return codes.Count == 1 ? codes[0] : null;
    }

    /// <summary>The subtype codes of <paramref name="condition"/> (none for a condition without subtypes).</summary>
    public static IReadOnlyList<string> SubtypesOf(string? condition)
    {
        var wanted = condition?.Trim().ToLowerInvariant();
        return ConditionSubtypes.Where(t => t.Condition == wanted).Select(t => t.Code).ToList();
    }

    /// <summary>A subtype name as compared: lower case, words separated by one space.</summary>
    private static string SubtypeName(string name) =>
        string.Join(' ', name.ToLowerInvariant().Split([' ', '_', '-', '\t'], StringSplitOptions.RemoveEmptyEntries));

    public static readonly IReadOnlyList<string> StudyStatuses = ["published", "registered"];

    public static readonly IReadOnlyList<string> EvidenceLevels = ["primary", "secondary"];

    /// <summary>The valid range of a score on an instrument with a fixed scale; null for other measures.</summary>
    public static (decimal Min, decimal Max)? ScoreRange(string measure) => measure switch
    {
        "pasi" or "pssi" => (0m, 72m),
        "bsa" => (0m, 100m),
        "dlqi" => (0m, 30m),
        _ => null,
    };

    /// <summary>Global assessments are ordinal scales whose top is declared with each value.</summary>
    public static bool HasDeclaredScale(string measure) => measure is "pga" or "iga";

    public static string Describe(IEnumerable<string> allowed) => string.Join(", ", allowed);
}

/// <summary>A subtype of a condition.</summary>
/// <param name="Condition">The condition it belongs to (lower case).</param>
/// <param name="Code">The code stored and answered.</param>
/// <param name="Label">Its name for people.</param>
/// <param name="Synonyms">Other names accepted on input and stored as <paramref name="Code"/>.</param>
public sealed record SubtypeTerm(string Condition, string Code, string Label, IReadOnlyList<string> Synonyms);
