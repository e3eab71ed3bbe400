using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Contract;

/// <summary>
/// Every operation of the served document, called with valid requests and so as to provoke each error it documents;
/// every answer is checked against the document (status, content type, body schema) by <see cref="OpenApiContract"/>.
/// An operation or a documented status that no call here reaches fails the test, so that a new operation comes with
/// its calls.
/// </summary>
public sealed class ConformanceTests(ConformanceTests.Api api) : IClassFixture<ConformanceTests.Api>
{
    /// <summary>Small limits, so that each rate-limited operation can be made to answer 429.</summary>
    public sealed class Api : EvidenceApiFactory
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            // Requests without a key share one limit per address: the five anonymous writes below fit in eight.
            builder.UseSetting("Protection:WritesPerMinute", "8");
            builder.UseSetting("Protection:ExpensiveReadsPerMinute", "12");
        }
    }

    private readonly List<string> problems = [];
    private readonly HashSet<string> reached = new(StringComparer.Ordinal);
    private OpenApiContract contract = null!;

    [Fact]
    public async Task EveryOperation_WithValidRequestsAndEachDocumentedError_AnswersAsDocumented()
    {
        contract = await OpenApiContract.LoadAsync(api.CreateClient());

        await CallReadsAsync();
        await CallCaseReportsAsync();
        await CallSubmissionsAsync();
        await CallKeysAsync();

        var missing = contract.Operations()
            .SelectMany(o => (o.Operation.Responses?.Keys.AsEnumerable() ?? []).Select(status => $"{o.Method} {o.Path} {status}"))
            .Where(documented => !reached.Contains(documented))
            .ToList();
        Assert.True(problems.Count == 0, "Answers that do not match the document:\n" + string.Join("\n", problems));
        Assert.True(missing.Count == 0, "Documented answers no call reached (add calls for them):\n" + string.Join("\n", missing));
    }

    private async Task CallReadsAsync()
    {
        var anonymous = api.CreateClient();
        foreach (var (list, item, field) in new[]
                 {
                     ("/v1/studies", "?q=secretome&limit=3", "id,title"), ("/v1/interventions", "?product=msc_cells", "study"),
                     ("/v1/outcomes", "?limit=200", "outcome,intervention"),
                 })
        {
            await CallAsync(anonymous, HttpMethod.Get, list + item, HttpStatusCode.OK);
            await CallAsync(anonymous, HttpMethod.Get, list + $"?fields={field}&limit=50", HttpStatusCode.OK);
            await CallAsync(anonymous, HttpMethod.Get, list + "?format=csv&limit=3", HttpStatusCode.OK);
            await CallAsync(anonymous, HttpMethod.Head, list, HttpStatusCode.OK);
            await CallAsync(anonymous, HttpMethod.Get, list + "?limit=0", HttpStatusCode.BadRequest);
            await CallAsync(anonymous, HttpMethod.Get, list + "?study=1", HttpStatusCode.BadRequest);
            await NotModifiedAsync(anonymous, list);
        }

        await CallAsync(anonymous, HttpMethod.Get, "/v1/studies?subtype=vulgaris&design=rct,case_series,single_arm_trial", HttpStatusCode.OK);

        foreach (var study in new[] { "1", "srivastava-2024-scalp-secretome", "paganelli-2020-msc-psoriasis-review" })
        {
            await CallAsync(anonymous, HttpMethod.Get, $"/v1/studies/{study}", HttpStatusCode.OK);
        }

        await CallAsync(anonymous, HttpMethod.Get, "/v1/studies/999999", HttpStatusCode.NotFound);
        await CallAsync(anonymous, HttpMethod.Get, "/v1/studies/1?include=all", HttpStatusCode.BadRequest);
        await NotModifiedAsync(anonymous, "/v1/studies/1");

        await CallAsync(anonymous, HttpMethod.Get, "/v1/vocabularies", HttpStatusCode.OK);
        await CallAsync(anonymous, HttpMethod.Get, "/v1/vocabularies?lang=en", HttpStatusCode.BadRequest);
        await NotModifiedAsync(anonymous, "/v1/vocabularies");

        await CallAsync(anonymous, HttpMethod.Get, "/v1/stats?condition=psoriasis", HttpStatusCode.OK);
        await CallAsync(anonymous, HttpMethod.Get, $"/v1/stats?condition={new string('x', 201)}", HttpStatusCode.BadRequest);
        await NotModifiedAsync(anonymous, "/v1/stats");

        await CallAsync(anonymous, HttpMethod.Get, "/v1/synthesis?measure=clinical_response&review=paganelli-2020-msc-psoriasis-review", HttpStatusCode.OK);
        await CallAsync(anonymous, HttpMethod.Get, "/v1/synthesis?measure=clinical_response&review=no-such-review", HttpStatusCode.NotFound);
        await CallAsync(anonymous, HttpMethod.Get, "/v1/synthesis?measure=height", HttpStatusCode.BadRequest);
        await NotModifiedAsync(anonymous, "/v1/synthesis?measure=clinical_response&review=paganelli-2020-msc-psoriasis-review");
        await CallAsync(anonymous, HttpMethod.Get, "/v1/synthesis?measure=clinical_response&model=random&by=design", HttpStatusCode.OK);
        using (var svg = new HttpRequestMessage(HttpMethod.Get, "/v1/synthesis?measure=clinical_response&model=fixed"))
        {
            svg.Headers.Accept.ParseAdd("image/svg+xml");
            await SendAsync(anonymous, svg, HttpStatusCode.OK);
        }

        await CallAsync(anonymous, HttpMethod.Get, "/v1/synthesis/forest.svg?measure=clinical_response&model=random", HttpStatusCode.OK);
        await CallAsync(anonymous, HttpMethod.Get, "/v1/synthesis/forest.svg?measure=pasi_75&review=no-such-review", HttpStatusCode.NotFound);
        await CallAsync(anonymous, HttpMethod.Get, "/v1/synthesis/forest.svg?measure=pasi_75&route=oral", HttpStatusCode.BadRequest);
        await NotModifiedAsync(anonymous, "/v1/synthesis/forest.svg?measure=clinical_response&model=random");
        await UntilTooManyAsync(anonymous, n => (HttpMethod.Get, $"/v1/synthesis?measure=pasi&threshold={n + 1}", null));
        await UntilTooManyAsync(anonymous, n => (HttpMethod.Get, $"/v1/synthesis/forest.svg?measure=pasi&threshold={n + 1}", null));
    }

    private async Task CallCaseReportsAsync()
    {
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        await CallAsync(contributor, HttpMethod.Post, "/v1/case-reports", HttpStatusCode.Created, Json(NewReport()), idempotencyKey: "conformance-1");
        await CallAsync(contributor, HttpMethod.Post, "/v1/case-reports", HttpStatusCode.UnprocessableEntity, Json(NewReport()), idempotencyKey: "conformance-1");

        var writer = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var known = NewReport();
        known["source"]!["doi"] = "10.46439/stemcell.5.019";
        await CallAsync(writer, HttpMethod.Post, "/v1/case-reports", HttpStatusCode.Conflict, Json(known));
        await CallAsync(writer, HttpMethod.Post, "/v1/case-reports", HttpStatusCode.BadRequest, Json(CaseReportValidatorTests.With(NewReport(), "outcomes[0].assessed", 2)));
        await CallAsync(writer, HttpMethod.Post, "/v1/case-reports", HttpStatusCode.BadRequest,
            Json(CaseReportValidatorTests.With(NewReport(PatientsValidationTests.TwoPatients()), "patients[1].age", 130)));
        await CallAsync(writer, HttpMethod.Post, "/v1/case-reports", HttpStatusCode.Created, Json(NewReport(PatientsValidationTests.TwoPatients())));
        await CallAsync(writer, HttpMethod.Post, "/v1/case-reports", HttpStatusCode.BadRequest, new StringContent("{\"title\": }", Encoding.UTF8, "application/json"));

        var other = api.CreateClient(await api.CreateKeyAsync("contributor"));
        await CallAsync(other, HttpMethod.Post, "/v1/case-reports", HttpStatusCode.UnsupportedMediaType, new StringContent(NewReport().ToJsonString(), Encoding.UTF8, "text/plain"));
        await CallAsync(other, HttpMethod.Post, "/v1/case-reports", HttpStatusCode.RequestEntityTooLarge, Json(CaseReportValidatorTests.With(NewReport(), "summary", new string('x', 300 * 1024))));
        await CallAsync(api.CreateClient(), HttpMethod.Post, "/v1/case-reports", HttpStatusCode.Unauthorized, Json(NewReport()));
        await CallAsync(api.CreateClient(), HttpMethod.Post, "/v1/case-reports?draft=true", HttpStatusCode.BadRequest, Json(NewReport()));

        var limited = api.CreateClient(await api.CreateKeyAsync("contributor"));
        await UntilTooManyAsync(limited, _ => (HttpMethod.Post, "/v1/case-reports", Json(NewReport())));
    }

    private async Task CallSubmissionsAsync()
    {
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var curator = api.CreateClient(await api.CreateKeyAsync("curator"));
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            // The one published describes two patients: its submission, study and patients are checked against the document.
            var created = await contributor.PostAsync("/v1/case-reports", Json(i == 0 ? NewReport(PatientsValidationTests.TwoPatients()) : NewReport()));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            ids.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());
        }

        var reader = api.CreateClient(await api.CreateKeyAsync("curator"));
        await CallAsync(reader, HttpMethod.Get, "/v1/submissions?status=submitted", HttpStatusCode.OK);
        await CallAsync(reader, HttpMethod.Get, "/v1/submissions?fields=id,status", HttpStatusCode.OK);
        await CallAsync(reader, HttpMethod.Get, "/v1/submissions?status=lost", HttpStatusCode.BadRequest);
        await CallAsync(reader, HttpMethod.Get, "/v1/submissions?state=submitted", HttpStatusCode.BadRequest);
        await CallAsync(api.CreateClient(), HttpMethod.Get, "/v1/submissions", HttpStatusCode.Unauthorized);
        await CallAsync(contributor, HttpMethod.Get, "/v1/submissions", HttpStatusCode.OK);

        await CallAsync(reader, HttpMethod.Get, $"/v1/submissions/{ids[0]}", HttpStatusCode.OK);
        await CallAsync(reader, HttpMethod.Get, "/v1/submissions/999999", HttpStatusCode.NotFound);
        await CallAsync(reader, HttpMethod.Get, $"/v1/submissions/{ids[0]}?full=1", HttpStatusCode.BadRequest);
        await CallAsync(api.CreateClient(), HttpMethod.Get, $"/v1/submissions/{ids[0]}", HttpStatusCode.Unauthorized);

        await CallAsync(reader, HttpMethod.Get, $"/v1/submissions/{ids[0]}/events", HttpStatusCode.OK);
        await CallAsync(reader, HttpMethod.Get, "/v1/submissions/999999/events", HttpStatusCode.NotFound);
        await CallAsync(reader, HttpMethod.Get, $"/v1/submissions/{ids[0]}/events?all=1", HttpStatusCode.BadRequest);
        await CallAsync(contributor, HttpMethod.Get, $"/v1/submissions/{ids[0]}/events", HttpStatusCode.Forbidden);
        await CallAsync(api.CreateClient(), HttpMethod.Get, $"/v1/submissions/{ids[0]}/events", HttpStatusCode.Unauthorized);

        foreach (var (action, id) in new[] { ("publish", ids[0]), ("reject", ids[1]) })
        {
            StringContent Decision() => Json(new JsonObject { ["reason"] = "Checked against the source." });
            var url = $"/v1/submissions/{id}/{action}";
            await CallAsync(api.CreateClient(), HttpMethod.Post, url, HttpStatusCode.Unauthorized, Decision());
            await CallAsync(contributor, HttpMethod.Post, url, HttpStatusCode.Forbidden, Decision());
            var moderator = api.CreateClient(await api.CreateKeyAsync("curator"));
            await CallAsync(moderator, HttpMethod.Post, url, HttpStatusCode.UnsupportedMediaType, new StringContent("reason", Encoding.UTF8, "text/plain"));
            await CallAsync(moderator, HttpMethod.Post, url, HttpStatusCode.BadRequest, new StringContent("{\"reason\": \"a\", \"reason\": \"b\"}", Encoding.UTF8, "application/json"));
            await CallAsync(moderator, HttpMethod.Post, url, HttpStatusCode.RequestEntityTooLarge, Json(new JsonObject { ["reason"] = new string('x', 20 * 1024) }));
            await CallAsync(moderator, HttpMethod.Post, $"/v1/submissions/999999/{action}", HttpStatusCode.NotFound, Decision());
            var second = api.CreateClient(await api.CreateKeyAsync("curator"));
            await CallAsync(second, HttpMethod.Post, url, HttpStatusCode.OK, Decision());
            await CallAsync(second, HttpMethod.Post, url, HttpStatusCode.Conflict, Decision());
            await CallAsync(second, HttpMethod.Post, url + "?notify=true", HttpStatusCode.BadRequest, Decision());
            var limited = api.CreateClient(await api.CreateKeyAsync("curator"));
            await UntilTooManyAsync(limited, _ => (HttpMethod.Post, $"/v1/submissions/{ids[2]}/{action}", Json(new JsonObject { ["reason"] = "" })));
        }

        await CallAsync(curator, HttpMethod.Get, $"/v1/submissions/{ids[2]}", HttpStatusCode.OK);
        var published = JsonDocument.Parse(await CallAsync(curator, HttpMethod.Get, $"/v1/submissions/{ids[0]}", HttpStatusCode.OK)).RootElement;
        var study = JsonDocument.Parse(await CallAsync(api.CreateClient(), HttpMethod.Get, $"/v1/studies/{published.GetProperty("studyId").GetInt64()}", HttpStatusCode.OK)).RootElement;
        Assert.Equal(2, study.GetProperty("patients").GetArrayLength());
        Assert.Equal(2, study.GetProperty("participants").GetInt32());
    }

    private async Task CallKeysAsync()
    {
        // Writes are limited to eight a minute per key here: each curator below makes at most eight.
        var (curatorId, curator) = await CuratorAsync();
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var anonymous = api.CreateClient();
        static StringContent NewKey(int? days = 90) =>
            Json(new JsonObject { ["name"] = $"Conformance contributor {Guid.NewGuid():N}", ["expiresInDays"] = days });
        static StringContent Reason(string reason) => Json(new JsonObject { ["reason"] = reason });

        var issued = JsonNode.Parse(await CallAsync(curator, HttpMethod.Post, "/v1/keys", HttpStatusCode.Created, NewKey()))!;
        var id = issued["id"]!.GetValue<long>();
        await CallAsync(curator, HttpMethod.Post, "/v1/keys", HttpStatusCode.Created, NewKey(days: null));
        await CallAsync(curator, HttpMethod.Post, "/v1/keys", HttpStatusCode.BadRequest, Json(new JsonObject { ["expiresInDays"] = 30 }));
        await CallAsync(curator, HttpMethod.Post, "/v1/keys", HttpStatusCode.BadRequest, new StringContent("{\"name\": \"A\", \"name\": \"B\"}", Encoding.UTF8, "application/json"));
        var (_, issuer) = await CuratorAsync();
        await CallAsync(issuer, HttpMethod.Post, "/v1/keys", HttpStatusCode.UnsupportedMediaType, new StringContent("{\"name\": \"Plain\"}", Encoding.UTF8, "text/plain"));
        await CallAsync(issuer, HttpMethod.Post, "/v1/keys", HttpStatusCode.RequestEntityTooLarge, Json(new JsonObject { ["name"] = new string('x', 20 * 1024) }));
        await CallAsync(issuer, HttpMethod.Post, "/v1/keys?role=curator", HttpStatusCode.BadRequest, NewKey());
        await CallAsync(anonymous, HttpMethod.Post, "/v1/keys", HttpStatusCode.Unauthorized, NewKey());
        await CallAsync(contributor, HttpMethod.Post, "/v1/keys", HttpStatusCode.Forbidden, NewKey());
        var (_, busyIssuer) = await CuratorAsync();
        await UntilTooManyAsync(busyIssuer, _ => (HttpMethod.Post, "/v1/keys", NewKey()));

        await CallAsync(curator, HttpMethod.Get, "/v1/keys?role=contributor&status=active&limit=5", HttpStatusCode.OK);
        await CallAsync(curator, HttpMethod.Get, "/v1/keys?fields=id,name,status", HttpStatusCode.OK);
        await CallAsync(curator, HttpMethod.Get, "/v1/keys?status=lost", HttpStatusCode.BadRequest);
        await CallAsync(curator, HttpMethod.Get, "/v1/keys?format=csv", HttpStatusCode.BadRequest);
        await CallAsync(curator, HttpMethod.Get, "/v1/keys?state=active", HttpStatusCode.BadRequest);
        await CallAsync(anonymous, HttpMethod.Get, "/v1/keys", HttpStatusCode.Unauthorized);
        await CallAsync(contributor, HttpMethod.Get, "/v1/keys", HttpStatusCode.Forbidden);

        await CallAsync(curator, HttpMethod.Get, $"/v1/keys/{id}", HttpStatusCode.OK);
        await CallAsync(curator, HttpMethod.Get, "/v1/keys/999999999", HttpStatusCode.NotFound);
        await CallAsync(curator, HttpMethod.Get, $"/v1/keys/{id}?full=1", HttpStatusCode.BadRequest);
        await CallAsync(anonymous, HttpMethod.Get, $"/v1/keys/{id}", HttpStatusCode.Unauthorized);
        await CallAsync(contributor, HttpMethod.Get, $"/v1/keys/{id}", HttpStatusCode.Forbidden);

        var revoke = $"/v1/keys/{id}/revoke";
        await CallAsync(anonymous, HttpMethod.Post, revoke, HttpStatusCode.Unauthorized, Reason("Left the project"));
        await CallAsync(contributor, HttpMethod.Post, revoke, HttpStatusCode.Forbidden, Reason("Left the project"));
        var (_, checker) = await CuratorAsync();
        await CallAsync(checker, HttpMethod.Post, revoke, HttpStatusCode.UnsupportedMediaType, new StringContent("Left the project", Encoding.UTF8, "text/plain"));
        await CallAsync(checker, HttpMethod.Post, revoke, HttpStatusCode.BadRequest, new StringContent("{\"reason\": \"a\", \"reason\": \"b\"}", Encoding.UTF8, "application/json"));
        await CallAsync(checker, HttpMethod.Post, revoke, HttpStatusCode.RequestEntityTooLarge, Reason(new string('x', 20 * 1024)));
        await CallAsync(checker, HttpMethod.Post, "/v1/keys/999999999/revoke", HttpStatusCode.NotFound, Reason("Left the project"));
        var (_, revoker) = await CuratorAsync();
        await CallAsync(revoker, HttpMethod.Post, revoke, HttpStatusCode.BadRequest, Reason(new string('x', 2001)));
        await CallAsync(revoker, HttpMethod.Post, revoke, HttpStatusCode.OK, Reason("Left the project"));
        await CallAsync(revoker, HttpMethod.Post, revoke, HttpStatusCode.OK);
        await CallAsync(revoker, HttpMethod.Post, $"/v1/keys/{curatorId}/revoke", HttpStatusCode.Forbidden);
        var (_, busyRevoker) = await CuratorAsync();
        await UntilTooManyAsync(busyRevoker, _ => (HttpMethod.Post, revoke, null));
        await CallAsync(curator, HttpMethod.Get, $"/v1/keys/{id}", HttpStatusCode.OK);

        await CallAsync(curator, HttpMethod.Get, "/v1/keys/events", HttpStatusCode.OK);
        await CallAsync(curator, HttpMethod.Get, $"/v1/keys/events?keyId={id}&fields=action,actor,reason", HttpStatusCode.OK);
        await CallAsync(curator, HttpMethod.Get, "/v1/keys/events?keyId=0", HttpStatusCode.BadRequest);
        await CallAsync(curator, HttpMethod.Get, "/v1/keys/events?key=1", HttpStatusCode.BadRequest);
        await CallAsync(anonymous, HttpMethod.Get, "/v1/keys/events", HttpStatusCode.Unauthorized);
        await CallAsync(contributor, HttpMethod.Get, "/v1/keys/events", HttpStatusCode.Forbidden);
    }

    private async Task<(long Id, HttpClient Client)> CuratorAsync()
    {
        var name = $"Conformance curator {Guid.NewGuid():N}";
        var key = await api.CreateKeyAsync("curator", name);
        return (await api.QueryScalarAsync<long>("SELECT id FROM api_keys WHERE name = @Name", new { Name = name }), api.CreateClient(key));
    }

    private async Task NotModifiedAsync(HttpClient client, string url)
    {
        var first = await client.GetAsync(url);
        Assert.True(first.Headers.ETag is not null, $"{url} has no ETag");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        await SendAsync(client, request, HttpStatusCode.NotModified);
    }

    /// <summary>Repeats a request (the nth made by <paramref name="make"/>) until it is answered 429, at most twenty times.</summary>
    private async Task UntilTooManyAsync(HttpClient client, Func<int, (HttpMethod Method, string Url, HttpContent? Body)> make)
    {
        for (var n = 0; n < 20; n++)
        {
            var (method, url, body) = make(n);
            using var request = new HttpRequestMessage(method, url) { Content = body };
            var response = await client.SendAsync(request);
            await RecordAsync(request, response);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return;
            }
        }

        Assert.Fail($"{make(0).Url} was never answered 429");
    }

    /// <summary>Sends one request, records its answer and returns its body.</summary>
    private async Task<string> CallAsync(HttpClient client, HttpMethod method, string url, HttpStatusCode expected, HttpContent? body = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = body };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await SendAsync(client, request, expected);
    }

    private async Task<string> SendAsync(HttpClient client, HttpRequestMessage request, HttpStatusCode expected)
    {
        var response = await client.SendAsync(request);
        var body = await RecordAsync(request, response);
        if (response.StatusCode != expected)
        {
            problems.Add($"{request.Method} {request.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        }

        return body;
    }

    private async Task<string> RecordAsync(HttpRequestMessage request, HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        problems.AddRange(await contract.CheckAsync(request, response, body));
        var path = request.RequestUri!.IsAbsoluteUri ? request.RequestUri.AbsolutePath : request.RequestUri.OriginalString.Split('?')[0];
        var method = request.Method == HttpMethod.Head ? "GET" : request.Method.Method;
        reached.Add($"{method} {contract.Template(path)} {(int)response.StatusCode}");
        return body;
    }

    private static JsonNode NewReport(JsonNode? example = null)
    {
        var report = example ?? CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.conformance.{Guid.NewGuid():N}";
        report["title"] = $"Conformance case {Guid.NewGuid():N}";
        report["source"]!["title"] = report["title"]!.GetValue<string>();
        return report;
    }

    private static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
}
