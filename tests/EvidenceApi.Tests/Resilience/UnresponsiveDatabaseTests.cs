using System.Diagnostics;
using System.Net;
using EvidenceApi.Tests.Infrastructure;
using Npgsql;

namespace EvidenceApi.Tests.Resilience;

/// <summary>
/// A database that accepts connections but never answers (not one that refuses them): the connect timeout and the
/// statement timeout still give 503 with Retry-After, in bounded time.
/// </summary>
public sealed class UnresponsiveDatabaseTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static string Through(StallingProxy proxy, string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Host = "127.0.0.1", Port = proxy.Port }.ConnectionString;

    [Fact]
    public async Task DatabaseThatNeverAnswersTheConnection_Is503WithinTheConnectTimeout()
    {
        using var blackHole = new StallingProxy(upstream: null);
        await using var api = TestApi.For(
            Through(blackHole, await TestPostgres.CreateSeededDatabaseAsync()),
            ("Database:MigrateOnStartup", "false"), ("Database:ConnectTimeoutSeconds", "1"));
        var client = api.CreateClient();

        foreach (var path in new[] { "/v1/studies?limit=3", "/v1/studies/cheng-2022-umsc-psoriasis-phase-1-2a", "/v1/stats" })
        {
            var timer = Stopwatch.StartNew();
            var response = await client.GetAsync(path);
            await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.NotNull(response.Headers.RetryAfter);
            output.WriteLine($"{path}: 503 after {timer.Elapsed.TotalSeconds:F1} s");
            Assert.True(timer.Elapsed < TimeSpan.FromSeconds(15), $"{path} took {timer.Elapsed.TotalSeconds:F1} s");
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task DatabaseThatStopsAnsweringMidSession_Is503WithinTheStatementTimeout()
    {
        var database = await TestPostgres.CreateSeededDatabaseAsync();
        var target = new NpgsqlConnectionStringBuilder(database);
        using var proxy = new StallingProxy(new IPEndPoint(IPAddress.Parse(target.Host == "localhost" ? "127.0.0.1" : target.Host!), target.Port));
        await using var api = TestApi.For(
            Through(proxy, database),
            ("Database:MigrateOnStartup", "false"), ("Database:ConnectTimeoutSeconds", "1"), ("Database:StatementTimeoutSeconds", "1"),
            ("ReadCache:Enabled", "false"));
        var client = api.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/studies?limit=3")).StatusCode);

        // The pooled connection stays open but nothing comes back: the server cannot time the statement out itself, so
        // the API's own command timeout (the statement timeout plus 5 s) must end it.
        proxy.Stall();
        var timer = Stopwatch.StartNew();
        var response = await client.GetAsync("/v1/studies?limit=3");

        await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(response.Headers.RetryAfter);
        output.WriteLine($"503 after {timer.Elapsed.TotalSeconds:F1} s");
        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(25), $"took {timer.Elapsed.TotalSeconds:F1} s");
    }
}
