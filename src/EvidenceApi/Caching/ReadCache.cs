using System.Security.Cryptography;
using EvidenceApi.Database;
using EvidenceApi.Http;
using EvidenceApi.Observability;
using EvidenceApi.Querying;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace EvidenceApi.Caching;

/// <summary>Settings under <c>ReadCache</c>.</summary>
public sealed class ReadCacheOptions
{
    public const string Section = "ReadCache";

    /// <summary>Serve public reads from memory while the data version is unchanged (default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Upper bound of the cached bodies, in megabytes (default 64).</summary>
    public int SizeLimitMegabytes { get; set; } = 64;
}

/// <summary>
/// HTTP caching of GET answers. Public evidence reads carry the data version as a strong ETag, so a matching
/// If-None-Match is a 304 without any query, and their serialized bodies are kept in a bounded memory cache,
/// keyed by the normalized request and valid only for the version they were made under. Answers about keys and
/// submissions are private and never stored. Other GETs (the OpenAPI document) get an ETag hashed from the body.
/// </summary>
public sealed class ReadCacheMiddleware(
    RequestDelegate next, DataVersion dataVersion, ReadDataSource reads, IOptions<ReadCacheOptions> options, EvidenceMetrics metrics) : IDisposable
{
    private const string PublicCacheControl = "public, no-cache";
    private readonly MemoryCache cache = metrics.ObserveReadCache(
        new MemoryCache(new MemoryCacheOptions { SizeLimit = (long)options.Value.SizeLimitMegabytes * 1024 * 1024, TrackStatistics = true }));

    // Requests for the same missing entry wait for the first one instead of all running the same query.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task<CachedResponse?>> inFlight = new(StringComparer.Ordinal);

    private VersionTags versionTags = new(0, "", "", "", "");

    // Not async: most requests are handed on or answered without waiting here, and need no state machine of their own.
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        // HEAD arrives here as GET (see HeadRequests), and is answered from the same entries.
        if (!HttpMethods.IsGet(request.Method) || request.Path.StartsWithSegments("/health") || request.Path.StartsWithSegments(MetricsEndpoint.Path))
        {
            return next(context);
        }

        // Bulk export jobs and files change with the job, not with the data version: never stored, never tagged.
        if (request.Headers.ContainsKey(ApiKeys.ApiKeyDefaults.HeaderName) || request.Path.StartsWithSegments("/v1/submissions")
            || request.Path.StartsWithSegments("/fhir/$export"))
        {
            context.Response.Headers.CacheControl = "private, no-store";
            return next(context);
        }

        var csv = request.Query["format"] == "csv"
            || (StringValues(request.Query["format"]) is null && request.Headers.Accept.ToString().Contains(CsvResult.ContentType, StringComparison.OrdinalIgnoreCase));
        var fhir = request.Path.StartsWithSegments("/fhir");
        var representation = fhir ? Representation.Fhir
            : csv ? Representation.Csv
            : ContentNegotiation.PrefersSvg(request) ? Representation.Svg : Representation.Json;
        if (fhir || request.Path.StartsWithSegments("/v1"))
        {
            if (!fhir)
            {
                // Answers here depend on Accept (CSV for lists, SVG for the synthesis), so shared caches must key on it too.
                context.Response.Headers.Append(HeaderNames.Vary, HeaderNames.Accept);
            }

            if (dataVersion.Current is { } version)
            {
                return reads.HasReplicas ? ServeVersionedOnceReplayedAsync(context, version, representation) : ServeVersionedAsync(context, version, representation);
            }
        }

        return csv ? next(context) : ServeHashedAsync(context);
    }

    public void Dispose() => cache.Dispose();

    /// <summary>
    /// With replicas, an answer may be tagged and cached under a version only if the standby serving reads has
    /// replayed that version already; checked before the read, replay only moves forward, so the read sees it too.
    /// </summary>
    private async Task ServeVersionedOnceReplayedAsync(HttpContext context, long version, Representation representation)
    {
        if (await ReplicaHasReplayedAsync(version, context.RequestAborted))
        {
            await ServeVersionedAsync(context, version, representation);
        }
        else if (representation == Representation.Csv)
        {
            await next(context);
        }
        else
        {
            await ServeHashedAsync(context);
        }
    }

    private async Task<bool> ReplicaHasReplayedAsync(long version, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await reads.Source.OpenConnectionAsync(cancellationToken);
            await using var command = new Npgsql.NpgsqlCommand("SELECT version FROM data_version WHERE id = 1", connection);
            return await command.ExecuteScalarAsync(cancellationToken) is long replayed && replayed >= version;
        }
        catch (Npgsql.NpgsqlException)
        {
            return false;
        }
    }

    private Task ServeVersionedAsync(HttpContext context, long version, Representation representation)
    {
        var etag = VersionTag(version, representation);
        var response = context.Response;
        if (Matches(context.Request, etag))
        {
            NotModified(response, etag);
            return Task.CompletedTask;
        }

        if (representation == Representation.Csv || !options.Value.Enabled)
        {
            // Nothing to keep, so the answer streams; the ETag is known before the body and goes out with the headers,
            // unless the data changed while the answer was made (then it belongs to no single version).
            response.OnStarting(() =>
            {
                response.Headers.CacheControl = PublicCacheControl;
                if (response.StatusCode == StatusCodes.Status200OK && dataVersion.Current == version)
                {
                    response.Headers.ETag = etag;
                }

                return Task.CompletedTask;
            });
            return next(context);
        }

        return ServeFromCacheAsync(context, version, etag, representation);
    }

    private async Task ServeFromCacheAsync(HttpContext context, long version, string etag, Representation representation)
    {
        var response = context.Response;
        var key = representation == Representation.Svg ? Key(context.Request) + "#svg" : Key(context.Request);
        if (cache.TryGetValue(key, out CachedResponse? hit) && hit!.Version == version)
        {
            metrics.RecordReadCacheHit();
            await ServeCachedAsync(context, hit, etag);
            return;
        }

        var flightKey = $"{version}:{key}";
        var flight = new TaskCompletionSource<CachedResponse?>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!inFlight.TryAdd(flightKey, flight.Task)
            && inFlight.TryGetValue(flightKey, out var running)
            && await running.WaitAsync(context.RequestAborted) is { } shared)
        {
            metrics.RecordReadCacheHit();
            await ServeCachedAsync(context, shared, etag);
            return;
        }

        metrics.RecordReadCacheMiss();

        CachedResponse? made = null;
        try
        {
            var body = await RunBufferedAsync(context);
            response.Headers.CacheControl = PublicCacheControl;
            if (response.StatusCode != StatusCodes.Status200OK)
            {
                await WriteBodyAsync(context, body);
                return;
            }

            if (dataVersion.Current != version)
            {
                // The data changed while this answer was made: it belongs to no single version, so it gets no version tag.
                await WriteAsync(context, body, HashTag(body));
                return;
            }

            made = new CachedResponse(version, response.ContentType ?? "application/json", response.Headers.Link.ToString() is { Length: > 0 } link ? link : null, body);
            cache.Set(key, made, new MemoryCacheEntryOptions { Size = body.Length + (key.Length * 2) + 256 });

            await WriteAsync(context, body, etag);
        }
        finally
        {
            flight.TrySetResult(made);
            inFlight.TryRemove(new KeyValuePair<string, Task<CachedResponse?>>(flightKey, flight.Task));
        }
    }

    private static async Task ServeCachedAsync(HttpContext context, CachedResponse cached, string etag)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = cached.ContentType;
        if (cached.Link is not null)
        {
            context.Response.Headers.Link = cached.Link;
        }

        await WriteAsync(context, cached.Body, etag);
    }

    private async Task ServeHashedAsync(HttpContext context)
    {
        var body = await RunBufferedAsync(context);
        context.Response.Headers.CacheControl = PublicCacheControl;
        if (context.Response.StatusCode == StatusCodes.Status200OK)
        {
            var etag = HashTag(body);
            if (Matches(context.Request, etag))
            {
                NotModified(context.Response, etag);
                return;
            }

            await WriteAsync(context, body, etag);
            return;
        }

        await WriteBodyAsync(context, body);
    }

    private async Task<byte[]> RunBufferedAsync(HttpContext context)
    {
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

        return buffer.ToArray();
    }

    private static async Task WriteAsync(HttpContext context, byte[] body, string etag)
    {
        context.Response.Headers.ETag = etag;
        context.Response.Headers.CacheControl = PublicCacheControl;
        await WriteBodyAsync(context, body);
    }

    private static async Task WriteBodyAsync(HttpContext context, byte[] body)
    {
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static void NotModified(HttpResponse response, string etag)
    {
        response.StatusCode = StatusCodes.Status304NotModified;
        response.Headers.ETag = etag;
        response.Headers.CacheControl = PublicCacheControl;
    }

    /// <summary>
    /// The version's ETag for one representation, made once per version rather than on every request. FHIR's is weak and
    /// carries the bare version, as FHIR asks (ETag: W/"{meta.versionId}").
    /// </summary>
    private string VersionTag(long version, Representation representation)
    {
        var tags = versionTags;
        if (tags.Version != version)
        {
            tags = new VersionTags(version, $"\"v{version}\"", $"\"v{version}-csv\"", $"\"v{version}-svg\"", $"W/\"{version}\"");
            versionTags = tags;
        }

        return representation switch
        {
            Representation.Csv => tags.Csv,
            Representation.Svg => tags.Svg,
            Representation.Fhir => tags.Fhir,
            _ => tags.Json,
        };
    }

    private static string HashTag(byte[] body) => $"\"{Convert.ToHexStringLower(SHA256.HashData(body))[..32]}\"";

    /// <summary>If-None-Match compares weakly (RFC 9110): W/"5" and "5" match each other.</summary>
    private static bool Matches(HttpRequest request, string etag) =>
        request.Headers.IfNoneMatch.Count > 0 && request.GetTypedHeaders().IfNoneMatch.Any(tag =>
            tag.Equals(EntityTagHeaderValue.Any) || tag.Tag.Equals(etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag, StringComparison.Ordinal));

    private static string? StringValues(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : values.ToString();

    /// <summary>
    /// The request as the cache sees it: the path, and the query parameters sorted, so their order does not matter. Outside
    /// FHIR, the path and parameter names are taken in lower case (routes, study keys and parameter names match in any
    /// case); values are kept as sent, since some are case-sensitive (a cursor, a vocabulary code is 400 in another case).
    /// FHIR answers hold absolute links (fullUrl, next), so for them the scheme and host are part of the key too; FHIR
    /// paths and parameter names keep their case (resource types, ids and search parameters are case-sensitive).
    /// </summary>
    private static string Key(HttpRequest request)
    {
        var fhir = request.Path.StartsWithSegments("/fhir");
        return (fhir ? $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path.Value}" : request.Path.Value?.TrimEnd('/').ToLowerInvariant())
            + "?" + string.Join('&', request.Query
                .Select(p => (Name: fhir ? p.Key : p.Key.ToLowerInvariant(), Value: p.Value.ToString()))
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .Select(p => $"{Uri.EscapeDataString(p.Name)}={Uri.EscapeDataString(p.Value)}"));
    }

    private sealed record VersionTags(long Version, string Json, string Csv, string Svg, string Fhir);

    /// <summary>One URL can answer in several representations; each has its own cache entry and ETag.</summary>
    private enum Representation
    {
        Json,
        Csv,
        Svg,
        Fhir,
    }

    private sealed record CachedResponse(long Version, string ContentType, string? Link, byte[] Body);
}
