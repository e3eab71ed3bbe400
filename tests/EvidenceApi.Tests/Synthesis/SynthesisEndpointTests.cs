using EvidenceApi.Synthesis;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Synthesis;

/// <summary>The synthesis endpoint over the seeds, and over synthetic studies whose pooled numbers are known by hand.</summary>
public sealed class SynthesisEndpointTests(SynthesisEndpointTests.Api api) : IClassFixture<SynthesisEndpointTests.Api>
{
    private readonly HttpClient client = api.CreateClient();

    public sealed class Api : EvidenceApiFactory
    {
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await SeedAsync(new Dictionary<string, string>
            {
                // Lupus: 3 of 4 and 4 of 6 respond at the last timepoint => 7 of 10.
                ["lupus-trial-a.json"] = """
                    { "source": { "title": "Synthetic lupus trial A", "year": 2020 },
                      "studies": [ { "key": "synthetic-lupus-a", "title": "Synthetic lupus trial A", "design": "single_arm_trial",
                        "condition": "lupus", "participants": 4, "followUpWeeks": 12,
                        "interventions": [ { "key": "iv", "product": "msc_cells", "cellSource": "bone_marrow", "route": "intravenous" } ],
                        "outcomes": [
                          { "intervention": "iv", "measure": "clinical_response", "timepointWeeks": 4, "assessed": 4, "responders": 1, "quote": "1 of 4 at week 4" },
                          { "intervention": "iv", "measure": "clinical_response", "timepointWeeks": 12, "assessed": 4, "responders": 3, "quote": "3 of 4 at week 12" } ] } ] }
                    """,
                ["lupus-trial-b.json"] = """
                    { "source": { "title": "Synthetic lupus trial B", "year": 2021 },
                      "studies": [ { "key": "synthetic-lupus-b", "title": "Synthetic lupus trial B", "design": "case_series",
                        "condition": "lupus", "participants": 6, "followUpWeeks": 24,
                        "interventions": [ { "key": "iv", "product": "msc_cells", "cellSource": "bone_marrow", "route": "intravenous" } ],
                        "outcomes": [ { "intervention": "iv", "measure": "clinical_response", "timepointWeeks": 24, "assessed": 6, "responders": 4, "quote": "4 of 6" } ] } ] }
                    """,
                ["lupus-no-outcome.json"] = """
                    { "source": { "title": "Synthetic lupus report without counts", "year": 2022 },
                      "studies": [ { "key": "synthetic-lupus-c", "title": "Synthetic lupus report without counts", "design": "case_report",
                        "condition": "lupus", "participants": 1, "followUpWeeks": 8,
                        "interventions": [ { "key": "iv", "product": "msc_cells", "cellSource": "bone_marrow", "route": "intravenous" } ],
                        "outcomes": [ { "intervention": "iv", "measure": "dlqi", "timepointWeeks": 8, "baseline": 20, "value": 5, "assessed": 1, "quote": "DLQI 20 to 5" } ] } ] }
                    """,
                ["lupus-review.json"] = """
                    { "source": { "title": "Synthetic lupus review", "year": 2023 },
                      "studies": [ { "key": "synthetic-lupus-review", "title": "Synthetic lupus review", "design": "systematic_review",
                        "condition": "lupus", "participants": 10, "includes": ["synthetic-lupus-a", "synthetic-lupus-b"],
                        "outcomes": [ { "measure": "clinical_response", "assessed": 10, "responders": 7, "quote": "7 of 10" } ] } ] }
                    """,
                ["lupus-scores.json"] = """
                    { "source": { "title": "Synthetic lupus score cases", "year": 2024 },
                      "studies": [ { "key": "synthetic-eczema-case-1", "title": "Synthetic eczema case one", "design": "case_report",
                        "condition": "eczema", "participants": 1, "followUpWeeks": 12,
                        "interventions": [ { "key": "topical", "product": "exosomes", "route": "topical" } ],
                        "outcomes": [ { "intervention": "topical", "measure": "pasi", "timepointWeeks": 12, "baseline": 20, "value": 4, "assessed": 1, "quote": "PASI 20 to 4" } ] },
                        { "key": "synthetic-eczema-case-2", "title": "Synthetic eczema case two", "design": "case_report",
                        "condition": "eczema", "participants": 1, "followUpWeeks": 12,
                        "interventions": [ { "key": "topical", "product": "exosomes", "route": "topical" } ],
                        "outcomes": [ { "intervention": "topical", "measure": "pasi", "timepointWeeks": 12, "baseline": 20, "value": 8, "assessed": 1, "quote": "PASI 20 to 8" } ] } ] }
                    """,
            });
        }
    }

    private async Task<SynthesisResult> SynthesiseAsync(string query) =>
        await (await client.GetAsync("/v1/synthesis" + query)).ShouldBeOkAsync<SynthesisResult>();

    [Fact]
    public async Task ReviewOfSeedDocument000_ShowsSixOfSixWithTheHonestInterval()
    {
        var result = await SynthesiseAsync("?measure=clinical_response&review=paganelli-2020-msc-psoriasis-review");

        Assert.Equal((1, 6, 6), (result.Studies, result.Patients, result.Responders));
        Assert.Equal(1.0, result.Proportion);
        Assert.Equal(0.6097, result.Wilson!.Lower, 4);
        Assert.Equal(1.0, result.Wilson.Upper);
        Assert.Equal(0.5407, result.ClopperPearson!.Lower, 4);
        Assert.Contains("100%", Assert.Single(result.Rows).Quote, StringComparison.Ordinal);
        Assert.Contains("Wilson", result.Method, StringComparison.Ordinal);
        Assert.Contains("Clopper-Pearson", result.Method, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MixedStudies_PoolSevenOfTenAtTheLastTimepoint()
    {
        var result = await SynthesiseAsync("?measure=clinical_response&condition=lupus&cellSource=bone_marrow&route=intravenous");

        Assert.Equal((2, 10, 7), (result.Studies, result.Patients, result.Responders));
        Assert.Equal(0.7, result.Proportion!.Value, 10);
        Assert.Equal((0.3968, 0.8922), (Math.Round(result.Wilson!.Lower, 4), Math.Round(result.Wilson.Upper, 4)));
        Assert.Equal((0.3475, 0.9333), (Math.Round(result.ClopperPearson!.Lower, 4), Math.Round(result.ClopperPearson.Upper, 4)));
        Assert.Equal(12, Assert.Single(result.Rows, r => r.Key == "synthetic-lupus-a").TimepointWeeks);

        Assert.Contains("No clinical_response", Assert.Single(result.Excluded).Reason, StringComparison.Ordinal);

        // Without intervention filters the review is in scope too, and left out so that its patients are not counted twice.
        var withReview = await SynthesiseAsync("?measure=clinical_response&condition=lupus");
        Assert.Equal((10, 7), (withReview.Patients, withReview.Responders));
        Assert.Contains("twice", withReview.Excluded.Single(e => e.Key == "synthetic-lupus-review").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstTimepoint_UsesTheEarliestResult()
    {
        var result = await SynthesiseAsync("?measure=clinical_response&condition=lupus&timepoint=first");
        Assert.Equal(1, Assert.Single(result.Rows, r => r.Key == "synthetic-lupus-a").Responders);
        Assert.Equal((2, 10, 5), (result.Studies, result.Patients, result.Responders));
    }

    [Fact]
    public async Task ReviewWithLinkedStudies_PoolsThoseStudies()
    {
        var result = await SynthesiseAsync("?measure=clinical_response&review=synthetic-lupus-review");
        Assert.Equal(["synthetic-lupus-a", "synthetic-lupus-b"], result.Rows.Select(r => r.Key).Order());
        Assert.Equal((10, 7), (result.Patients, result.Responders));
    }

    [Fact]
    public async Task ScoreThreshold_DerivesEachPatientsResponse()
    {
        var pasi75 = await SynthesiseAsync("?measure=pasi&threshold=75&condition=eczema");
        Assert.Equal((2, 1), (pasi75.Patients, pasi75.Responders));
        Assert.All(pasi75.Rows, r => Assert.True(r.Derived));

        var pasi50 = await SynthesiseAsync("?measure=pasi_50&condition=eczema");
        Assert.Equal((2, 2), (pasi50.Patients, pasi50.Responders));
    }

    [Fact]
    public async Task NothingToPool_GivesNoProportionButListsTheExclusions()
    {
        var result = await SynthesiseAsync("?measure=relapse_free&condition=lupus");
        Assert.Equal(0, result.Studies);
        Assert.Null(result.Proportion);
        Assert.Null(result.Wilson);
        Assert.NotEmpty(result.Excluded);
    }

    [Theory]
    [InlineData("", "measure")]
    [InlineData("?measure=dlqi_0", "measure")]
    [InlineData("?measure=pasi", "threshold")]
    [InlineData("?measure=pasi_75&threshold=50", "threshold")]
    [InlineData("?measure=pasi&threshold=150", "threshold")]
    [InlineData("?measure=pasi_75&timepoint=middle", "timepoint")]
    [InlineData("?measure=pasi_75&route=oral", "route")]
    public async Task BadDefinition_IsProblemNamingTheParameter(string query, string parameter) =>
        await (await client.GetAsync("/v1/synthesis" + query)).ShouldBeFieldErrorAsync(parameter);

    [Fact]
    public async Task UnknownReview_IsNotFound() =>
        await (await client.GetAsync("/v1/synthesis?measure=pasi_75&review=no-such-review")).ShouldBeProblemAsync(System.Net.HttpStatusCode.NotFound);
}
