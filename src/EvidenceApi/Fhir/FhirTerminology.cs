using EvidenceApi.Vocabularies;
using Hl7.Fhir.Model;

namespace EvidenceApi.Fhir;

/// <summary>
/// The canonical URLs and identifier systems the facade uses, and our vocabularies as FHIR CodeSystems. The canonical
/// URLs are names, stable across deployments and hosts; every one of them resolves through this facade
/// (<c>GET /fhir/CodeSystem?url=...</c>, <c>GET /fhir/EvidenceVariable?url=...</c>).
/// </summary>
public static class FhirTerminology
{
    public const string CanonicalBase = "https://evidence-api.org/fhir";

    public const string Snomed = "http://snomed.info/sct";
    public const string Ucum = "http://unitsofmeasure.org";
    public const string DoiSystem = "https://doi.org";
    public const string PubMedSystem = "https://pubmed.ncbi.nlm.nih.gov";
    public const string ClinicalTrialsGovSystem = "https://clinicaltrials.gov";
    public const string StudyKeySystem = CanonicalBase + "/identifier/study-key";
    public const string RegistrySystem = CanonicalBase + "/identifier/registry";

    public const string StudyDesign = "study-design";
    public const string Product = "product";
    public const string CellSource = "cell-source";
    public const string Donor = "donor";
    public const string Route = "route";
    public const string Measure = "measure";
    public const string PopulationCharacteristic = "population-characteristic";
    public const string ObservationComponent = "observation-component";

    /// <summary>
    /// SNOMED CT codes of conditions, only those checked against published SNOMED CT concept tables: 9014002
    /// |Psoriasis (disorder)| (OHDSI's SNOMED vocabulary, concept code 9014002, "Psoriasis", standard, valid). Every other
    /// condition carries its name as text only.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (string Code, string Display)> SnomedConditions =
        new Dictionary<string, (string, string)>(StringComparer.Ordinal) { ["psoriasis"] = ("9014002", "Psoriasis") };

    public static string CodeSystemUrl(string id) => $"{CanonicalBase}/CodeSystem/{id}";

    public static string EvidenceVariableUrl(string id) => $"{CanonicalBase}/EvidenceVariable/{id}";

    /// <summary>FHIR ids allow letters, digits, '-' and '.': measure codes use '_', which becomes '-'.</summary>
    public static string MeasureId(string measure) => measure.Replace('_', '-');

    public static string? MeasureFromId(string id) => Vocabulary.Measures.FirstOrDefault(m => MeasureId(m) == id);

    public static Coding Code(string codeSystem, string code, string? display) => new(CodeSystemUrl(codeSystem), code, display);

    public static CodeableConcept Concept(string codeSystem, string code, string? display) =>
        new() { Coding = [Code(codeSystem, code, display)], Text = display ?? code };

    /// <summary>What each measure means, in words (the definition of its EvidenceVariable).</summary>
    public static readonly IReadOnlyDictionary<string, string> MeasureDefinitions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["pasi"] = "Psoriasis Area and Severity Index: a score from 0 (no psoriasis) to 72 combining the redness, thickness and scaling of lesions with the share of each of four body regions affected.",
        ["pasi_40"] = "PASI-40: at least 40 % improvement of PASI from baseline.",
        ["pasi_50"] = "PASI-50: at least 50 % improvement of PASI from baseline.",
        ["pasi_75"] = "PASI-75: at least 75 % improvement of PASI from baseline.",
        ["pasi_90"] = "PASI-90: at least 90 % improvement of PASI from baseline.",
        ["pasi_100"] = "PASI-100: complete clearance (100 % improvement of PASI from baseline).",
        ["bsa"] = "Body surface area affected by the disease, in percent (0-100).",
        ["pga"] = "Physician Global Assessment: the physician's overall rating of severity on an ordinal scale from 0 (clear) to the top the study declares.",
        ["iga"] = "Investigator Global Assessment: the investigator's overall rating of severity on an ordinal scale from 0 (clear) to the top the study declares.",
        ["dlqi"] = "Dermatology Life Quality Index: ten questions on the skin disease's effect on life in the past week, scored 0 (no effect) to 30.",
        ["pssi"] = "Psoriasis Scalp Severity Index: redness, thickness and scaling of scalp lesions weighted by the share of the scalp affected, 0 to 72.",
        ["clinical_response"] = "Clinical response as the study defines and reports it: participants who responded of those assessed.",
        ["relapse_free"] = "Relapse-free: participants without a relapse up to the timepoint, of those assessed.",
        ["adverse_events"] = "Adverse events: participants with at least one adverse event, of those assessed.",
        ["other"] = "Another outcome, described in the result and quote of each observation.",
    };

    /// <summary>The codes the facade itself introduces (population characteristics, observation components).</summary>
    private static readonly IReadOnlyList<Term> PopulationCharacteristics =
    [
        new() { Code = "condition", Label = "Condition studied" },
        new() { Code = "age-range", Label = "Age range of the participants, in years" },
        new() { Code = "mean-age", Label = "Mean age of the participants, in years" },
        new() { Code = "male-participants", Label = "Number of male participants" },
        new() { Code = "female-participants", Label = "Number of female participants" },
    ];

    private static readonly IReadOnlyList<Term> ObservationComponents =
    [
        new() { Code = "baseline", Label = "Score at baseline" },
        new() { Code = "timepoint", Label = "Time from the start of treatment to the assessment" },
        new() { Code = "arm", Label = "The study arm (intervention key) the result belongs to" },
        new() { Code = "scale-max", Label = "Top of the declared scale" },
        new() { Code = "evidence", Label = "primary (the study's own publication) or secondary (reported by another source)" },
    ];

    /// <summary>Every CodeSystem the facade serves: id, title, description and concepts.</summary>
    public static IReadOnlyList<(string Id, string Title, string Description, IReadOnlyList<Term> Concepts)> CodeSystems(Vocabularies.Vocabularies vocabularies) =>
    [
        (StudyDesign, "Study design", "Designs of studies in EvidenceApi (GET /v1/vocabularies: designs).", vocabularies.Designs),
        (Product, "Product", "What an intervention gave (GET /v1/vocabularies: products).", vocabularies.Products),
        (CellSource, "Cell source", "The tissue the cells came from (GET /v1/vocabularies: cellSources).", vocabularies.CellSources),
        (Donor, "Donor", "Whose cells were given (GET /v1/vocabularies: donors).", vocabularies.Donors),
        (Route, "Route of administration", "How an intervention was given (GET /v1/vocabularies: routes).", vocabularies.Routes),
        (Measure, "Outcome measure", "What an outcome measured (GET /v1/vocabularies: measures).",
            vocabularies.Measures.Select(m => new Term { Code = m.Code, Label = m.Label }).ToList()),
        (PopulationCharacteristic, "Population characteristic", "Characteristics of a study's participants (Group.characteristic.code).", PopulationCharacteristics),
        (ObservationComponent, "Observation component", "Parts of a reported outcome (Observation.component.code).", ObservationComponents),
    ];

    public static string? Label(IReadOnlyList<Term> terms, string code) => terms.FirstOrDefault(t => t.Code == code)?.Label;
}
