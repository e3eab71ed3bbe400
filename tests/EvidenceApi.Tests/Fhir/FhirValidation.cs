using Firely.Fhir.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;

namespace EvidenceApi.Tests.Fhir;

/// <summary>
/// Firely's validator against the R4 core specification, offline: the specification.zip of Hl7.Fhir.Specification.Data.R4
/// is copied beside the test binary, and ZipSource reads the StructureDefinitions, ValueSets and CodeSystems from it.
/// </summary>
public static class FhirValidation
{
    private static readonly Lazy<Validator> Instance = new(() =>
    {
        var source = new CachedResolver(ZipSource.CreateValidationSource(Path.Combine(AppContext.BaseDirectory, "specification.zip")));
        return new Validator(source, new LocalTerminologyService(source), null, new ValidationSettings());
    });

    private static readonly object Gate = new();

    public static readonly FhirJsonDeserializer Parser = new(new DeserializerSettings());

    /// <summary>The issues the validator finds in <paramref name="resource"/> (errors and warnings), each with where it is.</summary>
    public static IReadOnlyList<OperationOutcome.IssueComponent> Validate(Resource resource)
    {
        // The validator's caches are built lazily; one validation at a time keeps the suite's memory and threads modest.
        lock (Gate)
        {
            return Instance.Value.Validate(resource).Issue
                .Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal or OperationOutcome.IssueSeverity.Warning)
                .ToList();
        }
    }

    public static T Parse<T>(string json) where T : Resource => (T)Parser.DeserializeResource(json);

    /// <summary>GETs a FHIR answer: asserts its status and content type, and parses it with the SDK as a <typeparamref name="T"/>.</summary>
    public static async Task<T> GetResourceAsync<T>(this HttpClient client, string url, System.Net.HttpStatusCode status = System.Net.HttpStatusCode.OK) where T : Resource
    {
        var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{url}: expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/fhir+json", response.Content.Headers.ContentType?.MediaType);
        return Assert.IsAssignableFrom<T>(Parse<Resource>(body));
    }
}
