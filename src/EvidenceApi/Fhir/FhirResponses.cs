using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace EvidenceApi.Fhir;

/// <summary>FHIR JSON out of the Firely SDK's own serializer: no hand-written FHIR JSON anywhere.</summary>
public static class FhirJson
{
    public const string ContentType = "application/fhir+json";
    public const string NdjsonContentType = "application/fhir+ndjson";

    private static readonly BaseFhirJsonSerializer Serializer = new(ModelInfo.ModelInspector);

    /// <summary>Writes <paramref name="resource"/> as one JSON value.</summary>
    public static void Write(Base resource, Utf8JsonWriter writer) => Serializer.Serialize(resource, writer);

    public static string Serialize(Base resource)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(resource, writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>A FHIR resource as the answer, <c>application/fhir+json</c>, with its status code.</summary>
public sealed class FhirResult(Resource resource, int statusCode = StatusCodes.Status200OK) : IResult, IStatusCodeHttpResult
{
    public Resource Resource => resource;

    public int? StatusCode => statusCode;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.ContentType = $"{FhirJson.ContentType}; charset=utf-8";
        await using (var writer = new Utf8JsonWriter(response.BodyWriter))
        {
            FhirJson.Write(resource, writer);
        }

        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }
}

/// <summary>OperationOutcome answers: FHIR's own error format, with the HTTP status that fits.</summary>
public static class FhirErrors
{
    /// <summary>One issue: what is wrong, and the search parameter or element at fault (Expression).</summary>
    public sealed record Issue(OperationOutcome.IssueType Code, string Diagnostics, string? Expression = null);

    public static FhirResult Outcome(int status, params Issue[] issues) => new(new OperationOutcome
    {
        Issue = issues.Select(issue => new OperationOutcome.IssueComponent
        {
            Severity = OperationOutcome.IssueSeverity.Error,
            Code = issue.Code,
            Diagnostics = issue.Diagnostics,
            Expression = issue.Expression is null ? [] : [issue.Expression],
        }).ToList(),
    }, status);

    public static FhirResult NotFound(string diagnostics) =>
        Outcome(StatusCodes.Status404NotFound, new Issue(OperationOutcome.IssueType.NotFound, diagnostics));

    public static FhirResult Invalid(IEnumerable<Issue> issues) => Outcome(StatusCodes.Status400BadRequest, issues.ToArray());

    public static FhirResult Invalid(string parameter, string diagnostics) =>
        Invalid([new Issue(OperationOutcome.IssueType.Invalid, diagnostics, parameter)]);
}
