using System.Security.Claims;
using EvidenceApi.Http;
using EvidenceApi.OpenApi;
using EvidenceApi.Querying;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace EvidenceApi.ApiKeys;

/// <summary>Curators onboard contributors without shell access to the server: issue, list and revoke contributor keys.</summary>
public static class KeysEndpoints
{
    private static readonly JsonBodyKind NewKeyBody = new("key request", 16 * 1024);
    private static readonly JsonBodyKind RevokeBody = new("revocation", 16 * 1024, Optional: true);

    public static RouteGroupBuilder MapKeys(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/keys")
            .WithTags("Keys")
            .RequireAuthorization(ApiKeyDefaults.CuratorPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapPost("/", Issue)
            .WithName("IssueKey")
            .WithSummary("Issue a contributor key (curators); the answer is the only time the key is shown")
            .WithDescription("Only a SHA-256 hash of the key is kept. Curator keys are made on the server: " +
                             "dotnet run --project src/EvidenceApi -- create-key --role curator --name \"...\". The change is in the audit trail.")
            .RequireRateLimiting(Protection.WritesPolicy)
            .AcceptsJson<NewApiKey>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        group.MapGet("/", List)
            .WithName("ListKeys")
            .WithSummary("Every key with its role, creation, last use, expiry and status; never the key itself (curators)")
            .WithDescription("Contributor and curator keys, oldest first, filtered by role and status and paged like every list. " +
                             "A key is expired once its expiry has passed and revoked once a curator or an operator revoked it; " +
                             "only active keys are accepted. JSON only.")
            .ValidateArguments()
            .ListOf<ApiKeyView>(csv: false);

        group.MapGet("/{id:long}", Get)
            .WithName("GetKey")
            .WithSummary("One key, without the key itself (curators)")
            .WithDescription("Its role, creation, last use (recorded at most once a minute), expiry and status; 404 when no key has the id. " +
                             "The key itself was shown only when it was issued.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/{id:long}/revoke", Revoke)
            .WithName("RevokeKey")
            .WithSummary("Revoke a contributor key: refused at once by every instance (curators)")
            .WithDescription("Revoking a revoked key changes nothing and answers it as it is. Curator keys are revoked on the server " +
                             "(revoke-key ID); asking for one here is 403. The body is optional: a reason to record in the audit trail.")
            .RequireRateLimiting(Protection.WritesPolicy)
            .AcceptsJson<RevokeApiKey>(optional: true)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        group.MapGet("/events", Events)
            .WithName("ListKeyEvents")
            .WithSummary("The audit trail of keys: who issued or revoked which key, when and why, oldest first (curators)")
            .WithDescription("One event per change, made over HTTP (the curator's key is named) or by a command on the server " +
                             "(the user and machine are named); keyId narrows it to one key. Paged like every list. JSON only.")
            .ValidateArguments()
            .ListOf<ApiKeyEvent>(csv: false);

        return group;
    }

    /// <param name="request">The HTTP request; its body says whom the key is for and, optionally, when it expires.</param>
    /// <param name="user">The authenticated curator.</param>
    /// <param name="dataSource">The evidence database.</param>
    /// <param name="time">The clock, for the expiry.</param>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    private static async Task<Results<Created<IssuedApiKey>, ProblemHttpResult>> Issue(
        HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource dataSource, TimeProvider time, CancellationToken cancellationToken)
    {
        var (newKey, problem) = await JsonBody.ReadValidAsync<NewApiKey>(request, NewKeyBody, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        // A body that is not optional is either read and valid or answered with its problem.
        var expiresAt = newKey!.ExpiresInDays is { } days ? time.GetUtcNow().AddDays(days) : (DateTimeOffset?)null;
        var issued = await ApiKeyStore.IssueAsync(
            dataSource, "contributor", newKey.Name!.Trim(), expiresAt, KeyActor.Curator(Caller.From(user)), cancellationToken);
        return TypedResults.Created($"/v1/keys/{issued.Id}", issued);
    }

    private static async Task<Ok<Page<ApiKeyView>>> List(
        [AsParameters] ApiKeyListQuery query, NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ApiKeyStore.ListAsync(dataSource, query, cancellationToken));

    /// <param name="id">The key's id.</param>
    /// <param name="dataSource">The evidence database.</param>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    private static async Task<Results<Ok<ApiKeyView>, ProblemHttpResult>> Get(long id, NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        await ApiKeyStore.FindAsync(dataSource, id, cancellationToken) is { } key ? TypedResults.Ok(key) : NotFound(id);

    /// <param name="id">The key to revoke.</param>
    /// <param name="request">The HTTP request; its optional body gives a reason, recorded in the audit trail.</param>
    /// <param name="user">The authenticated curator.</param>
    /// <param name="dataSource">The evidence database.</param>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    private static async Task<Results<Ok<ApiKeyView>, ProblemHttpResult>> Revoke(
        long id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var (revocation, problem) = await JsonBody.ReadValidAsync<RevokeApiKey>(request, RevokeBody, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var reason = string.IsNullOrWhiteSpace(revocation?.Reason) ? null : revocation.Reason.Trim();
        return await ApiKeyStore.RevokeAsync(dataSource, id, KeyActor.Curator(Caller.From(user)), reason, "contributor", cancellationToken) switch
        {
            RevokeResult.Done done => TypedResults.Ok(done.Key),
            RevokeResult.NotAllowed notAllowed => TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Curator keys are not revoked over HTTP.",
                detail: $"Key {id} is a {notAllowed.Role} key. Revoke it on the server: dotnet run --project src/EvidenceApi -- revoke-key {id}"),
            _ => NotFound(id),
        };
    }

    private static async Task<Ok<Page<ApiKeyEvent>>> Events(
        [AsParameters] ApiKeyEventQuery query, NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ApiKeyStore.EventsAsync(dataSource, query, cancellationToken));

    private static ProblemHttpResult NotFound(long id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Key not found.",
        detail: $"No API key has the id {id}.");
}
