using System.Diagnostics;
using System.Net;
using System.Text;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Resilience;

/// <summary>The database goes away and comes back; the API answers 503 quickly meanwhile and recovers by itself.</summary>
public sealed class DatabaseOutageTests : DedicatedClusterTests
{
    [Fact]
    public async Task DatabaseDown_Answers503Quickly_LiveStaysHealthy_AndRecoversWithoutRestart()
    {
        var client = Api.CreateClient();
        var key = await CreateKeyAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/studies?limit=5")).StatusCode);

        await Database.StopAsync();

        await EventuallyAsync(async () => (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        foreach (var path in new[] { "/v1/studies?limit=5", "/v1/studies/cheng-2022-umsc-psoriasis-phase-1-2a", "/v1/outcomes?measure=pasi_40", "/v1/synthesis?measure=pasi_75", "/v1/stats" })
        {
            var timer = Stopwatch.StartNew();
            var response = await client.GetAsync(path);
            Assert.True(timer.Elapsed < TimeSpan.FromSeconds(1), $"{path} took {timer.Elapsed.TotalMilliseconds:F0} ms");
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.DoesNotContain("Npgsql", problem.GetRawText(), StringComparison.Ordinal);
        }

        var write = await Api.CreateClient().SendAsync(SubmitRequest(key));
        await write.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);

        await Database.RestartAsync();
        var recovered = Stopwatch.StartNew();
        await EventuallyAsync(async () => (await client.GetAsync("/v1/studies?limit=5")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(5));
        await EventuallyAsync(async () => (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(5));
        Assert.True(recovered.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.Created, (await Api.CreateClient().SendAsync(SubmitRequest(key))).StatusCode);
    }

    private async Task<string> CreateKeyAsync()
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(Database.ConnectionString);
        return await EvidenceApi.ApiKeys.ApiKeyStore.CreateAsync(dataSource, "contributor", "outage test");
    }

    private static HttpRequestMessage SubmitRequest(string key)
    {
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.outage.{Guid.NewGuid():N}";
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/case-reports") { Content = new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Api-Key", key);
        return request;
    }

    internal static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var timer = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(timer.Elapsed < within, $"Condition not met within {within.TotalSeconds} s");
            await Task.Delay(100);
        }
    }
}
