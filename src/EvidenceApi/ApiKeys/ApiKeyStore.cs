using System.Security.Cryptography;
using System.Text;
using Dapper;
using EvidenceApi.Querying;
using Npgsql;

namespace EvidenceApi.ApiKeys;

/// <summary>Who changes a key: a curator's key over HTTP, or someone on the server with a command.</summary>
/// <param name="KeyId">The curator's key; null for a command.</param>
/// <param name="Description">Who, readable, for a command: the operating-system user and machine.</param>
public sealed record KeyActor(long? KeyId, string Description)
{
    public static KeyActor CommandLine() => new(null, $"command line, {Environment.UserName}@{Environment.MachineName}");

    public static KeyActor Curator(Caller caller) => new(caller.KeyId, $"key {caller.KeyId}");
}

public abstract record RevokeResult
{
    public sealed record Done(ApiKeyView Key) : RevokeResult;

    public sealed record NotFound : RevokeResult;

    /// <summary>The key has a role the caller may not revoke (curators revoke curator keys on the server only).</summary>
    public sealed record NotAllowed(string Role) : RevokeResult;
}

/// <summary>
/// Issues, lists and revokes API keys, each change written to the audit trail in the same transaction. Only a SHA-256
/// hash of each key is stored; keys are random, so a fast hash suffices.
/// </summary>
public static class ApiKeyStore
{
    // Aliased to the property names, so the mapping does not depend on Dapper's global underscore setting (commands and
    // tests use the store before the API has set it).
    internal const string ViewColumns = """
        k.id, k.name, k.role, k.key_prefix AS prefix, k.created_at AS createdat, k.expires_at AS expiresat,
        k.last_used_at AS lastusedat, k.revoked_at AS revokedat,
        CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked' WHEN k.expires_at <= now() THEN 'expired' ELSE 'active' END AS status
        """;

    // What a change concerned, as it was at the change: role, name and expiry.
    private const string Detail = """
        format('%s key "%s"%s', k.role, k.name,
               CASE WHEN k.expires_at IS NULL THEN ', no expiry' ELSE ', expires ' || to_char(k.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') END)
        """;

    private const string Actor = "coalesce((SELECT format('%s key %s (%s)', a.role, a.id, a.name) FROM api_keys a WHERE a.id = @ActorKeyId), @Actor)";

    private const string Insert = $"""
        WITH k AS (
            INSERT INTO api_keys (name, role, key_hash, key_prefix, expires_at) VALUES (@Name, @Role, @Hash, @Prefix, @ExpiresAt)
            RETURNING *
        ), logged AS (
            INSERT INTO api_key_events (key_id, action, actor_key_id, actor, detail)
            SELECT k.id, 'created', @ActorKeyId, {Actor}, {Detail} FROM k
        )
        SELECT {ViewColumns} FROM k
        """;

    private const string LockKey = $"SELECT {ViewColumns} FROM api_keys k WHERE k.id = @Id FOR UPDATE";

    private const string Revoke = $"""
        UPDATE api_keys SET revoked_at = now() WHERE id = @Id;
        INSERT INTO api_key_events (key_id, action, actor_key_id, actor, detail, reason)
        SELECT k.id, 'revoked', @ActorKeyId, {Actor}, {Detail}, @Reason FROM api_keys k WHERE k.id = @Id;
        """;

    private const string ListSql = $"""
        SELECT {ViewColumns} FROM api_keys k
        {"{0}"} {"{1}"}
        ORDER BY k.id
        LIMIT @Take OFFSET @Offset
        """;

    private const string CountSql = "SELECT count(*) FROM api_keys k {0}";

    private const string EventColumns = "e.id, e.key_id AS keyid, e.action, e.actor_key_id AS actorkeyid, e.actor, e.detail, e.reason, e.at";

    private const string EventsSql = $"""
        SELECT {EventColumns} FROM api_key_events e
        {"{0}"} {"{1}"}
        ORDER BY e.id
        LIMIT @Take OFFSET @Offset
        """;

    private const string EventsCountSql = "SELECT count(*) FROM api_key_events e {0}";

    private const string FindByHash = "SELECT id FROM api_keys WHERE key_hash = @Hash";

    public static string NewKey(string role) =>
        $"ek_{role[..3]}_{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_')}";

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Creates a key that never expires, on the server's behalf, and returns it; it cannot be shown again.</summary>
    public static async Task<string> CreateAsync(NpgsqlDataSource dataSource, string role, string name, CancellationToken cancellationToken = default) =>
        (await IssueAsync(dataSource, role, name, null, KeyActor.CommandLine(), cancellationToken)).Key;

    /// <summary>Creates a key and records who made it; the answer holds the key itself, which is never shown again.</summary>
    public static async Task<IssuedApiKey> IssueAsync(
        NpgsqlDataSource dataSource, string role, string name, DateTimeOffset? expiresAt, KeyActor actor, CancellationToken cancellationToken)
    {
        var key = NewKey(role);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var view = await connection.QuerySingleAsync<ApiKeyView>(new CommandDefinition(Insert, new
        {
            Name = name,
            Role = role,
            Hash = Hash(key),
            Prefix = key[..10],
            ExpiresAt = expiresAt?.UtcDateTime,
            ActorKeyId = actor.KeyId,
            Actor = actor.Description,
        }, cancellationToken: cancellationToken));
        return new IssuedApiKey(view) { Key = key };
    }

    /// <summary>
    /// Revokes a key at once for every instance (each request that needs a key reads it); revoking twice changes nothing.
    /// With <c>onlyRole</c>, a key of another role is not revoked (<see cref="RevokeResult.NotAllowed"/>).
    /// </summary>
    public static async Task<RevokeResult> RevokeAsync(
        NpgsqlDataSource dataSource, long id, KeyActor actor, string? reason, string? onlyRole, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var key = await connection.QuerySingleOrDefaultAsync<ApiKeyView>(new CommandDefinition(LockKey, new { Id = id }, transaction, cancellationToken: cancellationToken));
        if (key is null)
        {
            return new RevokeResult.NotFound();
        }

        if (onlyRole is not null && key.Role != onlyRole)
        {
            return new RevokeResult.NotAllowed(key.Role);
        }

        if (key.RevokedAt is null)
        {
            await connection.ExecuteAsync(new CommandDefinition(Revoke,
                new { Id = id, ActorKeyId = actor.KeyId, Actor = actor.Description, Reason = reason }, transaction, cancellationToken: cancellationToken));
            key = await connection.QuerySingleAsync<ApiKeyView>(new CommandDefinition(LockKey, new { Id = id }, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return new RevokeResult.Done(key);
    }

    /// <summary>The id of the key whose secret is <paramref name="key"/>, so that a leaked key can be revoked by the key itself.</summary>
    public static async Task<long?> FindIdAsync(NpgsqlDataSource dataSource, string key, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long?>(new CommandDefinition(FindByHash, new { Hash = Hash(key.Trim()) }, cancellationToken: cancellationToken));
    }

    public static async Task<ApiKeyView?> FindAsync(NpgsqlDataSource dataSource, long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<ApiKeyView>(new CommandDefinition(
            $"SELECT {ViewColumns} FROM api_keys k WHERE k.id = @Id", new { Id = id }, cancellationToken: cancellationToken));
    }

    public static Task<Page<ApiKeyView>> ListAsync(NpgsqlDataSource dataSource, ApiKeyListQuery query, CancellationToken cancellationToken)
    {
        var filter = new SqlFilter()
            .WhenIn(Paging.SplitList(query.Role), "Roles", "k.role")
            .WhenIn(Paging.SplitList(query.Status), "Statuses",
                "CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked' WHEN k.expires_at <= now() THEN 'expired' ELSE 'active' END");
        return IdKeysetPage.QueryAsync(
            dataSource, ListSql, CountSql, filter, "k.id", query.Limit, query.Offset, query.Cursor, query.IncludeTotal,
            async (connection, command) => await connection.QueryAsync<ApiKeyView>(command), key => key.Id, cancellationToken);
    }

    public static Task<Page<ApiKeyEvent>> EventsAsync(NpgsqlDataSource dataSource, ApiKeyEventQuery query, CancellationToken cancellationToken)
    {
        var filter = new SqlFilter().When(query.KeyId, "KeyId", "e.key_id = @KeyId");
        return IdKeysetPage.QueryAsync(
            dataSource, EventsSql, EventsCountSql, filter, "e.id", query.Limit, query.Offset, query.Cursor, query.IncludeTotal,
            async (connection, command) => await connection.QueryAsync<ApiKeyEvent>(command), e => e.Id, cancellationToken);
    }
}
