using System.Globalization;
using System.Reflection;
using System.Xml.Linq;
using EvidenceApi.Querying;
using EvidenceApi.Synthesis;
using FluentValidation;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Fhir;

/// <summary>A search parameter the facade supports: its FHIR name, type, meaning, and the /v1 parameter it becomes (if any).</summary>
public sealed record FhirSearchParameter(string Name, SearchParamType Type, string Documentation, string? QueryName = null);

/// <summary>
/// The search parameters of each resource type, and their binding onto the feature queries' own records (so that the
/// shared evidence filters, synthesis parameters and their validators are the ones /v1 uses). Unsupported parameters,
/// modifiers and repeated parameters are always refused with an OperationOutcome, as FHIR's <c>Prefer: handling=strict</c>
/// asks: a filter that is silently ignored returns the wrong evidence.
/// </summary>
public static class FhirSearch
{
    /// <summary>Parameters every interaction accepts and that select no resources.</summary>
    public static readonly IReadOnlySet<string> ResultParameters = new HashSet<string>(StringComparer.Ordinal) { "_format" };

    private const string CountDocumentation = "Page size, 1-200 (default 20).";
    private const string CursorDocumentation = "Opaque position of the next page: follow the Bundle's next link rather than writing it.";

    /// <summary>The evidence filters shared with /v1 (Querying/EvidenceFilter.cs), as search parameters with the same names.</summary>
    public static IReadOnlyList<FhirSearchParameter> EvidenceFilterParameters { get; } = FromRecord<EvidenceFilter>();

    /// <summary>The synthesis parameters (Synthesis/SynthesisContracts.cs), as search parameters with the same names.</summary>
    public static IReadOnlyList<FhirSearchParameter> SynthesisParameters { get; } = FromRecord<SynthesisQuery>();

    public static IReadOnlyDictionary<string, IReadOnlyList<FhirSearchParameter>> ByType { get; } = new Dictionary<string, IReadOnlyList<FhirSearchParameter>>(StringComparer.Ordinal)
    {
        ["ResearchStudy"] =
        [
            new("_id", SearchParamType.Token, "Logical id(s) of the study, comma-separated.", "id"),
            new("identifier", SearchParamType.Token, "An identifier of the study: [system|]value, with the DOI (https://doi.org), PMID " +
                "(https://pubmed.ncbi.nlm.nih.gov), registry id (https://clinicaltrials.gov) or study key (" + FhirTerminology.StudyKeySystem + ").", "identifier"),
            new("condition", SearchParamType.Token, "The condition: its name (psoriasis) or a SNOMED CT code (http://snomed.info/sct|9014002).", "condition"),
            new("title", SearchParamType.String, "The title starts with this text (case-insensitive).", "title"),
            .. EvidenceFilterParameters.Where(p => p.Name != "condition"),
            new("_count", SearchParamType.Number, CountDocumentation, "limit"),
            new("_cursor", SearchParamType.String, CursorDocumentation, "cursor"),
        ],
        ["Observation"] =
        [
            new("focus", SearchParamType.Reference, "The study the outcome belongs to: ResearchStudy/{id}.", "studyId"),
            new("code", SearchParamType.Token, "The measure: [" + FhirTerminology.CodeSystemUrl(FhirTerminology.Measure) + "|]code, e.g. pasi_75.", "measure"),
            new("_count", SearchParamType.Number, CountDocumentation, "limit"),
            new("_cursor", SearchParamType.String, CursorDocumentation, "cursor"),
        ],
        ["EvidenceVariable"] =
        [
            new("_id", SearchParamType.Token, "Logical id of the measure's variable, e.g. pasi-75."),
            new("url", SearchParamType.Uri, "Canonical URL of the variable."),
        ],
        ["CodeSystem"] =
        [
            new("_id", SearchParamType.Token, "Logical id of the code system, e.g. measure."),
            new("url", SearchParamType.Uri, "Canonical URL of the code system."),
        ],
        ["RiskEvidenceSynthesis"] = [.. SynthesisParameters, .. EvidenceFilterParameters],
        ["Group"] = [],
    };

    /// <summary>The parameters of the request, one value each, or the issues that make it unsupported.</summary>
    public static (Dictionary<string, string> Values, List<FhirErrors.Issue> Issues) Parse(string type, IQueryCollection query)
    {
        var supported = ByType[type];
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var issues = new List<FhirErrors.Issue>();
        foreach (var (key, value) in query)
        {
            if (ResultParameters.Contains(key))
            {
                continue;
            }

            var name = key.Split(':')[0];
            if (supported.All(p => p.Name != name))
            {
                issues.Add(new(OperationOutcome.IssueType.NotSupported,
                    $"The search parameter '{key}' is not supported for {type}. Supported: {Describe(supported)}.", key));
            }
            else if (key.Contains(':', StringComparison.Ordinal))
            {
                issues.Add(new(OperationOutcome.IssueType.NotSupported, $"Modifiers are not supported: use '{name}' without ':{key.Split(':', 2)[1]}'.", key));
            }
            else if (value.Count > 1)
            {
                issues.Add(new(OperationOutcome.IssueType.NotSupported, $"Give '{key}' once; separate alternative values with commas.", key));
            }
            else
            {
                values[key] = value.ToString();
            }
        }

        return (values, issues);
    }

    private static string Describe(IReadOnlyList<FhirSearchParameter> supported) =>
        supported.Count == 0 ? "none (read by id only)" : string.Join(", ", supported.Select(p => p.Name).Concat(ResultParameters));

    /// <summary>
    /// Builds <typeparamref name="T"/> (a query record with [FromQuery] names) from the values under their /v1 names, and
    /// validates it with its own validator; every problem becomes an issue naming the FHIR parameter.
    /// </summary>
    public static T Bind<T>(IReadOnlyDictionary<string, string> byQueryName, IReadOnlyDictionary<string, string> fhirNames, IServiceProvider services, List<FhirErrors.Issue> issues)
        where T : new()
    {
        var target = new T();
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<FromQueryAttribute>()?.Name is not { } name || !byQueryName.TryGetValue(name, out var text))
            {
                continue;
            }

            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            object? value = type == typeof(string) ? text
                : type == typeof(int) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i
                : type == typeof(long) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l
                : type == typeof(decimal) && decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? d
                : type == typeof(bool) && bool.TryParse(text, out var b) ? b
                : type == typeof(DateTimeOffset) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t
                : null;
            if (value is null)
            {
                issues.Add(new(OperationOutcome.IssueType.Invalid, $"'{text}' is not a valid {type.Name.ToLowerInvariant()}.", FhirName(name, fhirNames)));
                continue;
            }

            property.SetValue(target, value);
        }

        if (services.GetService<IValidator<T>>() is { } validator)
        {
            foreach (var failure in validator.Validate(target).Errors)
            {
                issues.Add(new(OperationOutcome.IssueType.Invalid, failure.ErrorMessage, FhirName(failure.PropertyName, fhirNames)));
            }
        }

        return target;
    }

    private static string FhirName(string queryName, IReadOnlyDictionary<string, string> fhirNames) =>
        fhirNames.TryGetValue(queryName, out var fhir) ? fhir : queryName;

    /// <summary>The search parameters of a query record: its [FromQuery] names, documented by the record's own XML comments.</summary>
    private static List<FhirSearchParameter> FromRecord<T>() =>
        typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<FromQueryAttribute>()?.Name is not null)
            .Select(p =>
            {
                var name = p.GetCustomAttribute<FromQueryAttribute>()!.Name!;
                var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
                var searchType = type == typeof(string) ? SearchParamType.Token
                    : type == typeof(DateTimeOffset) ? SearchParamType.Date
                    : SearchParamType.Number;
                return new FhirSearchParameter(name, searchType, XmlDocumentation.Summary(p) ?? name, name);
            })
            .ToList();
}

/// <summary>Reads the summaries of the assembly's XML documentation (the file Swagger reads too).</summary>
internal static class XmlDocumentation
{
    private static readonly Lazy<Dictionary<string, string>> Summaries = new(Load);

    public static string? Summary(PropertyInfo property) =>
        Summaries.Value.TryGetValue($"P:{property.DeclaringType!.FullName}.{property.Name}", out var text) ? text : null;

    private static Dictionary<string, string> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, typeof(XmlDocumentation).Assembly.GetName().Name + ".xml");
        if (!File.Exists(path))
        {
            return [];
        }

        return XDocument.Load(path).Descendants("member")
            .Where(m => m.Element("summary") is not null)
            .ToDictionary(
                m => (string)m.Attribute("name")!,
                m => string.Join(" ", string.Concat(m.Element("summary")!.Nodes().Select(n => n is XElement e ? (string?)e.Attribute("name") ?? e.Value : n.ToString()))
                    .Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)));
    }
}
