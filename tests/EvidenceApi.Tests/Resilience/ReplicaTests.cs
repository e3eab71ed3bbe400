using System.Net;
using System.Text;
using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Caching;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EvidenceApi.Tests.Resilience;

/// <summary>A primary and a hot standby (pg_basebackup -R): reads go to the standby, writes to the primary, by connection string alone.</summary>
public sealed class ReplicaTests : IAsyncLifetime
{
    private DedicatedPostgres primary = null!;
    private EmbeddedPostgres standby = null!;
    private string standbyDirectory = "";

    public async Task InitializeAsync()
    {
        primary = await DedicatedPostgres.StartAsync(durable: false);
        standbyDirectory = primary.Directory + "-standby";
        standby = await EmbeddedPostgres.StartStandbyAsync(EmbeddedPostgres.FindServerBinaries()!, standbyDirectory, primary.Server, _ => { });
    }

    public async Task DisposeAsync()
    {
        await standby.StopAsync();
        await primary.DisposeAsync();
        try
        {
            Directory.Delete(standbyDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Temporary folder; harmless if left.
        }
    }

    /// <summary>The read cache is on: an answer is cached under a version only once the standby has replayed it.</summary>
    [Fact]
    public async Task Reads_AreServedByTheStandby_WritesByThePrimary_AndReadsSurviveTheStandbyGoing()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(primary.ConnectionString)
        {
            Host = $"127.0.0.1:{primary.Server.Port},127.0.0.1:{standby.Port}",
            Port = 5432,
        }.ConnectionString;
        await using var api = TestApi.For(connectionString);
        var client = api.CreateClient();
        using var probe = new CacheProbe(api.Services);
        string key;
        await using (var dataSource = NpgsqlDataSource.Create(primary.ConnectionString))
        {
            key = await EvidenceApi.ApiKeys.ApiKeyStore.CreateAsync(dataSource, "contributor", "replica test");
        }

        await using var standbyConnection = new NpgsqlConnection(standby.ConnectionString());
        await standbyConnection.OpenAsync();
        Assert.True(await standbyConnection.ExecuteScalarAsync<bool>("SELECT pg_is_in_recovery()"));
        await DatabaseOutageTests.EventuallyAsync(
            async () => await standbyConnection.ExecuteScalarAsync<long>("SELECT count(*) FROM api_keys") == 1, TimeSpan.FromSeconds(10));

        Assert.Empty((await (await probe.WaitUntilServedFromCacheAsync(client, "/v1/studies?condition=probeitis")).ShouldBeOkAsync<Page<StudySummary>>()).Items);

        // Freeze the standby, then add a study on the primary: the API must not see it, because it reads from the standby.
        await standbyConnection.ExecuteAsync("SELECT pg_wal_replay_pause()");
        long version;
        await using (var primaryConnection = new NpgsqlConnection(primary.ConnectionString))
        {
            await primaryConnection.ExecuteAsync("INSERT INTO studies (key, title, design, condition) VALUES ('replica-probe', 'Replica probe', 'case_report', 'probeitis')");
            version = await primaryConnection.ExecuteScalarAsync<long>("SELECT version FROM data_version");
        }

        // The instance hears the new version from the primary while the standby still serves the old data: that answer
        // must not be tagged or cached as the new version, or it would outlive the replay.
        var dataVersion = api.Services.GetRequiredService<DataVersion>();
        await DatabaseOutageTests.EventuallyAsync(() => Task.FromResult(dataVersion.Current == version), TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/studies/replica-probe")).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            var lagging = await client.GetAsync("/v1/studies?condition=probeitis");
            Assert.Empty((await lagging.ShouldBeOkAsync<Page<StudySummary>>()).Items);
            Assert.NotEqual($"\"v{version}\"", lagging.Headers.ETag?.Tag);
        }

        // Writes go to the primary meanwhile.
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.replica.{Guid.NewGuid():N}";
        using var submit = new HttpRequestMessage(HttpMethod.Post, "/v1/case-reports") { Content = new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json") };
        submit.Headers.Add("X-Api-Key", key);
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(submit)).StatusCode);

        // Once the standby has replayed the version, the very next read sees the study, and is cached under it.
        await standbyConnection.ExecuteAsync("SELECT pg_wal_replay_resume()");
        await DatabaseOutageTests.EventuallyAsync(
            async () => await standbyConnection.ExecuteScalarAsync<long>("SELECT version FROM data_version") >= version, TimeSpan.FromSeconds(10));
        var replayed = await client.GetAsync("/v1/studies?condition=probeitis");
        Assert.Single((await replayed.ShouldBeOkAsync<Page<StudySummary>>()).Items);
        Assert.Equal($"\"v{version}\"", replayed.Headers.ETag?.Tag);
        await probe.WaitUntilServedFromCacheAsync(client, "/v1/studies?condition=probeitis");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/studies/replica-probe")).StatusCode);

        // Without the standby, reads fall back to the primary.
        await standbyConnection.CloseAsync();
        await standby.StopAsync();
        await DatabaseOutageTests.EventuallyAsync(
            async () => (await client.GetAsync("/v1/studies?condition=probeitis")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/studies/replica-probe")).StatusCode);
    }
}
