using System.Globalization;
using EvidenceApi.Database;
using EvidenceApi.Http;
using EvidenceApi.Outcomes;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Synthesis;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Http.Extensions;

namespace EvidenceApi.Fhir;

/// <summary>
/// The read-only FHIR R4 facade under /fhir: capability statement, read and search of the evidence as FHIR resources.
/// It maps what the feature queries return; it has no SQL of its own. Its contract is its CapabilityStatement
/// (GET /fhir/metadata), so it stays out of the /v1 OpenAPI document.
/// </summary>
public static class FhirEndpoints
{
    /// <summary>The resource types the facade serves, with the interactions each supports.</summary>
    public static readonly IReadOnlyDictionary<string, bool> ReadableTypes = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["ResearchStudy"] = true, ["Group"] = true, ["Observation"] = true, ["EvidenceVariable"] = true, ["CodeSystem"] = true,
        ["RiskEvidenceSynthesis"] = false,
    };

    private static readonly HashSet<string> JsonFormats = new(StringComparer.OrdinalIgnoreCase) { "json", "application/json", "application/fhir+json" };

    public static RouteGroupBuilder MapFhir(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/fhir").ExcludeFromDescription().AddEndpointFilter(FormatFilter);
        group.MapGet("/metadata", Metadata);
        group.MapGet("/RiskEvidenceSynthesis", (HttpContext context, FhirContextFactory contexts, ReadDataSource reads, IConfiguration configuration, CancellationToken cancellationToken) =>
                SearchSynthesisAsync(context, contexts, reads, configuration, cancellationToken))
            .RequireRateLimiting(Protection.ExpensiveReadsPolicy);
        group.MapGet("/{type}", Search);
        group.MapGet("/{type}/{id}", Read);
        group.MapBulkExport();
        app.MapFallback("/fhir/{**rest}", (string? rest) => FhirErrors.Outcome(StatusCodes.Status404NotFound,
            new FhirErrors.Issue(OperationOutcome.IssueType.NotSupported, $"Nothing is served at /fhir/{rest}. See GET /fhir/metadata for what is.")))
            .ExcludeFromDescription();
        return group;
    }

    /// <summary>JSON only: <c>_format</c> and <c>Accept</c> asking for anything else (XML, Turtle) get a 406.</summary>
    private static async ValueTask<object?> FormatFilter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var request = invocation.HttpContext.Request;
        var format = request.Query["_format"];
        var accept = request.GetTypedHeaders().Accept;
        var jsonAccepted = accept.Count == 0 || accept.Any(a => a.MediaType.Value is "*/*" or "application/*" or "application/json" or FhirJson.ContentType or FhirJson.NdjsonContentType);
        if ((format.Count > 0 && !JsonFormats.Contains(format.ToString())) || !jsonAccepted)
        {
            return FhirErrors.Outcome(StatusCodes.Status406NotAcceptable, new FhirErrors.Issue(OperationOutcome.IssueType.NotSupported,
                "Only FHIR JSON is served: _format=json or application/fhir+json.", format.Count > 0 ? "_format" : null));
        }

        return await next(invocation);
    }

    private static async Task<FhirResult> Metadata(HttpContext context, FhirContextFactory contexts, CancellationToken cancellationToken)
    {
        if (context.Request.Query.Keys.FirstOrDefault(k => !FhirSearch.ResultParameters.Contains(k)) is { } unknown)
        {
            return FhirErrors.Invalid(unknown, $"metadata takes no parameter '{unknown}'.");
        }

        return new FhirResult(FhirCapability.Statement(await contexts.CreateAsync(context.Request, cancellationToken)));
    }

    private static async Task<FhirResult> Read(string type, string id, FhirContextFactory contexts, ReadDataSource reads, HttpContext context, CancellationToken cancellationToken)
    {
        if (!ReadableTypes.TryGetValue(type, out var readable))
        {
            return UnknownType(type);
        }

        if (!readable)
        {
            return FhirErrors.Outcome(StatusCodes.Status405MethodNotAllowed, new FhirErrors.Issue(OperationOutcome.IssueType.NotSupported,
                $"{type} is computed for a search ({type}?measure=...), so it has no id to read."));
        }

        if (context.Request.Query.Keys.FirstOrDefault(k => !FhirSearch.ResultParameters.Contains(k)) is { } unknown)
        {
            return FhirErrors.Invalid(unknown, $"A read takes no parameter '{unknown}'.");
        }

        var fhir = await contexts.CreateAsync(context.Request, cancellationToken);
        var numeric = long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var number);
        Resource? resource = type switch
        {
            "ResearchStudy" when numeric => await StudyQueries.FindAsync(reads.Source, id, cancellationToken) is { } study ? FhirResources.ResearchStudy(study, fhir) : null,
            "Group" when numeric => await StudyQueries.FindAsync(reads.Source, id, cancellationToken) is { } study ? FhirResources.Group(study, fhir) : null,
            "Observation" when numeric => await OutcomesEndpoints.FindAsync(reads.Source, number, cancellationToken) is { } item
                ? FhirResources.Observation(item.Outcome, item.Intervention?.Key, fhir) : null,
            "EvidenceVariable" => fhir.Vocabularies.Measures.FirstOrDefault(m => FhirTerminology.MeasureId(m.Code) == id) is { } measure
                ? FhirResources.EvidenceVariable(measure, fhir) : null,
            "CodeSystem" => CodeSystems(fhir).FirstOrDefault(c => c.Id == id),
            _ => null,
        };
        return resource is null ? FhirErrors.NotFound($"{type}/{id} is not known.") : new FhirResult(resource);
    }

    private static async Task<FhirResult> Search(string type, HttpContext context, FhirContextFactory contexts, ReadDataSource reads, CancellationToken cancellationToken)
    {
        if (!ReadableTypes.ContainsKey(type))
        {
            return UnknownType(type);
        }

        var (values, issues) = FhirSearch.Parse(type, context.Request.Query);
        if (type == "Group")
        {
            return FhirErrors.Outcome(StatusCodes.Status405MethodNotAllowed, new FhirErrors.Issue(OperationOutcome.IssueType.NotSupported,
                "Groups are read by id (Group/{id}, the same id as their ResearchStudy); search ResearchStudy instead."));
        }

        if (issues.Count > 0)
        {
            return FhirErrors.Invalid(issues);
        }

        var fhir = await contexts.CreateAsync(context.Request, cancellationToken);
        try
        {
            return type switch
            {
                "ResearchStudy" => await SearchStudiesAsync(values, context, fhir, reads, cancellationToken),
                "Observation" => await SearchObservationsAsync(values, context, fhir, reads, cancellationToken),
                "EvidenceVariable" => Listed(values, context, fhir, fhir.Vocabularies.Measures.Select(m => FhirResources.EvidenceVariable(m, fhir)), v => (v.Id, v.Url)),
                _ => Listed(values, context, fhir, CodeSystems(fhir), c => (c.Id, c.Url)),
            };
        }
        catch (CursorMismatchException)
        {
            return FhirErrors.Invalid("_cursor", "The cursor does not belong to this search: follow the Bundle's next link unchanged.");
        }
    }

    private static async Task<FhirResult> SearchStudiesAsync(Dictionary<string, string> values, HttpContext context, FhirContext fhir, ReadDataSource reads, CancellationToken cancellationToken)
    {
        var parameters = FhirSearch.ByType["ResearchStudy"];
        var byQueryName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            var translated = name switch
            {
                "identifier" => Token(value) switch
                {
                    (null or "", var code) => code,
                    (FhirTerminology.DoiSystem or FhirTerminology.PubMedSystem or FhirTerminology.ClinicalTrialsGovSystem
                        or FhirTerminology.RegistrySystem or FhirTerminology.StudyKeySystem, var code) => code,
                    _ => null,
                },
                "condition" => Token(value) switch
                {
                    (null or "", var text) => text,
                    (FhirTerminology.Snomed, var code) => FhirTerminology.SnomedConditions.FirstOrDefault(c => c.Value.Code == code).Key,
                    _ => null,
                },
                _ => value,
            };
            if (translated is null)
            {
                // A system we do not use, or a code no study has: nothing can match.
                return new FhirResult(Searchset(fhir, context.Request, [], 0, null));
            }

            byQueryName[parameters.Single(p => p.Name == name).QueryName!] = translated;
        }

        var issues = new List<FhirErrors.Issue>();
        var fhirNames = FhirNames(parameters);
        var evidence = FhirSearch.Bind<EvidenceFilter>(byQueryName, fhirNames, context.RequestServices, issues);
        var query = FhirSearch.Bind<StudyListQuery>(byQueryName, fhirNames, context.RequestServices, issues) with { Sort = "id" };
        if (issues.Count > 0)
        {
            return FhirErrors.Invalid(issues);
        }

        var page = await StudyQueries.ListAsync(reads.Source, evidence, query, cancellationToken);
        IReadOnlyList<StudyDetail> studies;
        await using (var connection = await reads.Source.OpenConnectionAsync(cancellationToken))
        {
            studies = await StudyQueries.FindManyAsync(connection, page.Items.Select(s => s.Id).ToArray(), cancellationToken);
        }

        return new FhirResult(Searchset(fhir, context.Request, studies.Select(s => FhirResources.ResearchStudy(s, fhir)), page.Total, page.Next));
    }

    private static async Task<FhirResult> SearchObservationsAsync(Dictionary<string, string> values, HttpContext context, FhirContext fhir, ReadDataSource reads, CancellationToken cancellationToken)
    {
        var parameters = FhirSearch.ByType["Observation"];
        var byQueryName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            string? translated = value;
            if (name == "focus")
            {
                var reference = value.StartsWith(fhir.BaseUrl + "/", StringComparison.Ordinal) ? value[(fhir.BaseUrl.Length + 1)..] : value;
                if (!reference.StartsWith("ResearchStudy/", StringComparison.Ordinal))
                {
                    return FhirErrors.Invalid("focus", "focus takes a reference to a study: ResearchStudy/{id}.");
                }

                translated = reference["ResearchStudy/".Length..];
            }
            else if (name == "code")
            {
                translated = Token(value) switch
                {
                    (null or "", var code) => code,
                    (var system, var code) when system == FhirTerminology.CodeSystemUrl(FhirTerminology.Measure) => code,
                    _ => null,
                };
                if (translated is null)
                {
                    return new FhirResult(Searchset(fhir, context.Request, [], 0, null));
                }
            }

            byQueryName[parameters.Single(p => p.Name == name).QueryName!] = translated;
        }

        var issues = new List<FhirErrors.Issue>();
        var query = FhirSearch.Bind<OutcomeListQuery>(byQueryName, FhirNames(parameters), context.RequestServices, issues);
        if (issues.Count > 0)
        {
            return FhirErrors.Invalid(issues);
        }

        var page = await OutcomesEndpoints.ListAsync(reads.Source, new EvidenceFilter(), query, cancellationToken);
        return new FhirResult(Searchset(fhir, context.Request,
            page.Items.Select(item => FhirResources.Observation(item.Outcome, item.Intervention?.Key, fhir)), page.Total, page.Next));
    }

    private static async Task<FhirResult> SearchSynthesisAsync(HttpContext context, FhirContextFactory contexts, ReadDataSource reads, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var (values, issues) = FhirSearch.Parse("RiskEvidenceSynthesis", context.Request.Query);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var evidence = FhirSearch.Bind<EvidenceFilter>(values, names, context.RequestServices, issues);
        var query = FhirSearch.Bind<SynthesisQuery>(values, names, context.RequestServices, issues);
        if (issues.Count > 0)
        {
            return FhirErrors.Invalid(issues);
        }

        var fhir = await contexts.CreateAsync(context.Request, cancellationToken);
        var result = await SynthesisQueries.SynthesiseAsync(reads.Source, configuration, evidence, query, cancellationToken);
        return result is null
            ? FhirErrors.NotFound($"No review has the id or key '{query.Review}'.")
            : new FhirResult(Searchset(fhir, context.Request, [FhirSynthesis.Map(result, evidence, query, fhir)], 1, null));
    }

    /// <summary>A search over a small list served whole (code systems, variables): by _id and url, no paging.</summary>
    private static FhirResult Listed<T>(Dictionary<string, string> values, HttpContext context, FhirContext fhir, IEnumerable<T> resources, Func<T, (string? Id, string? Url)> keys)
        where T : Resource
    {
        var ids = Paging.SplitList(values.GetValueOrDefault("_id"));
        var urls = Paging.SplitList(values.GetValueOrDefault("url"));
        var matches = resources.Where(r => (ids is null || ids.Contains(keys(r).Id)) && (urls is null || urls.Contains(keys(r).Url))).ToList();
        return new FhirResult(Searchset(fhir, context.Request, matches, matches.Count, null));
    }

    public static IEnumerable<CodeSystem> CodeSystems(FhirContext fhir) =>
        FhirTerminology.CodeSystems(fhir.Vocabularies).Select(c => FhirResources.CodeSystem(c.Id, c.Title, c.Description, c.Concepts, fhir));

    /// <summary>A searchset Bundle: the matches, the total, a self link and, with more pages, a next link carrying the cursor.</summary>
    private static Bundle Searchset(FhirContext fhir, HttpRequest request, IEnumerable<Resource> resources, long? total, string? next)
    {
        var bundle = new Bundle { Type = Bundle.BundleType.Searchset, Meta = fhir.Meta(), Total = total is null ? null : (int)total };
        var self = $"{fhir.BaseUrl}{request.Path.Value!["/fhir".Length..]}";
        var query = request.Query.Where(p => p.Key != "_cursor").Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value.ToString())}").ToList();
        bundle.Link.Add(new Bundle.LinkComponent { Relation = "self", Url = query.Count == 0 ? self : $"{self}?{string.Join('&', query)}" + Cursor(request.Query["_cursor"].ToString(), query.Count > 0) });
        if (next is not null)
        {
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "next", Url = $"{self}?{string.Join('&', query)}" + Cursor(next, query.Count > 0) });
        }

        foreach (var resource in resources)
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                // A synthesis has no id (it is computed per search); its fullUrl is a UUID made from the request, the same each time.
                FullUrl = resource.Id is null ? RequestUuid(request) : fhir.Url(resource.TypeName, resource.Id),
                Resource = resource,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        }

        return bundle;
    }

    private static string RequestUuid(HttpRequest request)
    {
        var normalized = string.Join('&', request.Query.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{request.Path}?{normalized}"));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8: a custom, name-based UUID
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return $"urn:uuid:{new Guid(hash.AsSpan(0, 16), bigEndian: true)}";
    }

    private static string Cursor(string cursor, bool after) => cursor.Length == 0 ? "" : $"{(after ? "&" : "")}_cursor={Uri.EscapeDataString(cursor)}";

    /// <summary>A token parameter: system|code, or a code alone (system null).</summary>
    private static (string? System, string Code) Token(string value) =>
        value.IndexOf('|', StringComparison.Ordinal) is var bar and >= 0 ? (value[..bar], value[(bar + 1)..]) : (null, value);

    private static Dictionary<string, string> FhirNames(IReadOnlyList<FhirSearchParameter> parameters) =>
        parameters.Where(p => p.QueryName is not null).ToDictionary(p => p.QueryName!, p => p.Name, StringComparer.Ordinal);

    private static FhirResult UnknownType(string type) => FhirErrors.Outcome(StatusCodes.Status404NotFound, new FhirErrors.Issue(
        OperationOutcome.IssueType.NotSupported,
        $"The resource type '{type}' is not served. Served: {string.Join(", ", ReadableTypes.Keys)}."));

    internal static string RequestUrl(HttpRequest request) => request.GetDisplayUrl();
}
