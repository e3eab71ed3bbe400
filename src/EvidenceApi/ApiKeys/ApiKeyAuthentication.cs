using System.Security.Claims;
using System.Text.Encodings.Web;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EvidenceApi.ApiKeys;

public static class ApiKeyDefaults
{
    public const string Scheme = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string ContributorPolicy = "contributor";
    public const string CuratorPolicy = "curator";
    public const string KeyIdClaim = "api_key_id";

    public static readonly IReadOnlyList<string> Roles = ["contributor", "curator"];
}

/// <summary>The caller's key, as the endpoints need it.</summary>
public sealed record Caller(long KeyId, string Role)
{
    public bool IsCurator => Role == "curator";

    public static Caller From(ClaimsPrincipal user) => new(
        long.Parse(user.FindFirstValue(ApiKeyDefaults.KeyIdClaim) ?? throw new InvalidOperationException("Not authenticated."), System.Globalization.CultureInfo.InvariantCulture),
        user.FindFirstValue(ClaimTypes.Role) ?? "");
}

/// <summary>Authenticates the <c>X-Api-Key</c> header; answers 401 and 403 as problem details.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    NpgsqlDataSource dataSource,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    // Read on every request that needs a key, so a revoked or expired key is refused at once by every instance. The last use
    // is written at most once a minute per key (the condition is on the row being updated, so concurrent requests that
    // wait for the same row lock re-check it and write nothing), not on every request.
    private const string FindKey = """
        WITH found AS (
            SELECT id, role, revoked_at, expires_at FROM api_keys WHERE key_hash = @Hash
        ), used AS (
            UPDATE api_keys k SET last_used_at = now()
            FROM found f
            WHERE k.id = f.id AND f.revoked_at IS NULL AND (f.expires_at IS NULL OR f.expires_at > now())
              AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute')
        )
        SELECT id, role, revoked_at IS NOT NULL AS revoked, expires_at <= now() AS expired FROM found
        """;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiKeyDefaults.HeaderName, out var values) || string.IsNullOrWhiteSpace(values.ToString()))
        {
            return AuthenticateResult.NoResult();
        }

        var key = values.ToString().Trim();
        if (key.Length > 200)
        {
            return AuthenticateResult.Fail("The API key is not valid.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(Context.RequestAborted);
        var found = await connection.QuerySingleOrDefaultAsync<(long Id, string Role, bool Revoked, bool? Expired)?>(
            new CommandDefinition(FindKey, new { Hash = ApiKeyStore.Hash(key) }, cancellationToken: Context.RequestAborted));
        switch (found)
        {
            case null:
                return AuthenticateResult.Fail("The API key is not valid.");
            case { Revoked: true }:
                return AuthenticateResult.Fail("The API key has been revoked.");
            case { Expired: true }:
                return AuthenticateResult.Fail("The API key has expired.");
        }

        var row = found.Value;

        var identity = new ClaimsIdentity(
            [new Claim(ApiKeyDefaults.KeyIdClaim, row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Claim(ClaimTypes.Role, row.Role)],
            ApiKeyDefaults.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiKeyDefaults.Scheme));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{ApiKeyDefaults.Scheme} header=\"{ApiKeyDefaults.HeaderName}\"";
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = result.Failure?.Message ?? "An API key is required.",
                Detail = result.Failure is null
                    ? $"Send your key in the {ApiKeyDefaults.HeaderName} header. Reads are public; writes need a key."
                    : "Ask a curator for a new key. Reads are public; writes need a key.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Your API key does not allow this.",
                Detail = "This action needs a curator key.",
            },
        });
    }
}

public static class ApiKeyServices
{
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        // No default scheme: reads are public, so a key is checked only by the policies of the endpoints that need one,
        // not for every request that passes the authentication middleware. A single registered scheme would otherwise
        // become the default by itself (the documented switch turns that off).
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyDefaults.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyDefaults.ContributorPolicy, policy => policy.AddAuthenticationSchemes(ApiKeyDefaults.Scheme).RequireRole("contributor", "curator"))
            .AddPolicy(ApiKeyDefaults.CuratorPolicy, policy => policy.AddAuthenticationSchemes(ApiKeyDefaults.Scheme).RequireRole("curator"));
        return services;
    }
}
