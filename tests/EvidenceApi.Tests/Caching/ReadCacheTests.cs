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

    [Fact]
    public async Task QueryParameterOrder_DoesNotSplitTheCache()
    {
        var client = api.CreateClient();
        var a = await client.GetStringAsync("/v1/studies?design=case_report&sort=title&limit=5");
        var b = await client.GetStringAsync("/v1/studies?limit=5&sort=title&design=case_report");
        Assert.Equal(a, b);
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

        var before = await (await client.GetAsync("/v1/studies?design=case_report&limit=200")).ShouldBeOkAsync<Page<StudySummary>>();
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
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/studies/cache-seed-study")).StatusCode);
        await client.GetAsync("/v1/studies?condition=cachitis");

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
