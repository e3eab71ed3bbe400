using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using EvidenceApi.Caching;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Submissions;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EvidenceApi.Tests.Caching;

public sealed class ReadCacheTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private const string Cheng = "cheng-2022-umsc-psoriasis-phase-1-2a";

    /// <summary>Changes a study without moving the data version (triggers off), so only a query could see it.</summary>
    internal static async Task ChangeBehindTheCacheAsync(string connectionString, string summary)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync("SET session_replication_role = replica");
        await connection.ExecuteAsync("UPDATE studies SET summary = @Summary WHERE key = @Key", new { Summary = summary, Key = Cheng });
    }

    private async Task<long> VersionAsync() => await api.QueryScalarAsync<long>("SELECT version FROM data_version");

    private async Task WaitForVersionAsync(long version)
    {
        var dataVersion = api.Services.GetRequiredService<DataVersion>();
        for (var i = 0; i < 100 && dataVersion.Current != version; i++)
        {
            await Task.Delay(20);
        }

        Assert.Equal(version, dataVersion.Current);
    }

    [Fact]
    public async Task RepeatedRead_IsServedFromMemory_UntilTheVersionMoves()
    {
        var client = api.CreateClient();

        // The cache serves only while the API hears the database; wait until it does.
        await WaitForVersionAsync(await VersionAsync());
        var first = await (await client.GetAsync($"/v1/studies/{Cheng}")).ShouldBeOkAsync<StudyDetail>();

        await ChangeBehindTheCacheAsync(api.ConnectionString, "changed behind the cache");
        var cached = await (await client.GetAsync($"/v1/studies/{Cheng}")).ShouldBeOkAsync<StudyDetail>();
        Assert.Equal(first.Summary, cached.Summary);

        var bumped = await api.QueryScalarAsync<long>("SELECT bump_data_version()");
        await WaitForVersionAsync(bumped);
        var fresh = await (await client.GetAsync($"/v1/studies/{Cheng}")).ShouldBeOkAsync<StudyDetail>();
        Assert.Equal("changed behind the cache", fresh.Summary);
    }

    [Fact]
    public async Task ETag_IsTheDataVersion_AndA304NeedsNoQuery()
    {
        var client = api.CreateClient();
        var version = await VersionAsync();
        await WaitForVersionAsync(version);

        var response = await client.GetAsync("/v1/studies?limit=3&sort=title");
        Assert.Equal($"\"v{version}\"", response.Headers.ETag?.Tag);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/v1/outcomes?measure=pasi_40");
        conditional.Headers.TryAddWithoutValidation("If-None-Match", $"\"v{version}\"");
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(conditional)).StatusCode);
    }

    [Theory]
    [InlineData("/v1/studies?design=case_report&sort=title&limit=5", "/v1/studies?limit=5&sort=title&design=case_report")]
    [InlineData("/v1/studies?design=case_report&sort=title&limit=5", "/v1/studies?Design=case_report&SORT=title&Limit=5")]
    [InlineData("/v1/outcomes?measure=pasi_40&route=intravenous", "/v1/outcomes?route=intravenous&MEASURE=pasi_40")]
    [InlineData($"/v1/studies/{Cheng}", "/v1/studies/CHENG-2022-UMSC-PSORIASIS-PHASE-1-2A")]
    [InlineData("/v1/synthesis?measure=pasi_40&review=paganelli-2020-msc-psoriasis-review", "/v1/synthesis?review=paganelli-2020-msc-psoriasis-review&measure=pasi_40")]
    public async Task TheSameRequest_InAnotherParameterOrderOrCase_SharesOneCacheEntry(string first, string same)
    {
        var client = api.CreateClient();
        using var probe = new CacheProbe(api.Services);
        var cached = await probe.WaitUntilServedFromCacheAsync(client, first);

        var (response, fromCache) = await probe.SendAsync(client, new HttpRequestMessage(HttpMethod.Get, same));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(fromCache, $"{same} was not served from the entry of {first}");
        Assert.Equal(await cached.Content.ReadAsStringAsync(), await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Requests that differ in meaning never share an answer: each, read cold and again warm, in any order, answers as
    /// an instance without a cache does. Among them: a value in another case (a vocabulary code is 400 in upper case),
    /// a study key in upper case before its lower-case twin was cached, repeated parameters, another sort, a cursor.
    /// </summary>
    [Fact]
    public async Task DifferentRequests_NeverShareAnAnswer_AndEachAnswersAsWithoutACache()
    {
        await using var uncached = TestApi.For(api.ConnectionString, ("ReadCache:Enabled", "false"));
        var reference = uncached.CreateClient();
        var client = api.CreateClient();
        var firstPage = await (await reference.GetAsync("/v1/studies?sort=title&limit=3")).ShouldBeOkAsync<Page<StudySummary>>();
        string[] paths =
        [
            "/v1/studies/CHENG-2022-UMSC-PSORIASIS-PHASE-1-2A", $"/v1/studies/{Cheng}", "/v1/studies/no-such-study",
            "/v1/studies?design=case_report&sort=title&limit=5", "/v1/studies?design=CASE_REPORT&sort=title&limit=5",
            "/v1/studies?design=case_report&sort=-title&limit=5", "/v1/studies?design=case_report,rct&limit=5",
            "/v1/studies?design=case_report&design=rct&limit=5", "/v1/studies?design=case_report%2Crct&limit=5",
            "/v1/studies?q=Secretome", "/v1/studies?q=secretome%20-scalp", "/v1/studies?q=%22scalp%20psoriasis%22",
            "/v1/studies?sort=title&limit=3", $"/v1/studies?sort=title&limit=3&cursor={firstPage.Next}",
            $"/v1/studies?sort=title&limit=3&cursor={firstPage.Next!.ToUpperInvariant()}",
            "/v1/studies?fields=id,title&limit=2", "/v1/studies?fields=id,key&limit=2", "/v1/studies?limit=2&includeTotal=false",
            "/v1/outcomes?measure=pasi_40", "/v1/outcomes?measure=PASI_40", "/v1/outcomes?minWeeks=10", "/v1/outcomes?minWeeks=10.0",
            "/v1/synthesis?measure=pasi_40", "/v1/synthesis?measure=pasi_40&review=PAGANELLI-2020-MSC-PSORIASIS-REVIEW",
            "/v1/stats?condition=psoriasis", "/v1/stats?condition=Psoriasis", "/v1/stats?condition=lupus",
        ];

        foreach (var path in paths.Concat(paths.Reverse()))
        {
            var expected = await reference.GetAsync(path);
            var actual = await client.GetAsync(path);
            Assert.True(expected.StatusCode == actual.StatusCode, $"{path}: {(int)actual.StatusCode} with the cache, {(int)expected.StatusCode} without");
            if (expected.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal(await expected.Content.ReadAsStringAsync(), await actual.Content.ReadAsStringAsync());
            }
        }
    }

    [Fact]
    public async Task Publish_IsVisibleToTheVeryNextRead()
    {
        var client = api.CreateClient();
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var curator = api.CreateClient(await api.CreateKeyAsync("curator"));
        var title = $"Cache freshness {Guid.NewGuid():N}";
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.cache.{Guid.NewGuid():N}";
        report["title"] = title;

        // The answer before the publish must really come from memory, or the test could not tell a stale cache.
        using var probe = new CacheProbe(api.Services);
        var before = await (await probe.WaitUntilServedFromCacheAsync(client, "/v1/studies?design=case_report&limit=200")).ShouldBeOkAsync<Page<StudySummary>>();
        Assert.DoesNotContain(before.Items, s => s.Title == title);

        var submitted = await (await contributor.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json")))
            .Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json);
        (await curator.PostAsJsonAsync($"/v1/submissions/{submitted!.Id}/publish", new { reason = "ok" })).EnsureSuccessStatusCode();

        var after = await (await client.GetAsync("/v1/studies?design=case_report&limit=200")).ShouldBeOkAsync<Page<StudySummary>>();
        Assert.Contains(after.Items, s => s.Title == title);
    }

    [Fact]
    public async Task SeedLoadedByAnotherProcess_IsHeardThroughNotify()
    {
        var client = api.CreateClient();
        using var probe = new CacheProbe(api.Services);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/studies/cache-seed-study")).StatusCode);
        Assert.Empty((await (await probe.WaitUntilServedFromCacheAsync(client, "/v1/studies?condition=cachitis")).ShouldBeOkAsync<Page<StudySummary>>()).Items);

        await api.SeedAsync(new Dictionary<string, string>
        {
            ["cache-seed.json"] = """
                { "source": { "title": "Cache seed" },
                  "studies": [ { "key": "cache-seed-study", "title": "Cache seed study", "design": "case_report", "condition": "cachitis" } ] }
                """,
        });
        await WaitForVersionAsync(await VersionAsync());

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/studies/cache-seed-study")).StatusCode);
        var page = await (await client.GetAsync("/v1/studies?condition=cachitis")).ShouldBeOkAsync<Page<StudySummary>>();
        Assert.Single(page.Items);
    }
}

/// <summary>A change made straight in SQL, by no instance of the API, reaches every cached endpoint that shows it.</summary>
public sealed class SqlChangeTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private const string Cheng = "cheng-2022-umsc-psoriasis-phase-1-2a";

    [Fact]
    public async Task ChangeMadeInSql_IsSeenByTheFirstReadOfEveryEndpointThatShowsIt()
    {
        var client = api.CreateClient();
        using var probe = new CacheProbe(api.Services);
        const string title = "Retitled in SQL";
        var reads = new (string Path, Func<string, bool> ShowsChange)[]
        {
            ("/v1/studies?limit=200", body => body.Contains(title, StringComparison.Ordinal)),
            ($"/v1/studies/{Cheng}", body => body.Contains(title, StringComparison.Ordinal)),
            ("/v1/interventions?limit=200", body => body.Contains(title, StringComparison.Ordinal)),
            ("/v1/outcomes?limit=200", body => body.Contains(title, StringComparison.Ordinal)),
            ("/v1/synthesis?measure=pasi_40", body => body.Contains(title, StringComparison.Ordinal)),
            ("/v1/stats", body => body.Contains("Testland", StringComparison.Ordinal)),
            ("/v1/vocabularies", body => body.Contains("Cells relabelled in SQL", StringComparison.Ordinal)),
        };

        // Every answer comes from memory before the change, so a missed invalidation would show.
        foreach (var (path, showsChange) in reads)
        {
            Assert.False(showsChange(await (await probe.WaitUntilServedFromCacheAsync(client, path)).Content.ReadAsStringAsync()), path);
        }

        long version;
        await using (var connection = new NpgsqlConnection(api.ConnectionString))
        {
            await connection.ExecuteAsync("UPDATE studies SET title = @Title, country = 'Testland' WHERE key = @Key", new { Title = title, Key = Cheng });
            await connection.ExecuteAsync("UPDATE products SET label = 'Cells relabelled in SQL' WHERE code = 'msc_cells'");
            version = await connection.ExecuteScalarAsync<long>("SELECT version FROM data_version");
        }

        // The API learns of the change when the NOTIFY arrives (milliseconds after the commit); from then on, the first
        // read of every endpoint shows it: no retry.
        var dataVersion = api.Services.GetRequiredService<DataVersion>();
        await Resilience.DatabaseOutageTests.EventuallyAsync(() => Task.FromResult(dataVersion.Current >= version), TimeSpan.FromSeconds(10));
        foreach (var (path, showsChange) in reads)
        {
            var response = await client.GetAsync(path);
            Assert.True(showsChange(await response.Content.ReadAsStringAsync()), $"{path} did not show the change");
            Assert.Equal($"\"v{version}\"", response.Headers.ETag?.Tag);
        }
    }
}

/// <summary>With the cache off, every read goes to the database.</summary>
public sealed class ReadCacheOffTests(ReadCacheOffTests.Api api) : IClassFixture<ReadCacheOffTests.Api>
{
    public sealed class Api : EvidenceApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("ReadCache:Enabled", "false");
        }
    }

    [Fact]
    public async Task Read_WithCacheOff_SeesAChangeAtOnce()
    {
        var client = api.CreateClient();
        await client.GetAsync("/v1/studies/cheng-2022-umsc-psoriasis-phase-1-2a");

        await ReadCacheTests.ChangeBehindTheCacheAsync(api.ConnectionString, "seen without cache");

        var study = await (await client.GetAsync("/v1/studies/cheng-2022-umsc-psoriasis-phase-1-2a")).ShouldBeOkAsync<StudyDetail>();
        Assert.Equal("seen without cache", study.Summary);
    }
}
