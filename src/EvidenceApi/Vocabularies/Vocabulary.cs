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
