using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;

namespace EvidenceApi.Tests.Hostile;

/// <summary>Random, malformed and malicious input to every endpoint: never a 5xx, always problem details, nothing leaked.</summary>
public sealed class HostileInputTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private static readonly string[] GetEndpoints =
    [
        "/v1/studies", "/v1/studies/1", "/v1/studies/srivastava-2024-scalp-secretome", "/v1/interventions", "/v1/outcomes",
        "/v1/vocabularies", "/v1/synthesis", "/v1/stats", "/v1/submissions", "/v1/submissions/1", "/v1/submissions/1/events",
    ];

    private static readonly string[] ParameterNames =
    [
        "condition", "subtype", "design", "product", "cellSource", "route", "donor", "measure", "country", "yearFrom", "yearTo",
        "q", "sort", "limit", "offset", "cursor", "includeTotal", "fields", "format", "studyId", "minWeeks", "maxWeeks",
        "evidence", "threshold", "timepoint", "review", "status", "unknownParam", "limit[]", "",
    ];

    /// <summary>Values an attacker or a broken client sends, already URL-encoded.</summary>
    internal static readonly string[] NastyValues =
    [
        "%27%3B%20DROP%20TABLE%20studies%3B%20--", "%27%20OR%20%271%27%3D%271", "1%20OR%201%3D1", "%22%29%3B%20SELECT%20pg_sleep(5)%3B--",
        "99999999999999999999999999999", "-99999999999999999999", "1e309", "NaN", "-1", "0", "2147483648", "9223372036854775808",
        "%00", "abc%00def", "%C3%28", "%FF%FE", "%E0%80%80", "%F0%9F%92%A9", "%F0%28%8C%BC",
        "true", "null", "%5B%5D", "%7B%7D", "%7B%22a%22%3A1%7D", "case_report%2C%2C%2C", "%2C", "-", "--", "%22", "%5C",
        "%25", "..%2F..%2Fetc%2Fpasswd", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "*", "%2A%3A%2A", "relevance", "-relevance",
        new string('a', 600), string.Concat(Enumerable.Repeat("x%2C", 300)), "%E2%80%8B", "ps%C3%B6riasis",
    ];

    private static async Task AssertSafeAsync(HttpResponseMessage response, string request)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode < 500, $"{request} answered {(int)response.StatusCode}: {body}");
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Npgsql", body, StringComparison.Ordinal);
        Assert.DoesNotContain("syntax error", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        if ((int)response.StatusCode >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    /// <summary>FsCheck properties are synchronous; the in-memory test server makes blocking on a request safe here.</summary>
    private static void Blocking(Func<Task> action) => action().GetAwaiter().GetResult();

    private static T Blocking<T>(Func<Task<T>> action) => action().GetAwaiter().GetResult();

    [Fact]
    public async Task RandomQueryStrings_OnEveryGetEndpoint_AreNeverServerErrors()
    {
        var client = api.CreateClient();
        var key = await api.CreateKeyAsync("curator");
        var pair = from name in Gen.Elements(ParameterNames)
                   from value in Gen.Elements(NastyValues)
                   select $"{name}={value}";
        var request = from path in Gen.Elements(GetEndpoints)
                      from pairs in pair.ArrayOf()
                      from authenticated in Gen.Elements(true, false)
                      select (Url: path + "?" + string.Join('&', pairs.Take(6)), Authenticated: authenticated);

        Prop.ForAll(request.ToArbitrary(), r =>
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, r.Url);
            if (r.Authenticated)
            {
                message.Headers.Add("X-Api-Key", key);
            }

            Blocking(async () => await AssertSafeAsync(await client.SendAsync(message), r.Url));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Fact]
    public async Task EveryNastyValue_InEveryParameter_IsInert()
    {
        var client = api.CreateClient();
        foreach (var path in new[] { "/v1/studies", "/v1/outcomes", "/v1/interventions", "/v1/synthesis" })
        {
            foreach (var name in ParameterNames.Where(n => n.Length > 0))
            {
                foreach (var value in NastyValues)
                {
                    var url = $"{path}?measure=pasi_75&{name}={value}";
                    await AssertSafeAsync(await client.GetAsync(url), url);
                }
            }
        }

        Assert.True(await api.QueryScalarAsync<long>("SELECT count(*) FROM studies") >= 9);
    }

    [Fact]
    public async Task RandomJsonBodies_ToSubmit_AreNeverServerErrors()
    {
        var client = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var leaf = Gen.OneOf(
            Gen.Elements<JsonNode?>(null, true, false, 0, -1, 1.5, 1e300, int.MaxValue, long.MinValue, "", "x", "\u0000", "psoriasis", "2025-13-45", "oral", new string('z', 3000)),
            Gen.Choose(-1000, 1000).Select(i => (JsonNode?)i));
        var body = Gen.Sized(size => JsonGen(leaf.Select(node => node?.DeepClone()), Math.Min(size, 6)));

        Prop.ForAll(body.ToArbitrary(), json =>
        {
            var text = json?.ToJsonString() ?? "null";
            Blocking(async () => await AssertSafeAsync(
                await client.PostAsync("/v1/case-reports", new StringContent(text, Encoding.UTF8, "application/json")),
                text.Length > 200 ? text[..200] : text));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Fact]
    public async Task MutatedValidReports_AreNeverServerErrors()
    {
        var client = api.CreateClient(await api.CreateKeyAsync("contributor"));
        string[] paths =
        [
            "patient.age", "patient.sex", "patient.condition", "outcomes[0].value", "outcomes[0].measure", "outcomes[1].responders",
            "outcomes[0].intervention", "interventions[0].route", "interventions[0].doseValue", "source.doi", "source.pmid",
            "source.publishedOn", "followUpWeeks", "relapse", "adverseEvents.events", "informedConsent", "contributor.email", "title",
        ];
        JsonNode?[] values = [null, -1, 1e30, 73, "", "DROP TABLE studies", "\u0000", true, new JsonArray(), new JsonObject(), "9999-12-31", long.MaxValue];
        var mutation = from path in Gen.Elements(paths)
                       from value in Gen.Elements(values)
                       select (Path: path, Value: value);

        Prop.ForAll(mutation.ArrayOf().ToArbitrary(), mutations =>
        {
            var report = CaseReportValidatorTests.Example();
            report["source"]!["doi"] = $"10.5555/evidence.hostile.{Guid.NewGuid():N}";
            foreach (var (path, value) in mutations.Take(5))
            {
                CaseReportValidatorTests.With(report, path, value?.DeepClone());
            }

            Blocking(async () => await AssertSafeAsync(
                await client.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json")),
                string.Join(", ", mutations.Take(5).Select(m => $"{m.Path}={m.Value?.ToJsonString() ?? "null"}"))));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Fact]
    public async Task InvalidUtf8Body_IsAProblemNotACrash()
    {
        var client = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var bytes = new ByteArrayContent([0x7B, 0x22, 0x74, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D]);
        bytes.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        await (await client.PostAsync("/v1/case-reports", bytes)).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task OverlongQueryString_Is414Problem()
    {
        var response = await api.CreateClient().GetAsync("/v1/studies?q=" + new string('a', 5000));
        await response.ShouldBeProblemAsync(HttpStatusCode.RequestUriTooLong);
    }

    [Fact]
    public async Task Responses_CarrySecurityHeaders_AndCorsLetsBrowsersRead()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/studies?limit=1");
        request.Headers.Add("Origin", "https://app.example.org");
        var response = await api.CreateClient().SendAsync(request);

        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/case-reports");
        preflight.Headers.Add("Origin", "https://app.example.org");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
        var answer = await api.CreateClient().SendAsync(preflight);
        Assert.Contains("POST", answer.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    private static Gen<JsonNode?> JsonGen(Gen<JsonNode?> leaf, int depth)
    {
        if (depth <= 0)
        {
            return leaf;
        }

        var names = Gen.Elements("source", "patient", "interventions", "outcomes", "title", "age", "value", "measure", "informedConsent",
            "relapse", "adverseEvents", "contributor", "followUpWeeks", "doi", "x", "");
        var child = JsonGen(leaf, depth - 1);
        var obj = from count in Gen.Choose(0, 5)
                  from keys in names.ArrayOf(count)
                  from values in child.ArrayOf(count)
                  select (JsonNode?)new JsonObject(keys.Distinct().Zip(values, (k, v) => new KeyValuePair<string, JsonNode?>(k, v)));
        var array = from count in Gen.Choose(0, 4)
                    from values in child.ArrayOf(count)
                    select (JsonNode?)new JsonArray(values);
        return Gen.OneOf(leaf, obj, obj, array);
    }
}

/// <summary>Write limits answer 429 with Retry-After once spent.</summary>
public sealed class RateLimitTests(RateLimitTests.Api api) : IClassFixture<RateLimitTests.Api>
{
    public sealed class Api : EvidenceApiFactory
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Protection:WritesPerMinute", "3");
            builder.UseSetting("Protection:ExpensiveReadsPerMinute", "2");
        }
    }

    [Fact]
    public async Task Writes_BeyondTheLimit_Are429WithRetryAfter_PerKey()
    {
        var key = await api.CreateKeyAsync("contributor");
        var client = api.CreateClient(key);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 4; i++)
        {
            var report = CaseReportValidatorTests.Example();
            report["source"]!["doi"] = $"10.5555/evidence.limit.{Guid.NewGuid():N}";
            last = await client.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json"));
            statuses.Add(last.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created], statuses.Take(3));
        await last!.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.NotNull(last!.Headers.RetryAfter);

        // Another key has its own allowance.
        var other = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var report2 = CaseReportValidatorTests.Example();
        report2["source"]!["doi"] = $"10.5555/evidence.limit.{Guid.NewGuid():N}";
        Assert.Equal(HttpStatusCode.Created, (await other.PostAsync("/v1/case-reports", new StringContent(report2.ToJsonString(), Encoding.UTF8, "application/json"))).StatusCode);
    }

    [Fact]
    public async Task ExpensiveReads_BeyondTheLimit_Are429WithRetryAfter()
    {
        var client = api.CreateClient();
        var responses = new List<HttpResponseMessage>();
        foreach (var measure in new[] { "pasi_50", "pasi_75", "pasi_90" })
        {
            responses.Add(await client.GetAsync($"/v1/synthesis?measure={measure}"));
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], responses.Select(r => r.StatusCode));
        await responses[2].ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.True(responses[2].Headers.RetryAfter?.Delta is { TotalSeconds: > 0 and <= 60 }, $"Retry-After: {responses[2].Headers.RetryAfter}");
    }

    [Fact]
    public async Task Writes_WithoutAKey_AreLimitedPerAddress()
    {
        var client = api.CreateClient();
        var wrongKey = api.CreateClient("ek_con_not-a-key");
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        foreach (var sender in new[] { client, client, client, client })
        {
            var report = CaseReportValidatorTests.Example();
            report["source"]!["doi"] = $"10.5555/evidence.nokey.{Guid.NewGuid():N}";
            last = await sender.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json"));
            statuses.Add(last.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
        await last!.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.NotNull(last!.Headers.RetryAfter);

        // A wrong key is a key of its own for the limit, and is refused as such.
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongKey.PostAsync("/v1/case-reports", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);
    }
}
