using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace EvidenceApi.Infrastructure;

/// <summary>
/// Strong ETags on GET answers (a hash of the body before compression), 304 on a matching If-None-Match, and
/// Cache-Control: public reads may be stored but must be revalidated; answers about keys and submissions are private.
/// CSV exports stream and are left alone.
/// </summary>
public sealed class HttpCachingMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) || IsStreaming(request))
        {
            await next(context);
            return;
        }

        var isPrivate = request.Headers.ContainsKey("X-Api-Key") || request.Path.StartsWithSegments("/v1/submissions");
        var original = context.Response.Body;
        await using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }

        var response = context.Response;
        if (!response.Headers.ContainsKey(HeaderNames.CacheControl))
        {
            response.Headers.CacheControl = isPrivate ? "private, no-store" : "public, no-cache";
        }

        if (response.StatusCode == StatusCodes.Status200OK && !isPrivate)
        {
            buffer.Position = 0;
            var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(buffer))[..32]}\"";
            response.Headers.ETag = etag;
            if (Matches(request, etag))
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                response.ContentLength = null;
                response.Headers.ContentType = default;
                return;
            }
        }

        buffer.Position = 0;
        response.ContentLength = buffer.Length;
        if (!HttpMethods.IsHead(request.Method))
        {
            await buffer.CopyToAsync(original, context.RequestAborted);
        }
    }

    private static bool IsStreaming(HttpRequest request) =>
        request.Query["format"] == "csv"
        || request.Headers.Accept.ToString().Contains(CsvResult.ContentType, StringComparison.OrdinalIgnoreCase);

    private static bool Matches(HttpRequest request, string etag) =>
        request.GetTypedHeaders().IfNoneMatch.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Tag.Equals(etag, StringComparison.Ordinal));
}
