using System.Net;
using EvidenceApi.Studies;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Studies;

public sealed class StudyDetailTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private readonly HttpClient client = api.CreateClient();

    private async Task<StudyDetail> GetAsync(string idOrKey) =>
        await (await client.GetAsync($"/v1/studies/{idOrKey}")).ShouldBeOkAsync<StudyDetail>();

    [Fact]
    public async Task Get_CaseReport2024_HasSourceInterventionAndBothOutcomesWithQuotes()
    {
        var study = await GetAsync("srivastava-2024-scalp-secretome");

        Assert.Equal("case_report", study.Design);
        Assert.Equal("psoriasis", study.Condition);
        Assert.Equal("scalp", study.ConditionSubtype);
        Assert.Equal(1, study.Participants);
        Assert.Equal(156, study.FollowUpWeeks);
        Assert.NotNull(study.Source);
        Assert.Equal("10.46439/stemcell.5.019", study.Source.Doi);
        Assert.Equal(2024, study.Source.Year);

        var intervention = Assert.Single(study.Interventions);
        Assert.Equal("conditioned_medium", intervention.Product);
        Assert.Equal("topical", intervention.Route);

        var response = Assert.Single(study.Outcomes, o => o.Measure == "clinical_response");
        Assert.Equal(4, response.TimepointWeeks);
        Assert.Equal(1, response.Responders);
        Assert.Contains("4 weeks", response.Quote, StringComparison.Ordinal);

        var relapseFree = Assert.Single(study.Outcomes, o => o.Measure == "relapse_free");
        Assert.Equal(156, relapseFree.TimepointWeeks);
        Assert.Contains("3 years", relapseFree.Quote, StringComparison.Ordinal);
        Assert.All(study.Outcomes, o => Assert.Equal(intervention.Id, o.InterventionId));
    }

    [Fact]
    public async Task Get_Review_ReportsSixOfSixPatientsResponding()
    {
        var review = await GetAsync("paganelli-2020-msc-psoriasis-review");

        Assert.Equal("narrative_review", review.Design);
        Assert.Equal(6, review.Participants);
        Assert.Equal(2020, review.Source?.Year);
        var response = Assert.Single(review.Outcomes, o => o.Measure == "clinical_response");
        Assert.Equal(6, response.Assessed);
        Assert.Equal(6, response.Responders);
        Assert.Contains("100%", response.Quote, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_ByNumericId_ReturnsTheSameStudyAsByKey()
    {
        var byKey = await GetAsync("cheng-2022-umsc-psoriasis-phase-1-2a");
        var byId = await GetAsync(byKey.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(byKey.Key, byId.Key);
        Assert.Equal(byKey.Outcomes.Count, byId.Outcomes.Count);
        Assert.Contains(byId.Outcomes, o => o is { Measure: "pasi_40", Assessed: 17, Responders: 8 });
    }

    [Fact]
    public async Task Get_EveryOutcomeOfEverySeededStudy_CarriesAQuote()
    {
        var page = await (await client.GetAsync("/v1/studies?limit=200")).ShouldBeOkAsync<EvidenceApi.Querying.Page<StudySummary>>();
        foreach (var summary in page.Items)
        {
            var study = await GetAsync(summary.Key);
            Assert.All(study.Outcomes, o => Assert.False(string.IsNullOrWhiteSpace(o.Quote)));
            Assert.All(study.Outcomes, o => Assert.True(o.Responders is null || o.Assessed is null || o.Responders <= o.Assessed));
            Assert.Equal(summary.OutcomeCount, study.Outcomes.Count);
        }
    }

    [Theory]
    [InlineData("999999")]
    [InlineData("no-such-study")]
    [InlineData("99999999999999999999999")]
    public async Task Get_UnknownStudy_ReturnsNotFoundProblem(string id)
    {
        var problem = await (await client.GetAsync($"/v1/studies/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains(id, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRoute_ReturnsNotFoundProblem()
    {
        await (await client.GetAsync("/v1/nothing-here")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }
}
