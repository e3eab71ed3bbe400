using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Contract;

/// <summary>HEAD answers like GET without the body; a query parameter an operation does not take is a 400 naming it.</summary>
public sealed class HttpConventionTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    /// <summary>Values for the path parameters and required query parameters of the document's operations.</summary>
    private static readonly Dictionary<string, string> Samples = new(StringComparer.Ordinal)
    {
        ["/v1/studies/{id}"] = "/v1/studies/srivastava-2024-scalp-secretome",
        ["/v1/synthesis"] = "/v1/synthesis?measure=clinical_response",
    };

    private async Task<(Dictionary<string, string> Samples, string CuratorKey)> SamplesAsync()
    {
        var samples = new Dictionary<string, string>(Samples, StringComparer.Ordinal);
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.head.{Guid.NewGuid():N}";
        report["title"] = $"Head case {Guid.NewGuid():N}";
        var created = await api.CreateClient(await api.CreateKeyAsync("contributor"))
            .PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json"));
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        samples["/v1/submissions/{id}"] = $"/v1/submissions/{id}";
        samples["/v1/submissions/{id}/events"] = $"/v1/submissions/{id}/events";
        samples["/v1/submissions/{id}/publish"] = $"/v1/submissions/{id}/publish";
        samples["/v1/submissions/{id}/reject"] = $"/v1/submissions/{id}/reject";

        var curatorKey = await api.CreateKeyAsync("curator");
        var issued = await api.CreateClient(curatorKey)
            .PostAsync("/v1/keys", new StringContent("{\"name\": \"Head sample\"}", Encoding.UTF8, "application/json"));
        var keyId = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        samples["/v1/keys/{id}"] = $"/v1/keys/{keyId}";
        samples["/v1/keys/{id}/revoke"] = $"/v1/keys/{keyId}/revoke";
        return (samples, curatorKey);
    }

    private static string Url(Dictionary<string, string> samples, string template)
    {
        if (samples.TryGetValue(template, out var url))
        {
            return url;
        }

        Assert.False(template.Contains('{', StringComparison.Ordinal), $"Add a sample URL for {template} to {nameof(HttpConventionTests)}.{nameof(Samples)}.");
        return template;
    }

    [Fact]
    public async Task Head_OnEveryGetOperation_AnswersLikeGetWithoutTheBody()
    {
        var contract = await OpenApiContract.LoadAsync(api.CreateClient());
        var (samples, curatorKey) = await SamplesAsync();
        var urls = contract.Operations().Where(o => o.Method == "GET").Select(o => Url(samples, o.Path))
            .Concat(["/swagger/v1/swagger.json", "/v1/studies?format=csv&limit=2", "/v1/outcomes?fields=outcome&limit=3", "/v1/studies/999999", "/v1/studies?limit=0", "/v1/studies?study=1"])
            .ToList();
        Assert.Contains("/v1/studies", urls);

        foreach (var url in urls)
        {
            var needsKey = url.StartsWith("/v1/submissions", StringComparison.Ordinal) || url.StartsWith("/v1/keys", StringComparison.Ordinal);
            var client = needsKey ? api.CreateClient(curatorKey) : api.CreateClient();
            var get = await client.GetAsync(url);
            var getBody = await get.Content.ReadAsByteArrayAsync();
            var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));

            Assert.True(get.StatusCode == head.StatusCode, $"HEAD {url}: {(int)head.StatusCode}, GET: {(int)get.StatusCode}");
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
            Assert.Equal(get.Headers.ETag, head.Headers.ETag);
            Assert.Equal(get.Headers.CacheControl?.ToString(), head.Headers.CacheControl?.ToString());
            Assert.Equal(get.Content.Headers.ContentType?.ToString(), head.Content.Headers.ContentType?.ToString());
            Assert.Equal(get.Headers.TryGetValues("Link", out var link) ? link : null, head.Headers.TryGetValues("Link", out var headLink) ? headLink : null);
            Assert.True(SentLength(get) == SentLength(head), $"HEAD {url}: Content-Length {SentLength(head)}, GET: {SentLength(get)}");
            Assert.True(SentLength(get) is null || SentLength(get) == getBody.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The Content-Length header as sent (HttpClient would otherwise count a buffered body itself).</summary>
    private static string? SentLength(HttpResponseMessage response) =>
        response.Content.Headers.NonValidated.TryGetValues("Content-Length", out var values) ? values.ToString() : null;

    [Fact]
    public async Task Head_WithTheCurrentETag_Is304LikeGet()
    {
        var client = api.CreateClient();
        var etag = (await client.GetAsync("/v1/studies/1")).Headers.ETag!;
        var head = new HttpRequestMessage(HttpMethod.Head, "/v1/studies/1");
        head.Headers.IfNoneMatch.Add(etag);

        var response = await client.SendAsync(head);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Equal(etag, response.Headers.ETag);
    }

    [Fact]
    public async Task Head_OverKestrel_SendsTheHeadersOfGetAndNoBody()
    {
        using var process = ApiProcess.Start(api.ConnectionString);
        await process.WaitUntilReadyAsync();

        foreach (var url in new[] { "/v1/studies/1", "/v1/studies?limit=3", "/v1/studies?format=csv&limit=3", "/swagger/v1/swagger.json" })
        {
            var get = await process.Client.GetAsync(url);
            var head = await process.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));

            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(get.Headers.ETag, head.Headers.ETag);
            Assert.Equal(SentLength(get), SentLength(head));
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }

        // The connection stays usable: no body bytes were left on it for the next answer.
        Assert.Equal(HttpStatusCode.OK, (await process.Client.GetAsync("/v1/vocabularies")).StatusCode);
    }

    [Fact]
    public async Task UnknownQueryParameter_Is400NamingItAndListingTheAcceptedOnes()
    {
        var messages = await (await api.CreateClient().GetAsync("/v1/outcomes?study=8")).ShouldBeFieldErrorAsync("study");

        Assert.Contains("studyId", messages[0], StringComparison.Ordinal);
        Assert.Contains("measure", messages[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownQueryParameter_OnEveryOperation_Is400ListingExactlyItsDocumentedParameters()
    {
        var contract = await OpenApiContract.LoadAsync(api.CreateClient());
        var (samples, _) = await SamplesAsync();
        foreach (var (method, path, operation) in contract.Operations().Where(o => o.Path.StartsWith("/v1/", StringComparison.Ordinal)))
        {
            var url = Url(samples, path);
            var request = new HttpRequestMessage(new HttpMethod(method), url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "notAParameter=1");
            var messages = await (await api.CreateClient().SendAsync(request)).ShouldBeFieldErrorAsync("notAParameter");

            var documented = (operation.Parameters ?? []).Where(p => p.In == Microsoft.OpenApi.ParameterLocation.Query).Select(p => p.Name!).Order(StringComparer.Ordinal).ToList();
            var expected = documented.Count == 0 ? "takes no query parameters." : $"takes: {string.Join(", ", documented)}.";
            Assert.True(messages[0].EndsWith(expected, StringComparison.Ordinal), $"{method} {path}: '{messages[0]}' should end with '{expected}'");
        }
    }

    [Fact]
    public async Task KnownQueryParameter_InAnotherCase_IsTakenAsBindingTakesIt()
    {
        var page = await (await api.CreateClient().GetAsync("/v1/outcomes?StudyId=1&LIMIT=5")).ShouldBeOkAsync<JsonElement>();

        Assert.Equal(5, page.GetProperty("limit").GetInt32());
        Assert.All(page.GetProperty("items").EnumerateArray(), o => Assert.Equal(1, o.GetProperty("outcome").GetProperty("studyId").GetInt64()));
    }
}
