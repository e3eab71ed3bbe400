using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
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

/// <summary>Issues and checks API keys. Only a SHA-256 hash of each key is stored; keys are random, so a fast hash suffices.</summary>
public static class ApiKeyStore
{
    public static string NewKey(string role) =>
        $"ek_{role[..3]}_{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_')}";

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Creates a key and returns it; it cannot be shown again.</summary>
    public static async Task<string> CreateAsync(NpgsqlDataSource dataSource, string role, string name, CancellationToken cancellationToken = default)
    {
        var key = NewKey(role);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO api_keys (name, role, key_hash, key_prefix) VALUES (@Name, @Role, @Hash, @Prefix)",
            new { Name = name, Role = role, Hash = Hash(key), Prefix = key[..10] }, cancellationToken: cancellationToken));
        return key;
    }
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
    private const string FindKey = "SELECT id, role FROM api_keys WHERE key_hash = @Hash AND revoked_at IS NULL";

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
        var found = await connection.QuerySingleOrDefaultAsync<(long Id, string Role)?>(
            new CommandDefinition(FindKey, new { Hash = ApiKeyStore.Hash(key) }, cancellationToken: Context.RequestAborted));
        if (found is not { } row)
        {
            return AuthenticateResult.Fail("The API key is not valid.");
        }

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
                Title = result.Failure is null ? "An API key is required." : "The API key is not valid.",
                Detail = $"Send your key in the {ApiKeyDefaults.HeaderName} header. Reads are public; writes need a key.",
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
