using System.Diagnostics;
using System.Net;
using Dapper;
using EvidenceApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Npgsql;

namespace EvidenceApi.Tests.Resilience;

/// <summary>A query stuck behind a lock is stopped by the statement timeout, and a client that gives up cancels its query.</summary>
public sealed class SlowDatabaseTests(SlowDatabaseTests.Api api) : IClassFixture<SlowDatabaseTests.Api>
{
    public sealed class Api : EvidenceApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Database:StatementTimeoutSeconds", "1");
            builder.UseSetting("ReadCache:Enabled", "false");
        }
    }

    private async Task<NpgsqlConnection> LockStudiesAsync()
    {
        var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync("BEGIN; LOCK TABLE studies IN ACCESS EXCLUSIVE MODE;");
        return connection;
    }

    private async Task<long> WaitingApiQueriesAsync()
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND wait_event_type = 'Lock'");
    }

    [Fact]
    public async Task QueryStuckBehindALock_Is503WithinTheStatementTimeout()
    {
        var client = api.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/studies?limit=1")).StatusCode);
        await using var locker = await LockStudiesAsync();

        var timer = Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => client.GetAsync("/v1/studies?limit=3")));

        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(4), $"took {timer.Elapsed.TotalSeconds:F1} s");
        foreach (var response in responses)
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.NotNull(response.Headers.RetryAfter);
        }

        await locker.ExecuteAsync("ROLLBACK");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/studies?limit=3")).StatusCode);
    }

    [Fact]
    public async Task ClientThatGivesUp_CancelsItsQuery()
    {
        var client = api.CreateClient();
        await using var locker = await LockStudiesAsync();
        using var giveUp = new CancellationTokenSource();
        var request = client.GetAsync("/v1/studies/cheng-2022-umsc-psoriasis-phase-1-2a", giveUp.Token);

        // The request's query is waiting on the lock ...
        await DatabaseOutageTests.EventuallyAsync(async () => await WaitingApiQueriesAsync() == 1, TimeSpan.FromMilliseconds(800));
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);

        // ... and goes away when the client does, well before the 1 s statement timeout could end it.
        await DatabaseOutageTests.EventuallyAsync(async () => await WaitingApiQueriesAsync() == 0, TimeSpan.FromMilliseconds(450));
        await locker.ExecuteAsync("ROLLBACK");
    }
}
