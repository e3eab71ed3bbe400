using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvidenceApi.Outcomes;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Submissions;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Submissions;

public sealed class ModerationTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private static JsonNode UniqueReport(string title)
    {
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.moderation.{Guid.NewGuid():N}";
        report["source"]!["title"] = title;
        report["title"] = title;
        return report;
    }

    private static async Task<SubmissionView> SubmitAsync(HttpClient contributor, JsonNode report)
    {
        var response = await contributor.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json))!;
    }

    private static Task<HttpResponseMessage> DecideAsync(HttpClient client, long id, string action, string? reason) =>
        client.PostAsJsonAsync($"/v1/submissions/{id}/{action}", new { reason });

    [Fact]
    public async Task RoundTrip_SubmitPublish_FindsTheCaseReportWithItsOutcomesInEveryReadEndpoint()
    {
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var curator = api.CreateClient(await api.CreateKeyAsync("curator", "Curator Carol"));
        var title = $"Round trip {Guid.NewGuid():N}: adipose secretome for scalp psoriasis";
        var submitted = await SubmitAsync(contributor, UniqueReport(title));

        var queue = await (await curator.GetAsync("/v1/submissions?status=submitted&limit=200")).ShouldBeOkAsync<Page<SubmissionView>>();
        Assert.Contains(queue.Items, s => s.Id == submitted.Id);
        Assert.DoesNotContain((await (await api.CreateClient().GetAsync("/v1/studies?design=case_report&limit=200")).ShouldBeOkAsync<Page<StudySummary>>()).Items, s => s.Title == title);

        var published = await (await DecideAsync(curator, submitted.Id, "publish", "Complete and consented")).ShouldBeOkAsync<SubmissionView>();

        Assert.Equal("published", published.Status);
        Assert.NotNull(published.StudyId);
        var studies = await (await api.CreateClient().GetAsync("/v1/studies?design=case_report&subtype=scalp&product=conditioned_medium&limit=200")).ShouldBeOkAsync<Page<StudySummary>>();
        var summary = Assert.Single(studies.Items, s => s.Title == title);
        Assert.Equal(published.StudyId, summary.Id);
        Assert.Equal(1, summary.Participants);

        var study = await (await api.CreateClient().GetAsync($"/v1/studies/{summary.Id}")).ShouldBeOkAsync<StudyDetail>();
        Assert.Equal("10.5555", study.Source?.Doi?[..7]);
        Assert.Equal(38, study.AgeMin);
        Assert.Equal(1, study.MaleCount);
        Assert.Equal(26, study.FollowUpWeeks);
        var intervention = Assert.Single(study.Interventions);
        Assert.Equal(("conditioned_medium", "adipose", "allogeneic", "topical"), (intervention.Product, intervention.CellSource, intervention.Donor, intervention.Route));
        var pssi = Assert.Single(study.Outcomes, o => o.Measure == "pssi");
        Assert.Equal((28m, 0m, 4m), (pssi.BaselineValue!.Value, pssi.Value!.Value, pssi.TimepointWeeks!.Value));
        Assert.Contains(study.Outcomes, o => o is { Measure: "clinical_response", Responders: 1, Assessed: 1 });
        Assert.Contains(study.Outcomes, o => o is { Measure: "relapse_free", Responders: 1, TimepointWeeks: 26 });
        Assert.Contains(study.Outcomes, o => o is { Measure: "adverse_events", Responders: 0 });
        Assert.All(study.Outcomes, o => Assert.Contains($"submission {submitted.Id}", o.Quote, StringComparison.Ordinal));

        var outcomes = await (await api.CreateClient().GetAsync($"/v1/outcomes?measure=pssi&route=topical&studyId={summary.Id}")).ShouldBeOkAsync<Page<OutcomeListItem>>();
        Assert.Single(outcomes.Items);
    }

    [Fact]
    public async Task Publish_Twice_IsConflictAndEveryChangeIsRecorded()
    {
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor", "Contributor Cid"));
        var curator = api.CreateClient(await api.CreateKeyAsync("curator", "Curator Cay"));
        var submitted = await SubmitAsync(contributor, UniqueReport($"Twice {Guid.NewGuid():N}"));

        (await DecideAsync(curator, submitted.Id, "publish", "Looks right")).EnsureSuccessStatusCode();
        await (await DecideAsync(curator, submitted.Id, "publish", null)).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await DecideAsync(curator, submitted.Id, "reject", "Too late")).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        var events = await (await curator.GetAsync($"/v1/submissions/{submitted.Id}/events")).ShouldBeOkAsync<List<SubmissionEvent>>();
        Assert.Collection(events,
            e => Assert.Equal((null, "submitted", "Contributor Cid", "contributor"), (e.FromStatus, e.ToStatus, e.ActorName, e.ActorRole)),
            e => Assert.Equal(("submitted", "published", "Curator Cay", "Looks right"), (e.FromStatus, e.ToStatus, e.ActorName, e.Reason)));
        Assert.All(events, e => Assert.True(e.At > DateTimeOffset.UtcNow.AddMinutes(-5)));
    }

    [Fact]
    public async Task Reject_NeedsAReason_AndKeepsTheCaseOutOfStudies()
    {
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var curator = api.CreateClient(await api.CreateKeyAsync("curator"));
        var title = $"Rejected {Guid.NewGuid():N}";
        var submitted = await SubmitAsync(contributor, UniqueReport(title));

        await (await DecideAsync(curator, submitted.Id, "reject", "  ")).ShouldBeFieldErrorAsync("reason");
        var rejected = await (await DecideAsync(curator, submitted.Id, "reject", "No outcome data beyond the abstract")).ShouldBeOkAsync<SubmissionView>();

        Assert.Equal("rejected", rejected.Status);
        Assert.Null(rejected.StudyId);
        var studies = await (await api.CreateClient().GetAsync($"/v1/studies?q={Uri.EscapeDataString(title)}")).ShouldBeOkAsync<Page<StudySummary>>();
        Assert.Empty(studies.Items);
        var mine = await (await contributor.GetAsync($"/v1/submissions/{submitted.Id}")).ShouldBeOkAsync<SubmissionView>();
        Assert.Equal("rejected", mine.Status);
        var events = await (await curator.GetAsync($"/v1/submissions/{submitted.Id}/events")).ShouldBeOkAsync<List<SubmissionEvent>>();
        Assert.Equal("No outcome data beyond the abstract", events[^1].Reason);
    }

    [Fact]
    public async Task Contributor_CannotModerate_AndSeesOnlyOwnSubmissions()
    {
        var alice = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var bob = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var alices = await SubmitAsync(alice, UniqueReport($"Alice {Guid.NewGuid():N}"));

        await (await DecideAsync(alice, alices.Id, "publish", null)).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await alice.GetAsync($"/v1/submissions/{alices.Id}/events")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await bob.GetAsync($"/v1/submissions/{alices.Id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        var bobsList = await (await bob.GetAsync("/v1/submissions?limit=200")).ShouldBeOkAsync<Page<SubmissionView>>();
        Assert.DoesNotContain(bobsList.Items, s => s.Id == alices.Id);
        var alicesList = await (await alice.GetAsync("/v1/submissions?status=submitted&limit=200")).ShouldBeOkAsync<Page<SubmissionView>>();
        Assert.Equal(alices.Id, Assert.Single(alicesList.Items).Id);
    }

    [Fact]
    public async Task Moderation_WithoutKey_Is401_AndUnknownSubmissionIs404()
    {
        await (await api.CreateClient().GetAsync("/v1/submissions")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        var curator = api.CreateClient(await api.CreateKeyAsync("curator"));
        await (await DecideAsync(curator, 987654, "publish", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await curator.GetAsync("/v1/submissions/987654")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await curator.GetAsync("/v1/submissions?status=pending")).ShouldBeFieldErrorAsync("status");
    }

    [Fact]
    public async Task ApiKeys_AreStoredOnlyAsHashes()
    {
        var key = await api.CreateKeyAsync("contributor");
        var stored = await api.QueryScalarAsync<long>(
            "SELECT count(*) FROM api_keys WHERE position(convert_to(@Key, 'UTF8') in key_hash) > 0 OR key_prefix = @Key", new { Key = key });
        Assert.Equal(0, stored);
        Assert.Equal(1, await api.QueryScalarAsync<long>("SELECT count(*) FROM api_keys WHERE key_hash = sha256(convert_to(@Key, 'UTF8'))", new { Key = key }));
    }

    [Fact]
    public async Task SwaggerExample_IsACompleteReportThatIsAccepted()
    {
        var document = await (await api.CreateClient().GetAsync("/swagger/v1/swagger.json")).ShouldBeOkAsync<JsonElement>();
        var post = document.GetProperty("paths").GetProperty("/v1/case-reports").GetProperty("post");
        var example = post.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");
        Assert.True(post.TryGetProperty("security", out _), "The submit operation must declare the API key");
        Assert.Equal("X-Api-Key", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").GetProperty("name").GetString());

        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var response = await contributor.PostAsync("/v1/case-reports", new StringContent(example.GetRawText(), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}
