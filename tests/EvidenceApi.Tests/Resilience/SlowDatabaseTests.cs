using System.Diagnostics;
using System.Net;
using Dapper;
using EvidenceApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Npgsql;

namespace EvidenceApi.Tests.Resilience;

/// <summary>A query stuck behind a lock is stopped by the statement timeout.</summary>
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

    [Fact]
    public async Task QueryStuckBehindALock_Is503WithinTheStatementTimeout()
    {
        var client = api.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/studies?limit=1")).StatusCode);
        await using var locker = await SlowDatabase.LockStudiesAsync(api.ConnectionString);

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

}

/// <summary>
/// Only a cancellation can end a query here: the statement timeout is two minutes. So a query that goes away while the
/// lock it waits for is still held was cancelled, by the client leaving or by the request timeout.
/// </summary>
public sealed class CancellationTests(CancellationTests.Api api) : IClassFixture<CancellationTests.Api>
{
    public sealed class Api : EvidenceApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Database:StatementTimeoutSeconds", "120");
            builder.UseSetting("Protection:RequestTimeoutSeconds", "2");
            builder.UseSetting("ReadCache:Enabled", "false");
        }
    }

    [Fact]
    public async Task ClientThatGivesUp_CancelsItsQuery()
    {
        var client = api.CreateClient();
        await using var locker = await SlowDatabase.LockStudiesAsync(api.ConnectionString);
        using var giveUp = new CancellationTokenSource();
        var request = client.GetAsync("/v1/studies/cheng-2022-umsc-psoriasis-phase-1-2a", giveUp.Token);

        // The request's query is waiting on the lock ...
        await DatabaseOutageTests.EventuallyAsync(async () => await SlowDatabase.WaitingQueriesAsync(api.ConnectionString) == 1, TimeSpan.FromSeconds(30));
        await giveUp.CancelAsync();

        // ... and goes away when the client does, though the lock is still held and no timeout could end it yet.
        await DatabaseOutageTests.EventuallyAsync(async () => await SlowDatabase.WaitingQueriesAsync(api.ConnectionString) == 0, TimeSpan.FromSeconds(30));
        Assert.True(await SlowDatabase.HoldsLockAsync(locker));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await locker.ExecuteAsync("ROLLBACK");
    }

    [Fact]
    public async Task RequestOverTheRequestTimeout_Is503Problem_AndItsQueryIsCancelled()
    {
        var client = api.CreateClient();
        await using var locker = await SlowDatabase.LockStudiesAsync(api.ConnectionString);

        var timer = Stopwatch.StartNew();
        var response = await client.GetAsync("/v1/studies?design=case_report");

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("too long", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(30), $"took {timer.Elapsed.TotalSeconds:F1} s");
        await DatabaseOutageTests.EventuallyAsync(async () => await SlowDatabase.WaitingQueriesAsync(api.ConnectionString) == 0, TimeSpan.FromSeconds(30));
        Assert.True(await SlowDatabase.HoldsLockAsync(locker));
        await locker.ExecuteAsync("ROLLBACK");
    }
}

/// <summary>Stats and synthesis may run up to the analytical timeout, longer than any other query, and no longer.</summary>
public sealed class AnalyticalTimeoutTests(AnalyticalTimeoutTests.Api api) : IClassFixture<AnalyticalTimeoutTests.Api>
{
    public sealed class Api : EvidenceApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Database:StatementTimeoutSeconds", "1");
            builder.UseSetting("Database:AnalyticalStatementTimeoutSeconds", "6");
            builder.UseSetting("ReadCache:Enabled", "false");
        }
    }

    [Theory]
    [InlineData("/v1/stats")]
    [InlineData("/v1/synthesis?measure=pasi_75")]
    public async Task Aggregate_MayWaitLongerThanTheStatementTimeout(string path)
    {
        var client = api.CreateClient();
        await using var locker = await SlowDatabase.LockStudiesAsync(api.ConnectionString);
        var request = client.GetAsync(path);

        // Waiting on the lock for two seconds, twice the statement timeout: only the analytical timeout applies.
        await DatabaseOutageTests.EventuallyAsync(async () => await SlowDatabase.WaitingQueriesAsync(api.ConnectionString) == 1, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(2));
        await locker.ExecuteAsync("ROLLBACK");

        Assert.Equal(HttpStatusCode.OK, (await request).StatusCode);
    }

    [Theory]
    [InlineData("/v1/stats")]
    [InlineData("/v1/synthesis?measure=pasi_75")]
    public async Task Aggregate_OverTheAnalyticalTimeout_Is503_AndItsQueryIsStopped(string path)
    {
        var client = api.CreateClient();
        await using var locker = await SlowDatabase.LockStudiesAsync(api.ConnectionString);

        var timer = Stopwatch.StartNew();
        var response = await client.GetAsync(path);

        await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.True(timer.Elapsed >= TimeSpan.FromSeconds(5), $"stopped after {timer.Elapsed.TotalSeconds:F1} s, before the analytical timeout");
        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(30), $"took {timer.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, await SlowDatabase.WaitingQueriesAsync(api.ConnectionString));
        await locker.ExecuteAsync("ROLLBACK");
    }
}

internal static class SlowDatabase
{
    /// <summary>A connection holding an exclusive lock on studies, in an open transaction: every read of studies waits.</summary>
    public static async Task<NpgsqlConnection> LockStudiesAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync("BEGIN; LOCK TABLE studies IN ACCESS EXCLUSIVE MODE;");
        return connection;
    }

    /// <summary>Queries of other sessions waiting for a lock.</summary>
    public static async Task<long> WaitingQueriesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND wait_event_type = 'Lock'");
    }

    public static async Task<bool> HoldsLockAsync(NpgsqlConnection locker) =>
        await locker.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'studies'::regclass AND granted)");
}
