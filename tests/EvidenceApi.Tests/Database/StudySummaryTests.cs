using Dapper;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Tests.Infrastructure;
using Npgsql;

namespace EvidenceApi.Tests.Database;

/// <summary>
/// The summary a list shows (products, cell sources, routes, measures and counts) is stored on the study and kept in
/// step by triggers. Whatever changes the child tables, it must equal a fresh aggregation of them.
/// </summary>
public sealed class StudySummaryTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private const string UmbilicalCordTrial = "cheng-2022-umsc-psoriasis-phase-1-2a";
    private const string CaseReport2024 = "srivastava-2024-scalp-secretome";
    private const string Review2020 = "paganelli-2020-msc-psoriasis-review";

    // Studies whose stored summary differs from the aggregate of their interventions, outcomes and inclusions.
    private const string StaleSummaries = """
        SELECT count(*) FROM studies s
        CROSS JOIN LATERAL (
            SELECT coalesce(array_agg(DISTINCT product ORDER BY product), '{}') AS products,
                   coalesce(array_agg(DISTINCT cell_source ORDER BY cell_source), '{}') AS cell_sources,
                   coalesce(array_agg(DISTINCT route ORDER BY route), '{}') AS routes,
                   count(*)::int AS n
            FROM interventions WHERE study_id = s.id) iv
        CROSS JOIN LATERAL (
            SELECT coalesce(array_agg(DISTINCT measure ORDER BY measure), '{}') AS measures, count(*)::int AS n
            FROM outcomes WHERE study_id = s.id) oc
        CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM review_inclusions WHERE review_study_id = s.id) ri
        WHERE (s.products, s.cell_sources, s.routes, s.intervention_count, s.measures, s.outcome_count, s.included_study_count)
              IS DISTINCT FROM (iv.products, iv.cell_sources, iv.routes, iv.n, oc.measures, oc.n, ri.n)
        """;

    private readonly HttpClient client = api.CreateClient();

    [Fact]
    public async Task SeededStudies_HaveSummariesEqualToTheirChildren()
    {
        Assert.Equal(0L, await api.QueryScalarAsync<long>(StaleSummaries));
        Assert.True(await api.QueryScalarAsync<long>("SELECT count(*) FROM studies WHERE intervention_count > 0") >= 8);
    }

    [Fact]
    public async Task ChildTableChanges_KeepTheSummaryInStep_AndTheListShowsThem()
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        var trial = await connection.ExecuteScalarAsync<long>("SELECT id FROM studies WHERE key = @Key", new { Key = UmbilicalCordTrial });
        var caseReport = await connection.ExecuteScalarAsync<long>("SELECT id FROM studies WHERE key = @Key", new { Key = CaseReport2024 });
        var review = await connection.ExecuteScalarAsync<long>("SELECT id FROM studies WHERE key = @Key", new { Key = Review2020 });

        // Insert, update, move and delete interventions and outcomes, several rows in one statement too.
        await connection.ExecuteAsync("""
            INSERT INTO interventions (study_id, key, product, cell_source, route)
            VALUES (@Trial, 'summary-test-a', 'exosomes', 'adipose', 'subcutaneous'),
                   (@Trial, 'summary-test-b', 'exosomes', 'bone_marrow', 'topical');
            UPDATE interventions SET route = 'intradermal' WHERE key = 'summary-test-b';
            INSERT INTO outcomes (study_id, measure, value, quote) VALUES (@Trial, 'dlqi', 4, 'Summary test.');
            DELETE FROM outcomes WHERE study_id = @CaseReport AND measure = 'relapse_free';
            UPDATE interventions SET study_id = @CaseReport WHERE key = 'summary-test-a';
            INSERT INTO review_inclusions (review_study_id, included_study_id) VALUES (@Review, @Trial), (@Review, @CaseReport);
            """, new { Trial = trial, CaseReport = caseReport, Review = review });

        Assert.Equal(0L, await api.QueryScalarAsync<long>(StaleSummaries));

        var listed = await ListAsync("?limit=200");
        var trialSummary = Assert.Single(listed, s => s.Key == UmbilicalCordTrial);
        Assert.Contains("exosomes", trialSummary.Products);
        Assert.Contains("intradermal", trialSummary.Routes);
        Assert.DoesNotContain("subcutaneous", trialSummary.Routes);
        Assert.Contains("dlqi", trialSummary.Measures);
        var caseReportSummary = Assert.Single(listed, s => s.Key == CaseReport2024);
        Assert.Contains("subcutaneous", caseReportSummary.Routes);
        Assert.DoesNotContain("relapse_free", caseReportSummary.Measures);
        Assert.Equal(2, Assert.Single(listed, s => s.Key == Review2020).IncludedStudyCount);

        // The summary filters answer from the stored arrays: they must see the change too.
        Assert.Contains(await ListAsync("?product=exosomes&limit=200"), s => s.Key == CaseReport2024);
        Assert.DoesNotContain(await ListAsync("?measure=relapse_free&limit=200"), s => s.Key == CaseReport2024);

        await connection.ExecuteAsync(
            "UPDATE review_inclusions SET review_study_id = @Trial WHERE review_study_id = @Review AND included_study_id = @CaseReport",
            new { Trial = trial, CaseReport = caseReport, Review = review });
        Assert.Equal(0L, await api.QueryScalarAsync<long>(StaleSummaries));
        Assert.Equal(1, await api.QueryScalarAsync<int>("SELECT included_study_count FROM studies WHERE id = @Trial", new { Trial = trial }));

        await connection.ExecuteAsync("""
            DELETE FROM interventions WHERE key IN ('summary-test-a', 'summary-test-b');
            DELETE FROM review_inclusions WHERE review_study_id IN (@Review, @Trial);
            """, new { Review = review, Trial = trial });

        Assert.Equal(0L, await api.QueryScalarAsync<long>(StaleSummaries));
        Assert.DoesNotContain(await ListAsync("?product=exosomes&limit=200"), s => s.Key is UmbilicalCordTrial or CaseReport2024);
    }

    [Fact]
    public async Task DirectWritesToTheSummary_AreReplacedByTheDerivedValues()
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.ExecuteAsync("UPDATE studies SET products = '{made_up}', outcome_count = 99 WHERE key = @Key", new { Key = UmbilicalCordTrial });

        Assert.Equal(0L, await api.QueryScalarAsync<long>(StaleSummaries));
    }

    private async Task<IReadOnlyList<StudySummary>> ListAsync(string query) =>
        (await (await client.GetAsync("/v1/studies" + query)).ShouldBeOkAsync<Page<StudySummary>>()).Items;
}
