using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvidenceApi.CaseReports;
using EvidenceApi.Submissions;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.CaseReports;

public sealed class CaseReportSubmissionTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private static int uniqueDoi;

    /// <summary>The example report with its own DOI and title, so that tests do not trip over each other's duplicates.</summary>
    private static JsonNode UniqueReport()
    {
        var n = Interlocked.Increment(ref uniqueDoi);
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.test.{Guid.NewGuid():N}";
        report["source"]!["url"] = null;
        report["title"] = $"Case {n} {Guid.NewGuid():N}: secretome for scalp psoriasis";
        return report;
    }

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private async Task<HttpClient> ContributorAsync() => api.CreateClient(await api.CreateKeyAsync("contributor"));

    /// <summary>The submission once its title search is done: on a slow machine it may outlast the wait and finish in the background.</summary>
    private static async Task<SubmissionView> TitleCheckedAsync(HttpClient client, SubmissionView submission)
    {
        await Resilience.DatabaseOutageTests.EventuallyAsync(async () =>
        {
            submission = (await client.GetFromJsonAsync<SubmissionView>($"/v1/submissions/{submission.Id}", HttpAssertions.Json))!;
            return submission.TitleCheck == DuplicateTitleChecks.Done;
        }, TimeSpan.FromSeconds(10));
        return submission;
    }

    private Task<long> SubmissionCountAsync() => api.QueryScalarAsync<long>("SELECT count(*) FROM submissions");

    [Fact]
    public async Task Submit_ValidReport_Returns201WithLocationAndStoredRecord()
    {
        var client = await ContributorAsync();
        var report = UniqueReport();

        var response = await client.PostAsync("/v1/case-reports", Json(report));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var submission = (await response.Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json))!;
        Assert.Equal($"/v1/submissions/{submission.Id}", response.Headers.Location?.ToString());
        Assert.Equal("submitted", submission.Status);
        Assert.Equal(report["source"]!["doi"]!.GetValue<string>(), submission.Doi);
        Assert.Equal(28, submission.Report.Patient?.BaselineScores?[0].Value);
        Assert.Equal(2, submission.Report.Outcomes?.Count);

        var stored = await (await client.GetAsync(response.Headers.Location)).ShouldBeOkAsync<SubmissionView>();
        Assert.Equal(JsonSerializer.Serialize(submission.Report), JsonSerializer.Serialize(stored.Report));
    }

    [Fact]
    public async Task Submit_WithoutKey_Is401ProblemAndReadsStayPublic()
    {
        var anonymous = api.CreateClient();

        var response = await anonymous.PostAsync("/v1/case-reports", Json(UniqueReport()));

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/v1/studies")).StatusCode);
    }

    [Fact]
    public async Task Submit_WithUnknownKey_Is401Problem()
    {
        var response = await api.CreateClient("ek_con_not-a-real-key").PostAsync("/v1/case-reports", Json(UniqueReport()));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("not valid", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_WithUnknownKey_IsServedAsPublicEvidence()
    {
        // Keys are checked only where an endpoint needs one: a stale key in a client's settings does not break reads.
        var response = await api.CreateClient("ek_con_not-a-real-key").GetAsync("/v1/studies?limit=1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl is { Private: true, NoStore: true });
    }

    [Fact]
    public async Task Submit_InvalidReport_ReturnsAllErrorsByPathAndStoresNothing()
    {
        var client = await ContributorAsync();
        var report = UniqueReport();
        report["patient"]!["age"] = 200;
        report["outcomes"]![1]!["responders"] = 4;
        report["informedConsent"] = false;
        var before = await SubmissionCountAsync();

        var response = await client.PostAsync("/v1/case-reports", Json(report));

        var errors = (await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("patient.age", out _));
        Assert.True(errors.TryGetProperty("outcomes[1].responders", out _));
        Assert.True(errors.TryGetProperty("informedConsent", out _));
        Assert.Equal(before, await SubmissionCountAsync());
    }

    [Fact]
    public async Task Submit_UnknownPropertyAndWrongType_AreReportedNotDropped()
    {
        var client = await ContributorAsync();
        var report = UniqueReport();
        report["patient"]!["weightKg"] = 80;
        report["followUpWeeks"] = "six months";

        var errors = (await (await client.PostAsync("/v1/case-reports", Json(report))).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors");

        Assert.True(errors.TryGetProperty("patient.weightKg", out _));
        Assert.True(errors.TryGetProperty("followUpWeeks", out _));
    }

    [Theory]
    [InlineData("{ \"title\": ")]
    [InlineData("[1, 2, 3]")]
    [InlineData("")]
    public async Task Submit_MalformedJson_Is400Problem(string body)
    {
        var client = await ContributorAsync();
        var response = await client.PostAsync("/v1/case-reports", new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("$", out _));
    }

    [Fact]
    public async Task Submit_DeeplyNestedJson_Is400Problem()
    {
        var client = await ContributorAsync();
        var body = "{\"patient\":" + string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 101);
        await (await client.PostAsync("/v1/case-reports", new StringContent(body, Encoding.UTF8, "application/json")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Submit_WrongContentType_Is415Problem()
    {
        var client = await ContributorAsync();
        var response = await client.PostAsync("/v1/case-reports", new StringContent(UniqueReport().ToJsonString(), Encoding.UTF8, "text/plain"));
        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Submit_OversizedBody_Is413Problem()
    {
        var client = await ContributorAsync();
        var report = UniqueReport();
        report["summary"] = new string('x', CaseReportJson.MaxBodyBytes + 1);
        await (await client.PostAsync("/v1/case-reports", Json(report))).ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Submit_DoiOfAnExistingStudy_Is409WithLinkToIt()
    {
        var client = await ContributorAsync();
        var report = UniqueReport();
        report["source"]!["doi"] = "10.46439/STEMCELL.5.019";
        var existing = await (await client.GetAsync("/v1/studies/srivastava-2024-scalp-secretome")).ShouldBeOkAsync<EvidenceApi.Studies.StudyDetail>();

        var problem = await (await client.PostAsync("/v1/case-reports", Json(report))).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal($"/v1/studies/{existing.Id}", problem.GetProperty("existing").GetString());
    }

    [Fact]
    public async Task Submit_PmidOfAnExistingStudy_Is409()
    {
        var client = await ContributorAsync();
        var report = UniqueReport();
        report["source"]!["doi"] = null;
        report["source"]!["pmid"] = "35927231";

        var problem = await (await client.PostAsync("/v1/case-reports", Json(report))).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        Assert.StartsWith("/v1/studies/", problem.GetProperty("existing").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_NearIdenticalTitle_IsAcceptedButFlagged()
    {
        var client = await ContributorAsync();
        var report = UniqueReport();
        report["title"] = "Stem cell secretome mediated alleviation of scalp psoriasis: a case report";
        report["source"]!["title"] = null;

        var response = await client.PostAsync("/v1/case-reports", Json(report));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var submission = await TitleCheckedAsync(client, (await response.Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json))!);
        Assert.NotNull(submission.PossibleDuplicate);
        Assert.Equal("Stem cell secretome-mediated alleviation of scalp psoriasis: A case report", submission.PossibleDuplicate.Title);
        Assert.True(submission.PossibleDuplicate.Similarity >= DuplicateTitleChecks.Threshold);
    }

    [Fact]
    public async Task Submit_DistinctTitle_IsNotFlagged()
    {
        var client = await ContributorAsync();
        var submission = await (await client.PostAsync("/v1/case-reports", Json(UniqueReport()))).Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json);
        Assert.Null((await TitleCheckedAsync(client, submission!)).PossibleDuplicate);
    }

    [Fact]
    public async Task Submit_RetriedWithSameIdempotencyKey_ReturnsTheOriginalAndStoresNothingNew()
    {
        var client = await ContributorAsync();
        var report = UniqueReport();
        client.DefaultRequestHeaders.Add("Idempotency-Key", Guid.NewGuid().ToString());

        var first = await client.PostAsync("/v1/case-reports", Json(report));
        var countAfterFirst = await SubmissionCountAsync();
        var second = await client.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(countAfterFirst, await SubmissionCountAsync());
    }

    [Fact]
    public async Task Submit_SameIdempotencyKeyWithAnotherBody_Is422()
    {
        var client = await ContributorAsync();
        client.DefaultRequestHeaders.Add("Idempotency-Key", Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/v1/case-reports", Json(UniqueReport()))).StatusCode);
        var before = await SubmissionCountAsync();

        var response = await client.PostAsync("/v1/case-reports", Json(UniqueReport()));

        await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(before, await SubmissionCountAsync());
    }

    [Fact]
    public async Task Submit_ConcurrentRetriesWithSameKey_StoreExactlyOneSubmission()
    {
        var key = await api.CreateKeyAsync("contributor");
        var idempotencyKey = Guid.NewGuid().ToString();
        var body = UniqueReport().ToJsonString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var client = api.CreateClient(key);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/case-reports") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            var response = await client.SendAsync(request);
            return (response.StatusCode, Location: response.Headers.Location?.ToString());
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Single(responses.Select(r => r.Location).Distinct());
        Assert.Equal(1, await api.QueryScalarAsync<long>("SELECT count(*) FROM submissions WHERE idempotency_key = @Key", new { Key = idempotencyKey }));
    }

    [Fact]
    public async Task Submit_ConcurrentSameDoiWithDifferentKeys_AcceptsOnlyOne()
    {
        var client = await ContributorAsync();
        var body = UniqueReport().ToJsonString();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
            (await client.PostAsync("/v1/case-reports", new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode));

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.Conflict));
    }

    [Fact]
    public async Task Submit_BadIdempotencyKey_Is400NamingTheHeader()
    {
        var client = await ContributorAsync();
        client.DefaultRequestHeaders.Add("Idempotency-Key", new string('k', 201));
        await (await client.PostAsync("/v1/case-reports", Json(UniqueReport()))).ShouldBeFieldErrorAsync("Idempotency-Key");
    }
}
