using System.Security.Claims;
using EvidenceApi.Http;
using EvidenceApi.Querying;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace EvidenceApi.ApiKeys;

/// <summary>Curators onboard contributors without shell access to the server: issue, list and revoke contributor keys.</summary>
public static class KeysEndpoints
{
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
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ValidateArguments();

        group.MapGet("/", List)
            .WithName("ListKeys")
            .WithSummary("Every key with its role, creation, last use, expiry and status; never the key itself (curators)")
            .ValidateArguments()
            .ListOf<ApiKeyView>(csv: false);

        group.MapGet("/{id:long}", Get)
            .WithName("GetKey")
            .WithSummary("One key, without the key itself (curators)")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/{id:long}/revoke", Revoke)
            .WithName("RevokeKey")
            .WithSummary("Revoke a contributor key: refused at once by every instance (curators)")
            .WithDescription("Revoking a revoked key changes nothing and answers it as it is. Curator keys are revoked on the server: revoke-key ID.")
            .RequireRateLimiting(Protection.WritesPolicy)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ValidateArguments();

        group.MapGet("/events", Events)
            .WithName("ListKeyEvents")
            .WithSummary("The audit trail of keys: who issued or revoked which key, when and why, oldest first (curators)")
            .ValidateArguments()
            .ListOf<ApiKeyEvent>(csv: false);

        return group;
    }

    /// <param name="request">Who the key is for and, optionally, when it expires.</param>
    /// <param name="user">The authenticated curator.</param>
    /// <param name="dataSource">The evidence database.</param>
    /// <param name="time">The clock, for the expiry.</param>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    private static async Task<Results<Created<IssuedApiKey>, ValidationProblem>> Issue(
        NewApiKey? request, ClaimsPrincipal user, NpgsqlDataSource dataSource, TimeProvider time, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["name"] = ["Name whom the key is for."] }, title: "The request is not valid.");
        }

        var expiresAt = request.ExpiresInDays is { } days ? time.GetUtcNow().AddDays(days) : (DateTimeOffset?)null;
        var issued = await ApiKeyStore.IssueAsync(
            dataSource, "contributor", request.Name!.Trim(), expiresAt, KeyActor.Curator(Caller.From(user)), cancellationToken);
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
    /// <param name="request">An optional reason, recorded in the audit trail.</param>
    /// <param name="user">The authenticated curator.</param>
    /// <param name="dataSource">The evidence database.</param>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    private static async Task<Results<Ok<ApiKeyView>, ProblemHttpResult>> Revoke(
        long id, RevokeApiKey? request, ClaimsPrincipal user, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var reason = string.IsNullOrWhiteSpace(request?.Reason) ? null : request.Reason.Trim();
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
