using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EvidenceApi.Tests.Database;

/// <summary>
/// Pooled connections are handed on without a reset, so no request may leave session state behind: the settings
/// that searches, synthesis and stats change must be transaction-local.
/// </summary>
public sealed class SessionStateTests(EvidenceApiFactory factory) : IClassFixture<EvidenceApiFactory>
{
    [Fact]
    public async Task RequestsThatChangeSettings_LeaveThePooledConnectionAsTheyFoundIt()
    {
        // Two connections: one listens for data changes, so every request runs on the other.
        await using var api = factory.WithWebHostBuilder(builder => builder
            .UseSetting("ConnectionStrings:Evidence", factory.ConnectionString + ";Maximum Pool Size=2")
            .UseSetting("ReadCache:Enabled", "false"));
        var client = api.CreateClient();
        foreach (var path in new[] { "/v1/studies?q=psoriasis&sort=title", "/v1/synthesis?measure=pasi_75", "/v1/stats?condition=psoriasis" })
        {
            var response = await client.GetAsync(path);
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode}");
        }

        var reads = api.Services.GetRequiredService<ReadDataSource>();
        await using var connection = await reads.Source.OpenConnectionAsync();
        var settings = await connection.QuerySingleAsync<(string PlanCacheMode, string StatementTimeout, string ReadOnly)>(
            "SELECT current_setting('plan_cache_mode'), current_setting('statement_timeout'), current_setting('transaction_read_only')");
        Assert.Equal(("auto", "10s", "off"), settings);
    }
}
