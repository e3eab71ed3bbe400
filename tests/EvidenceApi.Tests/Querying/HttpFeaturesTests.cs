using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CsvHelper;
using Dapper;
using EvidenceApi.Outcomes;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Tests.Infrastructure;
using Npgsql;

namespace EvidenceApi.Tests.Querying;

public sealed class HttpFeaturesTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private readonly HttpClient client = api.CreateClient();

    private static List<Dictionary<string, string>> ParseCsv(string text)
    {
        using var reader = new CsvReader(new StringReader(text), CultureInfo.InvariantCulture);
        return reader.GetRecords<dynamic>()
            .Select(row => ((IDictionary<string, object>)row).ToDictionary(p => p.Key, p => (string)p.Value))
            .ToList();
    }

    [Fact]
    public async Task StudiesCsv_ParsedBack_EqualsTheJson()
    {
        var json = await (await client.GetAsync("/v1/studies?sort=title&limit=200")).ShouldBeOkAsync<Page<StudySummary>>();
        var response = await client.GetAsync("/v1/studies?sort=title&format=csv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var rows = ParseCsv(await response.Content.ReadAsStringAsync());
        Assert.Equal(json.Items.Count, rows.Count);
        foreach (var (item, row) in json.Items.Zip(rows))
        {
            Assert.Equal(item.Id.ToString(CultureInfo.InvariantCulture), row["id"]);
            Assert.Equal(item.Key, row["key"]);
            Assert.Equal(item.Title, row["title"]);
            Assert.Equal(item.Design, row["design"]);
            Assert.Equal(item.ConditionSubtype ?? "", row["conditionSubtype"]);
            Assert.Equal(item.Participants?.ToString(CultureInfo.InvariantCulture) ?? "", row["participants"]);
            Assert.Equal(item.Year?.ToString(CultureInfo.InvariantCulture) ?? "", row["year"]);
            Assert.Equal(item.Doi ?? "", row["doi"]);
            Assert.Equal(string.Join("; ", item.Products), row["products"]);
            Assert.Equal(string.Join("; ", item.Measures), row["measures"]);
            Assert.Equal(item.OutcomeCount.ToString(CultureInfo.InvariantCulture), row["outcomeCount"]);
        }
    }

    [Fact]
    public async Task OutcomesCsv_ByAcceptHeader_HasEveryFilteredRowWithItsQuote()
    {
        var json = await (await client.GetAsync("/v1/outcomes?route=topical&limit=200")).ShouldBeOkAsync<Page<OutcomeListItem>>();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/outcomes?route=topical");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));

        var rows = ParseCsv(await (await client.SendAsync(request)).Content.ReadAsStringAsync());

        Assert.Equal(json.Items.Select(i => i.Outcome.Id.ToString(CultureInfo.InvariantCulture)), rows.Select(r => r["id"]));
        Assert.Equal(json.Items.Select(i => i.Outcome.Quote), rows.Select(r => r["quote"]));
        Assert.Equal(json.Items.Select(i => i.Study.Key), rows.Select(r => r["studyKey"]));
    }

    [Fact]
    public async Task InterventionsCsv_HonoursFiltersAndLimit()
    {
        var rows = ParseCsv(await (await client.GetAsync("/v1/interventions?route=intravenous&format=csv&limit=2")).Content.ReadAsStringAsync());
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal("intravenous", r["route"]));
    }

    [Fact]
    public async Task Get_HasStrongETag_AndAMatchingIfNoneMatchIs304WithoutBody()
    {
        var first = await client.GetAsync("/v1/studies?limit=5");
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.True(first.Headers.CacheControl is { Public: true, NoCache: true });

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/v1/studies?limit=5");
        conditional.Headers.IfNoneMatch.Add(etag);
        var second = await client.SendAsync(conditional);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, second.Headers.ETag);
    }

    [Fact]
    public async Task ETag_ChangesWhenTheDataChanges()
    {
        var before = (await client.GetAsync("/v1/studies/cheng-2022-umsc-psoriasis-phase-1-2a")).Headers.ETag;
        await using (var connection = new NpgsqlConnection(api.ConnectionString))
        {
            await connection.ExecuteAsync("UPDATE studies SET summary = summary || ' (revised)' WHERE key = 'cheng-2022-umsc-psoriasis-phase-1-2a'");
        }

        // The change reaches the API through NOTIFY, within milliseconds.
        HttpResponseMessage after;
        var tries = 0;
        do
        {
            using var conditional = new HttpRequestMessage(HttpMethod.Get, "/v1/studies/cheng-2022-umsc-psoriasis-phase-1-2a");
            conditional.Headers.IfNoneMatch.Add(before!);
            after = await client.SendAsync(conditional);
            if (after.StatusCode == HttpStatusCode.NotModified)
            {
                await Task.Delay(20);
            }
        }
        while (after.StatusCode == HttpStatusCode.NotModified && ++tries < 100);

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.NotEqual(before, after.Headers.ETag);
        Assert.EndsWith("(revised)", (await after.Content.ReadFromJsonAsync<StudyDetail>(HttpAssertions.Json))!.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrivateAnswers_AreNotStored()
    {
        var key = await api.CreateKeyAsync("contributor");
        var response = await api.CreateClient(key).GetAsync("/v1/submissions");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl is { Private: true, NoStore: true });
        Assert.Null(response.Headers.ETag);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public async Task JsonAndCsv_AreCompressed_AndDecompressToTheSameBody(string encoding)
    {
        foreach (var path in new[] { "/v1/studies?limit=200", "/v1/outcomes?format=csv" })
        {
            var plain = await client.GetByteArrayAsync(path);
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue(encoding));
            var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(encoding, Assert.Single(response.Content.Headers.ContentEncoding));
            var compressed = await response.Content.ReadAsByteArrayAsync();
            Assert.True(compressed.Length < plain.Length, $"{path}: {compressed.Length} bytes compressed, {plain.Length} plain");
            await using var decompressing = encoding == "br"
                ? (Stream)new System.IO.Compression.BrotliStream(new MemoryStream(compressed), System.IO.Compression.CompressionMode.Decompress)
                : new System.IO.Compression.GZipStream(new MemoryStream(compressed), System.IO.Compression.CompressionMode.Decompress);
            using var body = new MemoryStream();
            await decompressing.CopyToAsync(body);
            Assert.Equal(plain, body.ToArray());
        }
    }

    [Fact]
    public async Task LinkHeader_PointsToTheNextPage()
    {
        var first = await client.GetAsync("/v1/studies?sort=title&limit=2&design=case_report");
        var page = await first.ShouldBeOkAsync<Page<StudySummary>>();
        var link = first.Headers.GetValues("Link").Single();
        Assert.EndsWith("; rel=\"next\"", link, StringComparison.Ordinal);

        var url = link[(link.IndexOf('<', StringComparison.Ordinal) + 1)..link.IndexOf('>', StringComparison.Ordinal)];
        Assert.Contains("design=case_report", url, StringComparison.Ordinal);
        var second = await (await client.GetAsync(url)).ShouldBeOkAsync<Page<StudySummary>>();
        Assert.Empty(second.Items.Select(s => s.Id).Intersect(page.Items.Select(s => s.Id)));
        Assert.Equal(page.Total, second.Total);
    }

    [Fact]
    public async Task LastPage_HasNoLinkHeader()
    {
        var response = await client.GetAsync("/v1/studies?limit=200");
        Assert.False(response.Headers.Contains("Link"));
    }

    [Fact]
    public async Task Fields_KeepOnlyTheChosenFields()
    {
        var page = await (await client.GetAsync("/v1/studies?fields=id,title,year&limit=3")).ShouldBeOkAsync<JsonElement>();
        foreach (var item in page.GetProperty("items").EnumerateArray())
        {
            Assert.Equal(["id", "title", "year"], item.EnumerateObject().Select(p => p.Name).Order());
        }

        Assert.True(page.GetProperty("total").GetInt32() > 0);
    }

    [Fact]
    public async Task Fields_Unknown_IsProblemNamingFields()
    {
        var messages = await (await client.GetAsync("/v1/studies?fields=id,colour")).ShouldBeFieldErrorAsync("fields");
        Assert.Contains(messages, m => m.Contains("colour", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Format_Unknown_IsProblemNamingFormat() =>
        await (await client.GetAsync("/v1/studies?format=xml")).ShouldBeFieldErrorAsync("format");
}
