using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Studies;

public sealed class StudyListTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private const string CaseReport2024 = "srivastava-2024-scalp-secretome";
    private const string Review2020 = "paganelli-2020-msc-psoriasis-review";
    private const string UmbilicalCordTrial = "cheng-2022-umsc-psoriasis-phase-1-2a";

    private readonly HttpClient client = api.CreateClient();

    private async Task<Page<StudySummary>> ListAsync(string query) =>
        await (await client.GetAsync("/v1/studies" + query)).ShouldBeOkAsync<Page<StudySummary>>();

    [Fact]
    public async Task List_WithoutFilters_ReturnsEverySeededStudyWithTotal()
    {
        var page = await ListAsync("?limit=200");

        Assert.True(page.Total >= 9, $"Expected the seeded studies, total was {page.Total}");
        Assert.Equal(page.Total, page.Items.Count);
        Assert.Contains(page.Items, s => s.Key == CaseReport2024 && s.Doi == "10.46439/stemcell.5.019" && s.Year == 2024);
        Assert.Contains(page.Items, s => s.Key == Review2020 && s.Design == "narrative_review" && s.Participants == 6);
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task List_DefaultSort_IsNewestFirst()
    {
        var page = await ListAsync("?limit=200");
        var years = page.Items.Select(s => s.Year ?? 0).ToList();
        Assert.Equal(years.OrderByDescending(y => y), years);
    }

    [Theory]
    [InlineData("?condition=Psoriasis&subtype=scalp", CaseReport2024)]
    [InlineData("?design=case_report", CaseReport2024)]
    [InlineData("?design=case_report,narrative_review", Review2020)]
    [InlineData("?product=conditioned_medium", CaseReport2024)]
    [InlineData("?route=topical", CaseReport2024)]
    [InlineData("?cellSource=umbilical_cord", UmbilicalCordTrial)]
    [InlineData("?product=msc_cells&cellSource=umbilical_cord&route=intravenous", UmbilicalCordTrial)]
    [InlineData("?measure=relapse_free", CaseReport2024)]
    [InlineData("?measure=pasi_40", UmbilicalCordTrial)]
    [InlineData("?yearFrom=2024&yearTo=2024", CaseReport2024)]
    [InlineData("?yearFrom=2020&yearTo=2020", Review2020)]
    [InlineData("?country=china", UmbilicalCordTrial)]
    [InlineData("?q=secretome", CaseReport2024)]
    [InlineData("?q=%22scalp%20psoriasis%22", CaseReport2024)]
    [InlineData("?q=comprehensive%20review", Review2020)]
    public async Task List_WithFilter_FindsTheSeededStudy(string query, string expectedKey)
    {
        var page = await ListAsync(query + "&limit=200");

        Assert.Contains(page.Items, s => s.Key == expectedKey);
        Assert.Equal(page.Total, page.Items.Count);
    }

    [Fact]
    public async Task List_WithFilters_ReturnsOnlyMatchingStudies()
    {
        var caseReports = await ListAsync("?design=case_report&limit=200");
        Assert.All(caseReports.Items, s => Assert.Equal("case_report", s.Design));

        var topical = await ListAsync("?route=topical&limit=200");
        Assert.All(topical.Items, s => Assert.Contains("topical", s.Routes));
        Assert.DoesNotContain(topical.Items, s => s.Key == UmbilicalCordTrial);

        var recent = await ListAsync("?yearFrom=2022&limit=200");
        Assert.All(recent.Items, s => Assert.True(s.Year >= 2022));
        Assert.DoesNotContain(recent.Items, s => s.Key == Review2020);
    }

    [Fact]
    public async Task List_InterventionFilters_MustHoldForTheSameIntervention()
    {
        // The 2024 case report's only intervention is topical conditioned medium, not intravenous.
        var page = await ListAsync("?product=conditioned_medium&route=intravenous&limit=200");
        Assert.DoesNotContain(page.Items, s => s.Key == CaseReport2024);
    }

    [Fact]
    public async Task List_WithFilterMatchingNothing_ReturnsEmptyPageWithZeroTotal()
    {
        var page = await ListAsync("?condition=lupus");
        Assert.Empty(page.Items);
        Assert.Equal(0, page.Total);
        Assert.Null(page.Next);
    }

    [Theory]
    [InlineData("-year")]
    [InlineData("year")]
    [InlineData("title")]
    [InlineData("-participants")]
    [InlineData("id")]
    public async Task CursorPaging_VisitsEveryStudyOnceInOrder(string sort)
    {
        var all = await ListAsync($"?sort={sort}&limit=200");
        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await ListAsync($"?sort={sort}&limit=2" + (cursor is null ? "" : $"&cursor={cursor}"));
            Assert.True(page.Items.Count <= 2);
            Assert.Equal(all.Total, page.Total);
            seen.AddRange(page.Items.Select(s => s.Id));
            cursor = page.Next;
            pages++;
        }
        while (cursor is not null && pages < 100);

        Assert.Equal(all.Items.Select(s => s.Id), seen);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public async Task OffsetPaging_VisitsEveryStudyOnce()
    {
        var all = await ListAsync("?sort=title&limit=200");
        var seen = new List<long>();
        for (var offset = 0; offset < all.Total; offset += 3)
        {
            seen.AddRange((await ListAsync($"?sort=title&limit=3&offset={offset}")).Items.Select(s => s.Id));
        }

        Assert.Equal(all.Items.Select(s => s.Id), seen);
    }

    [Fact]
    public async Task List_WithoutTotal_OmitsTheCount()
    {
        var page = await ListAsync("?includeTotal=false&limit=1");
        Assert.Null(page.Total);
        Assert.Single(page.Items);
        Assert.NotNull(page.Next);
    }

    [Theory]
    [InlineData("?limit=abc", "limit")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=201", "limit")]
    [InlineData("?offset=-1", "offset")]
    [InlineData("?yearFrom=20x", "yearFrom")]
    [InlineData("?yearFrom=2024&yearTo=2020", "yearTo")]
    [InlineData("?design=case_reprot", "design")]
    [InlineData("?product=stem_cells", "product")]
    [InlineData("?cellSource=liver", "cellSource")]
    [InlineData("?route=oral", "route")]
    [InlineData("?donor=someone", "donor")]
    [InlineData("?measure=pasi75", "measure")]
    [InlineData("?sort=color", "sort")]
    [InlineData("?sort=relevance", "sort")]
    [InlineData("?cursor=not-a-cursor", "cursor")]
    [InlineData("?includeTotal=maybe", "includeTotal")]
    public async Task List_WithBadParameter_ReturnsProblemNamingIt(string query, string parameter)
    {
        var messages = await (await client.GetAsync("/v1/studies" + query)).ShouldBeFieldErrorAsync(parameter);
        Assert.All(messages, m => Assert.DoesNotContain("Exception", m, StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_WithUnknownVocabularyValue_ListsTheAllowedValues()
    {
        var messages = await (await client.GetAsync("/v1/studies?route=oral")).ShouldBeFieldErrorAsync("route");
        Assert.Contains(messages, m => m.Contains("intravenous", StringComparison.Ordinal) && m.Contains("topical", StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_WithCursorFromAnotherSort_ReturnsProblemNamingCursor()
    {
        var first = await ListAsync("?sort=title&limit=1");
        Assert.NotNull(first.Next);
        await (await client.GetAsync($"/v1/studies?sort=-year&cursor={first.Next}")).ShouldBeFieldErrorAsync("cursor");
    }

    [Fact]
    public async Task List_WithCursorAndOffset_ReturnsProblemNamingOffset()
    {
        var first = await ListAsync("?limit=1");
        await (await client.GetAsync($"/v1/studies?offset=1&cursor={first.Next}")).ShouldBeFieldErrorAsync("offset");
    }

    [Fact]
    public async Task List_WithSqlMetacharactersInText_IsInert()
    {
        var page = await ListAsync("?q=%27%3B%20DROP%20TABLE%20studies%3B%20--&condition=%27%20OR%201%3D1%20--");
        Assert.Empty(page.Items);
        Assert.True((await ListAsync("")).Total >= 9);
    }
}
