using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Querying;

/// <summary>Search semantics on synthetic studies whose words occur nowhere else.</summary>
public sealed class SearchTests(SearchTests.Api api) : IClassFixture<SearchTests.Api>
{
    private readonly HttpClient client = api.CreateClient();

    public sealed class Api : EvidenceApiFactory
    {
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await SeedAsync(new Dictionary<string, string>
            {
                ["flurbosis.json"] = """
                    { "source": { "title": "Synthetic flurbosis studies", "year": 2023 },
                      "studies": [
                        { "key": "flurbosis-a", "title": "Zorblax infusion for plaque flurbosis", "design": "case_report", "condition": "flurbosis",
                          "summary": "One patient." },
                        { "key": "flurbosis-b", "title": "Quintor gel for scalp flurbosis", "design": "case_report", "condition": "flurbosis",
                          "summary": "One patient." },
                        { "key": "flurbosis-c", "title": "Zorblax and quintor combined in flurbosis", "design": "case_series", "condition": "flurbosis" },
                        { "key": "flurbosis-d", "title": "An unrelated title about flurbosis", "design": "case_report", "condition": "flurbosis",
                          "summary": "Mentions zorblax only in passing.",
                          "interventions": [ { "key": "x", "product": "exosomes", "route": "topical", "doseText": "vortexed exosome paste" } ],
                          "outcomes": [ { "intervention": "x", "measure": "clinical_response", "assessed": 1, "responders": 1,
                                          "result": "glimmering improvement", "quote": "a glimmering improvement" } ] }
                      ] }
                    """,
            });
        }
    }

    private async Task<Page<StudySummary>> SearchAsync(string q, string extra = "") =>
        await (await client.GetAsync($"/v1/studies?condition=flurbosis&limit=200&q={Uri.EscapeDataString(q)}{extra}")).ShouldBeOkAsync<Page<StudySummary>>();

    private async Task<string[]> KeysAsync(string q) => (await SearchAsync(q)).Items.Select(s => s.Key).Order().ToArray();

    [Fact]
    public async Task Word_FindsEveryStudyMentioningIt_TitleMatchesRankedFirst()
    {
        var page = await SearchAsync("zorblax");
        Assert.Equal(["flurbosis-a", "flurbosis-c", "flurbosis-d"], page.Items.Select(s => s.Key).Order());
        Assert.Equal("flurbosis-d", page.Items[^1].Key);
    }

    [Fact]
    public async Task Or_FindsEither() => Assert.Equal(["flurbosis-a", "flurbosis-b", "flurbosis-c", "flurbosis-d"], await KeysAsync("zorblax OR quintor"));

    [Fact]
    public async Task Minus_Excludes() => Assert.Equal(["flurbosis-a", "flurbosis-d"], await KeysAsync("zorblax -quintor"));

    [Fact]
    public async Task Phrase_MatchesOnlyTheWordsInOrder()
    {
        Assert.Equal(["flurbosis-a"], await KeysAsync("\"plaque flurbosis\""));
        Assert.Empty(await KeysAsync("\"flurbosis plaque\""));
    }

    [Fact]
    public async Task InterventionAndOutcomeText_AreSearched()
    {
        Assert.Equal(["flurbosis-d"], await KeysAsync("vortexed"));
        Assert.Equal(["flurbosis-d"], await KeysAsync("glimmering"));
    }

    [Fact]
    public async Task Typo_IsCorrectedToTheNearestKnownWord_AndSaysSo()
    {
        var page = await SearchAsync("zorblox");

        Assert.Equal("zorblax", page.SearchedFor);
        Assert.Equal(["flurbosis-a", "flurbosis-c", "flurbosis-d"], page.Items.Select(s => s.Key).Order());
    }

    [Fact]
    public async Task ExactHit_IsNotCorrected()
    {
        var page = await SearchAsync("quintor");
        Assert.Null(page.SearchedFor);
    }

    [Fact]
    public async Task Search_CombinesWithFilters()
    {
        var page = await SearchAsync("zorblax", "&design=case_series");
        Assert.Equal("flurbosis-c", Assert.Single(page.Items).Key);
    }

    [Fact]
    public async Task Search_SortedByAnotherKey_KeepsThatOrder_AndStillCorrectsTypos()
    {
        // Such searches run in their own transaction, planned for the words at hand.
        var byTitle = await SearchAsync("zorblax", "&sort=title");
        Assert.Equal(["flurbosis-d", "flurbosis-c", "flurbosis-a"], byTitle.Items.Select(s => s.Key));

        var corrected = await SearchAsync("zorblx", "&sort=-title");
        Assert.Equal("zorblax", corrected.SearchedFor);
        Assert.Equal(["flurbosis-a", "flurbosis-c", "flurbosis-d"], corrected.Items.Select(s => s.Key));
    }

    [Fact]
    public async Task RelevanceSort_PagesWithCursorsWithoutLossOrRepeat()
    {
        var all = await SearchAsync("zorblax OR quintor OR flurbosis");
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await (await client.GetAsync($"/v1/studies?condition=flurbosis&limit=1&q={Uri.EscapeDataString("zorblax OR quintor OR flurbosis")}"
                + (cursor is null ? "" : $"&cursor={cursor}"))).ShouldBeOkAsync<Page<StudySummary>>();
            seen.AddRange(page.Items.Select(s => s.Key));
            cursor = page.Next;
        }
        while (cursor is not null);

        Assert.Equal(all.Items.Select(s => s.Key), seen);
    }

    [Fact]
    public async Task SeededCaseReport_IsFoundByItsInterventionVocabulary()
    {
        var page = await (await client.GetAsync("/v1/studies?q=secretome%20topical&limit=200")).ShouldBeOkAsync<Page<StudySummary>>();
        Assert.Contains(page.Items, s => s.Key == "srivastava-2024-scalp-secretome");
    }
}
