using System.Net;
using EvidenceApi.Tests.Infrastructure;
using EvidenceApi.Tests.Resilience;

namespace EvidenceApi.Tests.Caching;

/// <summary>A matching If-None-Match is answered 304 without touching the database: proved with the database stopped.</summary>
public sealed class NotModifiedTests : DedicatedClusterTests
{
    [Fact]
    public async Task IfNoneMatch_Is304_WithEveryServerProcessButTheListenersStopped()
    {
        var client = Api.CreateClient();
        using var probe = new CacheProbe(Api.Services);
        var etag = (await probe.WaitUntilServedFromCacheAsync(client, "/v1/studies?limit=5")).Headers.ETag;
        Assert.NotNull(etag);

        // Stop the postmaster (a new connection hangs) and every server process of the API but the change listener's,
        // which keeps the instance sure of its version: any query the API tried now would hang.
        await using var control = await ServerProcesses.OpenControlAsync(Database.ConnectionString);
        await using var frozen = new ServerProcesses();
        await frozen.StopAsync([ServerProcesses.Postmaster(Path.Combine(Database.Directory, "pgdata")), .. await ServerProcesses.ClientBackendsAsync(control, includeListener: false)]);

        foreach (var path in new[] { "/v1/studies?limit=5", "/v1/studies/cheng-2022-umsc-psoriasis-phase-1-2a", "/v1/outcomes?measure=pasi_40", "/v1/synthesis?measure=pasi_75", "/v1/stats" })
        {
            using var conditional = new HttpRequestMessage(HttpMethod.Get, path);
            conditional.Headers.IfNoneMatch.Add(etag);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var response = await client.SendAsync(conditional, deadline.Token);
            Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
            Assert.Equal(etag, response.Headers.ETag);
        }

        // The database really is out of reach: an answer that needs a query does not come.
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("/v1/interventions?limit=3", giveUp.Token));

        await frozen.ContinueAllAsync();
        await DatabaseOutageTests.EventuallyAsync(async () => (await client.GetAsync("/v1/interventions?limit=3")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30));
    }
}
