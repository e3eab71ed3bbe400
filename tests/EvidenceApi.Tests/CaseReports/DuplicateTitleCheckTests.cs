using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using EvidenceApi.CaseReports;
using EvidenceApi.Submissions;
using EvidenceApi.Tests.Infrastructure;
using EvidenceApi.Tests.Resilience;
using Microsoft.AspNetCore.Hosting;
using Npgsql;

namespace EvidenceApi.Tests.CaseReports;

/// <summary>
/// Over a million near-identical titles the search for a duplicate title takes seconds: a submission is stored without
/// waiting for it, the background worker finishes it, and one that runs out of time is given up, not retried forever.
/// </summary>
public sealed class DuplicateTitleCheckTests
{
    private const string NearIdenticalTitle = "Stem cell secretome mediated alleviation of scalp psoriasis: a case report";

    /// <summary>Submissions wait for the search at most <paramref name="waitMilliseconds"/>; the worker gives it one second.</summary>
    private sealed class Api(int waitMilliseconds) : EvidenceApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Submissions:TitleCheckWaitMilliseconds", waitMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("Database:AnalyticalStatementTimeoutSeconds", "1");
        }
    }

    /// <summary>Submissions never wait: every search is left to the worker.</summary>
    private static Api DeferringApi() => new(0);

    private static StringContent NearIdenticalReport()
    {
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.test.{Guid.NewGuid():N}";
        report["title"] = NearIdenticalTitle;
        return new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json");
    }

    /// <summary>A submission stored with its search pending, as a stopped instance would have left it.</summary>
    private static async Task<long> InsertPendingSubmissionAsync(Api api)
    {
        var keyId = await api.QueryScalarAsync<long>(
            "SELECT id FROM api_keys WHERE key_hash = @Hash", new { Hash = EvidenceApi.ApiKeys.ApiKeyStore.Hash(await api.CreateKeyAsync("contributor")) });
        return await api.QueryScalarAsync<long>(
            "INSERT INTO submissions (report, title, submitted_by) VALUES ('{}', @Title, @KeyId) RETURNING id",
            new { Title = NearIdenticalTitle, KeyId = keyId });
    }

    private static Task<string> TitleCheckAsync(Api api, long submissionId) =>
        api.QueryScalarAsync<string>("SELECT title_check FROM submissions WHERE id = @Id", new { Id = submissionId });

    [Fact]
    public async Task Submit_WhenTheSearchFinishesInTime_AnswersWithTheFlag()
    {
        await using var api = new Api(waitMilliseconds: 30_000);
        await api.InitializeAsync();
        var client = api.CreateClient(await api.CreateKeyAsync("contributor"));

        var response = await client.PostAsync("/v1/case-reports", NearIdenticalReport());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var stored = (await response.Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json))!;
        Assert.Equal(DuplicateTitleChecks.Done, stored.TitleCheck);
        Assert.Equal("Stem cell secretome-mediated alleviation of scalp psoriasis: A case report", stored.PossibleDuplicate?.Title);
    }

    [Fact]
    public async Task Submit_WithTheSearchLeftToTheWorker_IsStoredPendingAndThenFlagged()
    {
        await using var api = DeferringApi();
        await api.InitializeAsync();
        var client = api.CreateClient(await api.CreateKeyAsync("contributor"));

        var response = await client.PostAsync("/v1/case-reports", NearIdenticalReport());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var stored = (await response.Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json))!;
        Assert.Equal(DuplicateTitleChecks.Pending, stored.TitleCheck);
        Assert.Null(stored.PossibleDuplicate);

        SubmissionView? checkedLater = null;
        await DatabaseOutageTests.EventuallyAsync(async () =>
        {
            checkedLater = await client.GetFromJsonAsync<SubmissionView>(response.Headers.Location, HttpAssertions.Json);
            return checkedLater!.TitleCheck == DuplicateTitleChecks.Done;
        }, TimeSpan.FromSeconds(10));
        Assert.Equal("Stem cell secretome-mediated alleviation of scalp psoriasis: A case report", checkedLater!.PossibleDuplicate?.Title);
        Assert.True(checkedLater.PossibleDuplicate!.Similarity >= DuplicateTitleChecks.Threshold);
    }

    [Fact]
    public async Task PendingSearch_LeftByAStoppedInstance_IsTakenUpAtStartAndGivenUpWhenOutOfTime()
    {
        await using var api = DeferringApi();
        await api.InitializeAsync();
        var submissionId = await InsertPendingSubmissionAsync(api);

        // The studies stay locked, so the search cannot finish within its second.
        await using var locker = new NpgsqlConnection(api.ConnectionString);
        await locker.OpenAsync();
        await locker.ExecuteAsync("BEGIN; LOCK TABLE studies IN ACCESS EXCLUSIVE MODE;");
        _ = api.CreateClient();

        await DatabaseOutageTests.EventuallyAsync(
            async () => await TitleCheckAsync(api, submissionId) == DuplicateTitleChecks.TimedOut,
            TimeSpan.FromSeconds(10));
        await locker.ExecuteAsync("ROLLBACK");
        Assert.True(await api.QueryScalarAsync<bool>("SELECT similar_study_id IS NULL FROM submissions WHERE id = @Id", new { Id = submissionId }));
    }

    [Fact]
    public async Task PendingSearch_OfASubmissionPublishedMeanwhile_DoesNotFlagItsOwnStudy()
    {
        await using var api = DeferringApi();
        await api.InitializeAsync();
        var submissionId = await InsertPendingSubmissionAsync(api);
        // The one study with a near-identical title is the one this submission became.
        await api.QueryScalarAsync<long>(
            "UPDATE studies SET submission_id = @Id WHERE title LIKE 'Stem cell secretome-mediated%' RETURNING id", new { Id = submissionId });
        _ = api.CreateClient();

        await DatabaseOutageTests.EventuallyAsync(
            async () => await TitleCheckAsync(api, submissionId) == DuplicateTitleChecks.Done,
            TimeSpan.FromSeconds(10));
        Assert.True(await api.QueryScalarAsync<bool>("SELECT similar_study_id IS NULL FROM submissions WHERE id = @Id", new { Id = submissionId }));
    }
}
