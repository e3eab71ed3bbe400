using System.Security.Cryptography;
using System.Text.Json;
using EvidenceApi.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EvidenceApi.CaseReports;

/// <summary>Reads a case report from a request body: size and type limits, then shape, then deserialization.</summary>
public static class CaseReportJson
{
    public const int MaxBodyBytes = 256 * 1024;
    public const int MaxDepth = 16;

    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        MaxDepth = MaxDepth,
    };

    /// <summary>The parsed report with the SHA-256 of its canonical form, or the problem to answer.</summary>
    public static async Task<CaseReportBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsJson(request.ContentType))
        {
            return new(null, null, TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "The body must be JSON.",
                detail: "Send the case report with Content-Type: application/json."));
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return new(null, null, TooLarge());
        }

        var body = await ReadBoundedAsync(request.Body, cancellationToken);
        if (body is null)
        {
            return new(null, null, TooLarge());
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException ex)
        {
            return new(null, null, Invalid(new Dictionary<string, string[]>
            {
                ["$"] = [$"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {FirstSentence(ex.Message)}"],
            }));
        }

        using (document)
        {
            var shapeErrors = JsonShape.Check<CaseReport>(document.RootElement);
            if (shapeErrors.Count > 0)
            {
                return new(null, null, Invalid(shapeErrors));
            }

            var report = document.RootElement.Deserialize<CaseReport>(Options);
            if (report is null)
            {
                return new(null, null, Invalid(new Dictionary<string, string[]> { ["$"] = ["The body must be a case report object."] }));
            }

            // Hash the canonical form, so that retries differing only in whitespace or key order count as the same request.
            var hash = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(report, Options)));
            return new(report, hash, null);
        }
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null
        && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true);

    private static async Task<byte[]?> ReadBoundedAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static ProblemHttpResult TooLarge() => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "The request body is too large.",
        detail: $"A case report may be at most {MaxBodyBytes / 1024} KiB.");

    private static ProblemHttpResult Invalid(IDictionary<string, string[]> errors) => TypedResults.Problem(
        new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The case report is not valid.",
            Detail = "See errors: each key is the JSON path of a field at fault.",
        });

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}

/// <summary>A request body read as a case report: the report and its hash, or the problem to answer.</summary>
public sealed record CaseReportBody(CaseReport? Report, string? Hash, ProblemHttpResult? Problem);
