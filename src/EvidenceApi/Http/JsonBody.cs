using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EvidenceApi.Http;

/// <summary>What a JSON request body is, for its messages and limits.</summary>
/// <param name="What">The body in words, e.g. "case report".</param>
/// <param name="MaxBytes">The largest body accepted; larger is 413.</param>
/// <param name="Optional">True when the request may come without a body.</param>
public sealed record JsonBodyKind(string What, int MaxBytes, bool Optional = false);

/// <summary>A request body read as <typeparamref name="T"/>: the value (null for an absent optional body), or the problem to answer.</summary>
public sealed record JsonBodyResult<T>(T? Value, ProblemHttpResult? Problem);

/// <summary>
/// Reads every JSON request body the same way: any other content type is 415 saying what to send, an overlong body
/// 413, malformed JSON 400 naming one position (line and column), and a well-formed document is checked against
/// the contract's shape (unknown and repeated properties, wrong JSON types, numbers out of range; all at once, by JSON
/// path) before it is deserialized.
/// </summary>
public static partial class JsonBody
{
    public const int MaxDepth = 16;

    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        MaxDepth = MaxDepth,
    };

    public static async Task<JsonBodyResult<T>> ReadAsync<T>(HttpRequest request, JsonBodyKind kind, CancellationToken cancellationToken)
        where T : class
    {
        var validator = request.HttpContext.RequestServices.GetService<IValidator<T>>();
        if (kind.Optional && IsAbsent(request))
        {
            return new(null, null);
        }

        if (!IsJson(request.ContentType))
        {
            return new(null, TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "The body must be JSON.",
                detail: $"Send the {kind.What} as JSON with Content-Type: application/json" +
                        (request.ContentType is null ? " (the request had no Content-Type)." : $" (the request had {request.ContentType}).")));
        }

        if (request.ContentLength > kind.MaxBytes)
        {
            return new(null, TooLarge(kind));
        }

        var body = await ReadBoundedAsync(request.Body, kind.MaxBytes, cancellationToken);
        if (body is null)
        {
            return new(null, TooLarge(kind));
        }

        if (body.Length == 0 && kind.Optional)
        {
            return new(null, null);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException ex)
        {
            return new(null, Invalid(kind, new Dictionary<string, string[]> { ["$"] = [Malformed(body, ex)] }));
        }

        using (document)
        {
            var shapeErrors = JsonShape.Check<T>(document.RootElement, validator);
            if (shapeErrors.Count > 0)
            {
                return new(null, Invalid(kind, shapeErrors));
            }

            return document.RootElement.Deserialize<T>(Options) is { } value
                ? new(value, null)
                : new(null, Invalid(kind, new Dictionary<string, string[]> { ["$"] = [$"The body must be a {kind.What} object."] }));
        }
    }

    /// <summary>
    /// Reads the body as <see cref="ReadAsync{T}"/> does, then applies <typeparamref name="T"/>'s validator: every failure
    /// at once in one 400, keyed by JSON path.
    /// </summary>
    public static async Task<JsonBodyResult<T>> ReadValidAsync<T>(HttpRequest request, JsonBodyKind kind, CancellationToken cancellationToken)
        where T : class
    {
        var read = await ReadAsync<T>(request, kind, cancellationToken);
        if (read.Value is null || request.HttpContext.RequestServices.GetService<IValidator<T>>() is not { } validator)
        {
            return read;
        }

        var validation = await validator.ValidateAsync(read.Value, cancellationToken);
        return validation.IsValid ? read : new(null, Invalid(kind, validation.ToDictionary()));
    }

    public static ProblemHttpResult Invalid(JsonBodyKind kind, IDictionary<string, string[]> errors) => TypedResults.Problem(
        new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = $"The {kind.What} is not valid.",
            Detail = "See errors: each key is the JSON path of a field at fault.",
        });

    private static bool IsAbsent(HttpRequest request) =>
        request.ContentLength == 0 || (request.ContentLength is null && request.ContentType is null && !request.Headers.ContainsKey("Transfer-Encoding"));

    private static bool IsJson(string? contentType) =>
        contentType is not null
        && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true);

    private static async Task<byte[]?> ReadBoundedAsync(Stream body, int maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static ProblemHttpResult TooLarge(JsonBodyKind kind) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "The request body is too large.",
        detail: $"A {kind.What} may be at most {kind.MaxBytes / 1024} KiB.");

    /// <summary>
    /// One position, as a person counts it (line and column from 1, in characters), and the parser's reason without
    /// its own position suffix.
    /// </summary>
    private static string Malformed(byte[] body, JsonException exception)
    {
        var line = (int)(exception.LineNumber ?? 0);
        var lineStart = 0;
        for (var seen = 0; seen < line && lineStart < body.Length; lineStart++)
        {
            if (body[lineStart] == (byte)'\n')
            {
                seen++;
            }
        }

        var bytesIntoLine = (int)Math.Min(exception.BytePositionInLine ?? 0, Math.Max(0, body.Length - lineStart));
        var column = Encoding.UTF8.GetCharCount(body, lineStart, bytesIntoLine) + 1;
        var reason = ParserPosition().Replace(exception.Message, "").Trim();
        return $"The body is not valid JSON at line {line + 1}, column {column}: {reason}";
    }

    [GeneratedRegex(@"\s*(LineNumber: \d+ \| BytePositionInLine: \d+\.|Path: \S*)", RegexOptions.CultureInvariant)]
    private static partial Regex ParserPosition();
}
