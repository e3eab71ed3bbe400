using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;
using Npgsql;

namespace EvidenceApi.Tests.Observability;

/// <summary>
/// The built API in a process of its own, so that /metrics counts what this class does and nothing else. Title searches
/// are always left to the background worker, so that a pending search can be held and seen.
/// </summary>
public sealed class ObservedApi : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";

    public ApiProcess Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = await TestPostgres.CreateSeededDatabaseAsync();
        Process = ApiProcess.Start(ConnectionString, environment: new Dictionary<string, string> { ["Submissions__TitleCheckWaitMilliseconds"] = "0" });
        await Process.WaitUntilReadyAsync();
    }

    public Task DisposeAsync()
    {
        Process.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class MetricsTests(ObservedApi api) : IClassFixture<ObservedApi>
{
    private const string Submissions = "evidence_submissions_total";
    private const string CacheLookups = "evidence_read_cache_lookups_total";
    private const string CacheSize = "evidence_read_cache_size_bytes";
    private const string CacheEntries = "evidence_read_cache_entries";
    private const string DataVersion = "evidence_data_version";
    private const string TitleChecksPending = "evidence_title_checks_pending";

    private HttpClient Client => api.Process.Client;

    private Task<PrometheusScrape> ScrapeAsync() => PrometheusScrape.FromAsync(Client);

    /// <summary>
    /// Scrapes until <paramref name="condition"/> holds: the exporter may answer from a scrape made a moment earlier, and the
    /// gauges follow the database and the worker a moment later.
    /// </summary>
    private async Task<PrometheusScrape> ScrapeUntilAsync(Func<PrometheusScrape, bool> condition, string what)
    {
        var scrape = await ScrapeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition(scrape) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            scrape = await ScrapeAsync();
        }

        Assert.True(condition(scrape), $"Within 30 s, expected {what}; the scrape had:\n{string.Join('\n', scrape.Samples.Where(s => s.Name.StartsWith("evidence_", StringComparison.Ordinal)))}");
        return scrape;
    }

    private async Task<HttpClient> ContributorAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(api.ConnectionString);
        var client = new HttpClient { BaseAddress = Client.BaseAddress };
        client.DefaultRequestHeaders.Add("X-Api-Key", await EvidenceApi.ApiKeys.ApiKeyStore.CreateAsync(dataSource, "contributor", "metrics test"));
        return client;
    }

    private static JsonNode UniqueReport()
    {
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.metrics.{Guid.NewGuid():N}";
        report["source"]!["url"] = null;
        report["title"] = $"Metrics case {Guid.NewGuid():N}: secretome for scalp psoriasis";
        return report;
    }

    private static HttpRequestMessage Submit(JsonNode report, string? idempotencyKey = null) => Submit(report.ToJsonString(), idempotencyKey);

    private static HttpRequestMessage Submit(string body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/case-reports") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return request;
    }

    private async Task<long> DatabaseVersionAsync()
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        return await connection.ExecuteScalarAsync<long>("SELECT version FROM data_version WHERE id = 1");
    }

    [Fact]
    public async Task Scrape_HasHttpDatabaseAndRuntimeMetrics_InPrometheusFormat()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/v1/studies?limit=2&includeTotal=false&sort=title")).StatusCode);

        var scrape = await ScrapeUntilAsync(
            s => s.Value("http_server_request_duration_seconds_count", ("http_route", "/v1/studies/"), ("http_response_status_code", "200")) >= 1,
            "the read of /v1/studies in the HTTP server metrics");

        Assert.True(scrape.Has("target_info", ("service_name", "EvidenceApi")));
        Assert.True(scrape.Value("db_client_operation_duration_seconds_count") >= 1, "no Npgsql command duration");
        Assert.True(scrape.Has("db_client_connection_max"), "no Npgsql pool size");
        Assert.True(scrape.Value("dotnet_gc_heap_total_allocated_bytes_total") > 0, "no runtime metrics");
        Assert.True(scrape.Value("dotnet_process_cpu_time_seconds_total") > 0, "no process CPU time");
    }

    [Fact]
    public async Task Submissions_AreCountedByOutcome()
    {
        var client = await ContributorAsync();
        var before = await ScrapeAsync();
        double Before(string outcome) => before.Value(Submissions, ("outcome", outcome));

        var report = UniqueReport();
        var key = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(Submit(report, key))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(Submit(report, key))).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await client.SendAsync(Submit(UniqueReport(), key))).StatusCode);

        var sameDoi = UniqueReport();
        sameDoi["source"]!["doi"] = report["source"]!["doi"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.Conflict, (await client.SendAsync(Submit(sameDoi))).StatusCode);

        await (await client.SendAsync(Submit(CaseReportValidatorTests.With(UniqueReport(), "patient.age", 130)))).ShouldBeFieldErrorAsync("patient.age");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(Submit("{ not json"))).StatusCode);

        var expected = new Dictionary<string, double>
        {
            ["accepted"] = Before("accepted") + 1,
            ["replayed"] = Before("replayed") + 1,
            ["key_reused"] = Before("key_reused") + 1,
            ["duplicate"] = Before("duplicate") + 1,
            ["rejected"] = Before("rejected") + 2,
        };
        var after = await ScrapeUntilAsync(
            s => expected.All(e => s.Value(Submissions, ("outcome", e.Key)) == e.Value),
            string.Join(", ", expected.Select(e => $"{e.Key} {e.Value}")));
        Assert.Equal(expected.Values.Sum(), after.Value(Submissions));
    }

    [Fact]
    public async Task ReadCache_CountsAMissThenHits_AndReportsItsSize()
    {
        await ScrapeUntilAsync(s => s.Value(DataVersion) > 0, "a known data version (the cache serves only then)");
        var before = await ScrapeAsync();
        var path = $"/v1/outcomes?limit=3&offset={Random.Shared.Next(1, 1000)}&includeTotal=false";

        var first = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = await first.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync(path)).StatusCode);

        var after = await ScrapeUntilAsync(
            s => s.Value(CacheLookups, ("result", "miss")) == before.Value(CacheLookups, ("result", "miss")) + 1
                 && s.Value(CacheLookups, ("result", "hit")) == before.Value(CacheLookups, ("result", "hit")) + 2,
            "one more miss and two more hits");
        Assert.Equal(before.Value(CacheEntries) + 1, after.Value(CacheEntries));
        Assert.True(after.Value(CacheSize) - before.Value(CacheSize) >= body.Length, $"the cache grew by {after.Value(CacheSize) - before.Value(CacheSize)} bytes for a body of {body.Length}");
    }

    [Fact]
    public async Task DataVersion_FollowsTheDatabase()
    {
        var current = await DatabaseVersionAsync();
        await ScrapeUntilAsync(s => s.Value(DataVersion) == current, $"data version {current}");

        await using (var connection = new NpgsqlConnection(api.ConnectionString))
        {
            current = await connection.ExecuteScalarAsync<long>("SELECT bump_data_version()");
        }

        await ScrapeUntilAsync(s => s.Value(DataVersion) == current, $"data version {current} after a change");
    }

    [Fact]
    public async Task TitleSearchesPending_RiseWhileOneIsHeld_AndFallWhenItIsDone()
    {
        var client = await ContributorAsync();
        await ScrapeUntilAsync(s => s.Has(TitleChecksPending) && s.Value(TitleChecksPending) == 0, "no pending title search");

        // A submission left pending, claimed by "another instance": an advisory lock the worker cannot take, held by this test.
        await using var holder = new NpgsqlConnection(api.ConnectionString);
        await holder.OpenAsync();
        await using (var transaction = await holder.BeginTransactionAsync())
        {
            var keyId = await holder.ExecuteScalarAsync<long>("SELECT id FROM api_keys ORDER BY id DESC LIMIT 1", transaction: transaction);
            var held = await holder.ExecuteScalarAsync<long>(
                "INSERT INTO submissions (report, title, submitted_by) VALUES ('{}', 'Held title search', @KeyId) RETURNING id", new { KeyId = keyId }, transaction);
            await holder.ExecuteAsync("SELECT pg_advisory_lock(hashtextextended('duplicate-title-check', @Id))", new { Id = held }, transaction);
            await transaction.CommitAsync();
        }

        // A submission wakes the worker: it finishes that one and counts the held one as still pending.
        var woken = await client.SendAsync(Submit(UniqueReport()));
        Assert.Equal(HttpStatusCode.Created, woken.StatusCode);
        await ScrapeUntilAsync(s => s.Value(TitleChecksPending) == 1, "the held search pending");

        await holder.ExecuteAsync("SELECT pg_advisory_unlock_all()");
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(Submit(UniqueReport()))).StatusCode);
        await ScrapeUntilAsync(s => s.Value(TitleChecksPending) == 0, "no pending title search once the lock is released");
    }
}
