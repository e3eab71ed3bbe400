using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Http;

/// <summary>Settings under <c>Protection</c>: rate limits, timeouts and request limits.</summary>
public sealed class ProtectionOptions
{
    public const string Section = "Protection";

    /// <summary>Writes (submissions, moderation) per API key (or per IP without one) per minute.</summary>
    public int WritesPerMinute { get; set; } = 60;

    /// <summary>Expensive reads (synthesis, CSV exports) per IP per minute.</summary>
    public int ExpensiveReadsPerMinute { get; set; } = 120;

    /// <summary>Longest a request may run before it is answered 503 and its query cancelled.</summary>
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>Longest query string accepted.</summary>
    public int MaxQueryStringLength { get; set; } = 4096;
}

public static class Protection
{
    public const string WritesPolicy = "writes";
    public const string ExpensiveReadsPolicy = "expensive-reads";
    public const string CorsPolicy = "public-reads";

    public static IServiceCollection AddProtection(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(ProtectionOptions.Section).Get<ProtectionOptions>() ?? new ProtectionOptions();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(WritesPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
                ClientKey(context, preferApiKey: true),
                _ => new FixedWindowRateLimiterOptions { PermitLimit = options.WritesPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            limiter.AddPolicy(ExpensiveReadsPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
                ClientKey(context, preferApiKey: false),
                _ => new FixedWindowRateLimiterOptions { PermitLimit = options.ExpensiveReadsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? (int)Math.Ceiling(wait.TotalSeconds) : 60;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await WriteProblemAsync(context.HttpContext, new ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many requests.",
                    Detail = $"Slow down: try again in {retryAfter} seconds.",
                });
            };
        });

        services.AddRequestTimeouts(timeouts => timeouts.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = TimeSpan.FromSeconds(options.RequestTimeoutSeconds),
            TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
            WriteTimeoutResponse = context =>
            {
                context.Response.Headers.RetryAfter = "5";
                return WriteProblemAsync(context, new ProblemDetails
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "The request took too long.",
                    Detail = "It was stopped and its query cancelled. Please retry, or narrow the query.",
                });
            },
        });

        // Browser apps may read the public evidence from any origin; writes still need a key, which CORS does not grant.
        services.AddCors(cors => cors.AddPolicy(CorsPolicy, policy => policy
            .AllowAnyOrigin()
            .WithMethods("GET", "HEAD", "POST")
            .WithHeaders("Content-Type", "X-Api-Key", "Idempotency-Key", "If-None-Match", "Accept")
            .WithExposedHeaders("ETag", "Link", "Location", "Retry-After")));
        return services;
    }

    /// <summary>Security headers, and a 414 for overlong query strings, before anything else runs.</summary>
    public static IApplicationBuilder UseProtectionHeaders(this IApplicationBuilder app, ProtectionOptions options) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Resource-Policy"] = "cross-origin";
        if (!context.Request.Path.StartsWithSegments("/swagger"))
        {
            headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
        }

        var query = context.Request.QueryString.Value;
        if (query?.Length > options.MaxQueryStringLength)
        {
            return WriteProblemAsync(context, new ProblemDetails
            {
                Status = StatusCodes.Status414RequestUriTooLong,
                Title = "The query string is too long.",
                Detail = $"At most {options.MaxQueryStringLength} characters.",
            });
        }

        // PostgreSQL text cannot hold NUL; say so for the parameter instead of failing in the database.
        // A NUL can only arrive percent-encoded, so the parameters are searched only when the query string holds one.
        if (query?.Contains("%00", StringComparison.Ordinal) == true
            && context.Request.Query.FirstOrDefault(p => p.Key.Contains('\0', StringComparison.Ordinal) || p.Value.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true)) is { Key: not null } bad)
        {
            return WriteProblemAsync(context, new HttpValidationProblemDetails(new Dictionary<string, string[]>
            {
                [bad.Key.Replace("\0", "", StringComparison.Ordinal)] = ["The value must not contain NUL characters."],
            })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request is not valid.",
            });
        }

        // Handing on without awaiting: most requests pass, and need no state machine of their own here.
        return next(context);
    });

    private static Task WriteProblemAsync(HttpContext context, ProblemDetails problem)
    {
        context.Response.StatusCode = problem.Status ?? StatusCodes.Status400BadRequest;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = problem,
        }).AsTask();
    }

    /// <summary>Limits count per API key (hashed, never the key itself) or per client address.</summary>
    private static string ClientKey(HttpContext context, bool preferApiKey)
    {
        if (preferApiKey && context.Request.Headers.TryGetValue(ApiKeys.ApiKeyDefaults.HeaderName, out var key) && key.ToString().Length > 0)
        {
            return "key:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())))[..16];
        }

        return "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }
}
