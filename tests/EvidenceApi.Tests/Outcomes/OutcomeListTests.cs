using EvidenceApi.Interventions;
using EvidenceApi.Outcomes;
using EvidenceApi.Querying;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Outcomes;

public sealed class OutcomeListTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private readonly HttpClient client = api.CreateClient();

    private async Task<Page<OutcomeListItem>> OutcomesAsync(string query) =>
        await (await client.GetAsync("/v1/outcomes" + query)).ShouldBeOkAsync<Page<OutcomeListItem>>();

    [Fact]
    public async Task Outcomes_ForUmbilicalCordCellsGivenIntravenously_AreThoseOfSuchInterventions()
    {
        var page = await OutcomesAsync("?measure=pasi_40&product=msc_cells&cellSource=umbilical_cord&route=intravenous&limit=200");

        var result = Assert.Single(page.Items, i => i.Study.Key == "cheng-2022-umsc-psoriasis-phase-1-2a");
        Assert.Equal(17, result.Outcome.Assessed);
        Assert.Equal(8, result.Outcome.Responders);
        Assert.Equal("umbilical_cord", result.Intervention?.CellSource);
        Assert.All(page.Items, i => Assert.Equal("pasi_40", i.Outcome.Measure));
        Assert.All(page.Items.Where(i => i.Intervention is not null), i => Assert.Equal("intravenous", i.Intervention!.Route));
    }

    [Fact]
    public async Task Outcomes_ForTopicalRoute_ExcludeIntravenousStudies()
    {
        var page = await OutcomesAsync("?route=topical&limit=200");

        Assert.Contains(page.Items, i => i.Study.Key == "srivastava-2024-scalp-secretome" && i.Outcome.Measure == "relapse_free");
        Assert.DoesNotContain(page.Items, i => i.Study.Key == "cheng-2022-umsc-psoriasis-phase-1-2a");
    }

    [Fact]
    public async Task Outcomes_ByStudyAndTimepoint_FilterTogether()
    {
        var study = (await client.GetAsync("/v1/studies/srivastava-2024-scalp-secretome")).ShouldBeOkAsync<EvidenceApi.Studies.StudyDetail>();
        var id = (await study).Id;

        var early = await OutcomesAsync($"?studyId={id}&maxWeeks=10");
        var item = Assert.Single(early.Items);
        Assert.Equal("clinical_response", item.Outcome.Measure);

        var late = await OutcomesAsync($"?studyId={id}&minWeeks=100");
        Assert.Equal("relapse_free", Assert.Single(late.Items).Outcome.Measure);
    }

    [Fact]
    public async Task Outcomes_MeasureWithNoResults_ReturnsEmptyPage()
    {
        var page = await OutcomesAsync("?measure=iga&cellSource=umbilical_cord");
        Assert.Empty(page.Items);
        Assert.Equal(0, page.Total);
    }

    [Fact]
    public async Task Outcomes_CursorPaging_VisitsEveryOutcomeOnce()
    {
        var all = await OutcomesAsync("?limit=200");
        var seen = new List<long>();
        string? cursor = null;
        do
        {
            var page = await OutcomesAsync("?limit=3" + (cursor is null ? "" : $"&cursor={cursor}"));
            seen.AddRange(page.Items.Select(i => i.Outcome.Id));
            cursor = page.Next;
        }
        while (cursor is not null);

        Assert.Equal(all.Items.Select(i => i.Outcome.Id), seen);
        Assert.Equal(all.Total, seen.Distinct().Count());
    }

    [Theory]
    [InlineData("?measure=pasi-75", "measure")]
    [InlineData("?route=oral", "route")]
    [InlineData("?studyId=abc", "studyId")]
    [InlineData("?minWeeks=-1", "minWeeks")]
    [InlineData("?minWeeks=10&maxWeeks=5", "maxWeeks")]
    [InlineData("?evidence=tertiary", "evidence")]
    [InlineData("?limit=1000", "limit")]
    public async Task Outcomes_WithBadParameter_ReturnsProblemNamingIt(string query, string parameter) =>
        await (await client.GetAsync("/v1/outcomes" + query)).ShouldBeFieldErrorAsync(parameter);

    [Fact]
    public async Task Interventions_FilteredByProduct_ReturnOnlyThatProductWithTheirStudy()
    {
        var page = await (await client.GetAsync("/v1/interventions?product=conditioned_medium&limit=200")).ShouldBeOkAsync<Page<InterventionListItem>>();

        Assert.Contains(page.Items, i => i.Study.Key == "srivastava-2024-scalp-secretome");
        Assert.All(page.Items, i => Assert.Equal("conditioned_medium", i.Intervention.Product));
        Assert.All(page.Items, i => Assert.Equal(i.Study.Id, i.Intervention.StudyId));
    }

    [Fact]
    public async Task Interventions_FilteredByCellSourceAndRoute_FindTheUmbilicalCordTrial()
    {
        var page = await (await client.GetAsync("/v1/interventions?cellSource=umbilical_cord&route=intravenous&limit=200")).ShouldBeOkAsync<Page<InterventionListItem>>();

        Assert.Contains(page.Items, i => i.Study.Key == "cheng-2022-umsc-psoriasis-phase-1-2a");
        Assert.All(page.Items, i => Assert.Equal(("umbilical_cord", "intravenous"), (i.Intervention.CellSource, i.Intervention.Route)));
    }

    [Theory]
    [InlineData("?product=cells", "product")]
    [InlineData("?donor=mine", "donor")]
    [InlineData("?offset=x", "offset")]
    public async Task Interventions_WithBadParameter_ReturnsProblemNamingIt(string query, string parameter) =>
        await (await client.GetAsync("/v1/interventions" + query)).ShouldBeFieldErrorAsync(parameter);
}
