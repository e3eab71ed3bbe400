using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using EvidenceApi.ApiKeys;
using EvidenceApi.CaseReports;
using Npgsql;

namespace EvidenceApi.Bench;

/// <summary>A contributor key made for one benchmark run, whose submissions the run removes again when it is done.</summary>
public sealed record BenchContributor(string Key, long KeyId)
{
    public static async Task<BenchContributor> CreateAsync(NpgsqlDataSource dataSource, string purpose)
    {
        var key = await ApiKeyStore.CreateAsync(dataSource, "contributor", $"{purpose} {DateTime.UtcNow:O}");
        await using var connection = await dataSource.OpenConnectionAsync();
        return new BenchContributor(key, await connection.ExecuteScalarAsync<long>("SELECT id FROM api_keys WHERE key_hash = @Hash", new { Hash = ApiKeyStore.Hash(key) }));
    }

    /// <summary>A valid case report of its own (DOI, title and Idempotency-Key), ready to POST.</summary>
    public HttpRequestMessage Submission()
    {
        var report = JsonNode.Parse(CaseReportExample.Json)!;
        report["source"]!["doi"] = $"10.5555/evidence.load.{Guid.NewGuid():N}";
        report["title"] = $"Load test case {Guid.NewGuid():N}";
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/case-reports") { Content = new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Api-Key", Key);
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return request;
    }

    /// <summary>
    /// Removes the run's submissions and the key: later runs start from the same data, and no backlog of
    /// duplicate-title searches is left for the next API started on this database.
    /// </summary>
    public async Task RemoveAsync(NpgsqlConnection connection)
    {
        await connection.ExecuteAsync("DELETE FROM submissions WHERE submitted_by = @KeyId", new { KeyId });
        // The key's own audit entries go with it: the bench key is not a key anyone manages.
        await connection.ExecuteAsync("DELETE FROM api_key_events WHERE key_id = @KeyId OR actor_key_id = @KeyId", new { KeyId });
        await connection.ExecuteAsync("DELETE FROM api_keys WHERE id = @KeyId", new { KeyId });
    }
}
