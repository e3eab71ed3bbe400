using System.Text.Json;
using EvidenceApi.Synthesis;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Synthesis;

/// <summary>
/// /v1/synthesis with model=...: the whole way from seeded studies to the answer, checked to 4 decimals against
/// reference/metaprop_reference.py (its output lines are quoted as "py: ...").
/// </summary>
public sealed class SynthesisMetaAnalysisTests(SynthesisMetaAnalysisTests.Api api) : IClassFixture<SynthesisMetaAnalysisTests.Api>
{
    private readonly HttpClient client = api.CreateClient();

    public sealed class Api : EvidenceApiFactory
    {
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await SeedAsync(MetaAnalysisSeeds.Files());
        }
    }

    private static void Near(double expected, double? actual, string what) => MetaAnalysisReferenceTests.Near(expected, actual, what);

    private async Task<SynthesisResult> SynthesiseAsync(string query) =>
        await (await client.GetAsync("/v1/synthesis?measure=clinical_response&" + query)).ShouldBeOkAsync<SynthesisResult>();

    private static string Condition(string condition) => "condition=" + Uri.EscapeDataString(condition);

    [Fact]
    public async Task RandomEffects_WithZeroAndAllResponders_MatchesTheReferenceValues()
    {
        var result = await SynthesiseAsync($"{Condition(MetaAnalysisSeeds.ZerosAndOnes)}&model=random");

        // The simple pooling is still there, unchanged: 49 of 75.
        Assert.Equal((5, 75, 49), (result.Studies, result.Patients, result.Responders));
        Near(49.0 / 75, result.Proportion, "simple pooled proportion");

        // py: D1 ft random dl: k=5 estimate=0.864593 se=0.208763 tau2=0.200407 Q=52.666692 p=0.000000 I2=92.405067
        //     proportion=0.584445 ci=[0.172217, 0.941394] pi=[0.000000, 1.000000] weights=[19.4374, 19.4374, 20.1268, 20.4992, 20.4992]
        var meta = Assert.IsType<MetaAnalysis>(result.MetaAnalysis);
        Assert.Equal(("random", ProportionScale.FreemanTukey, "dl"), (meta.Model, meta.Transform, meta.Tau2Method));
        var overall = meta.Overall;
        Assert.Equal((5, 75, 49), (overall.Studies, overall.Patients, overall.Responders));
        Near(0.864593, overall.Estimate, "estimate");
        Near(0.208763, overall.StandardError, "se");
        Near(0.200407, overall.Heterogeneity!.Tau2, "tau2");
        Near(52.666692, overall.Heterogeneity.Q, "Q");
        Assert.Equal(4, overall.Heterogeneity.Df);
        Near(92.405067, overall.Heterogeneity.I2, "I2");
        Near(0.584445, overall.Proportion, "proportion");
        Near(0.172217, overall.Interval!.Lower, "lower");
        Near(0.941394, overall.Interval.Upper, "upper");
        Near(0.0, overall.PredictionInterval!.Lower, "prediction lower");
        Near(1.0, overall.PredictionInterval.Upper, "prediction upper");
        Assert.Contains("harmonic mean", meta.Method, StringComparison.Ordinal);
        Assert.Contains("Higgins", meta.Method, StringComparison.Ordinal);

        // Each study's weight, proportion and exact interval in its row.
        var byCount = result.Rows.ToDictionary(r => (r.Responders, r.Assessed));
        Near(19.4374, byCount[(0, 10)].Weight, "weight of 0/10");
        Near(20.1268, byCount[(9, 15)].Weight, "weight of 9/15");
        Near(20.4992, byCount[(20, 20)].Weight, "weight of 20/20");
        Near(100, result.Rows.Sum(r => r.Weight ?? 0), "weights add up");
        Assert.Equal(0.0, byCount[(0, 10)].Interval!.Lower);
        Near(0.3085, byCount[(0, 10)].Interval!.Upper, "Clopper-Pearson upper of 0/10 (R: binom.test(0, 10))");
        Assert.Equal(1.0, byCount[(20, 20)].Proportion);

        // Labels: first author's surname and year; the two "Beta 2012" become a and b in id order; initials dropped.
        var betas = result.Rows.Where(r => r.Label!.StartsWith("Beta 2012", StringComparison.Ordinal)).OrderBy(r => r.StudyId).ToList();
        Assert.Equal(["Beta 2012a", "Beta 2012b"], betas.Select(r => r.Label));
        Assert.Equal("De Lta 2014", byCount[(20, 20)].Label);
    }

    [Theory]
    // py: D1 ft random reml: estimate=0.863994 se=0.216047 tau2=0.215871 ... proportion=0.583811 ci=[0.159859, 0.949087]
    [InlineData("tau2=reml", 0.215871, 0.583811, 0.159859, 0.949087)]
    // py: D1 logit random dl: ... tau2=1.588095 ... proportion=0.609585 ci=[0.288112, 0.857626]
    [InlineData("transform=logit", 1.588095, 0.609585, 0.288112, 0.857626)]
    // py: D1 logit random reml: ... tau2=3.035716 ... proportion=0.606776 ci=[0.214593, 0.897064]
    [InlineData("model=random&transform=logit&tau2=reml", 3.035716, 0.606776, 0.214593, 0.897064)]
    public async Task RemlAndLogit_AreAskedForByParameter(string parameters, double tau2, double proportion, double lower, double upper)
    {
        var overall = (await SynthesiseAsync($"{Condition(MetaAnalysisSeeds.ZerosAndOnes)}&{parameters}")).MetaAnalysis!.Overall;
        Near(tau2, overall.Heterogeneity!.Tau2, "tau2");
        Near(proportion, overall.Proportion, "proportion");
        Near(lower, overall.Interval!.Lower, "lower");
        Near(upper, overall.Interval.Upper, "upper");
    }

    [Fact]
    public async Task FixedEffect_MatchesMetaforsPublishedValue()
    {
        // metafor test_analysis_example_miller1978.r: these five proportions, fixed effect: 0.6886 [0.5734; 0.7943].
        var meta = (await SynthesiseAsync($"{Condition(MetaAnalysisSeeds.ZerosAndOnes)}&model=fixed")).MetaAnalysis!;
        Near(0.6886, meta.Overall.Proportion, "proportion");
        Near(0.5734, meta.Overall.Interval!.Lower, "lower");
        Near(0.7943, meta.Overall.Interval.Upper, "upper");
        Assert.Null(meta.Tau2Method);
        Assert.Null(meta.Overall.Heterogeneity!.Tau2);
        Assert.Null(meta.Overall.PredictionInterval);
    }

    [Fact]
    public async Task Subgroups_CountEachStudyOnceByTheInterventionItsOutcomeBelongsTo()
    {
        var result = await SynthesiseAsync($"{Condition(MetaAnalysisSeeds.Subgroups)}&model=random&by=cellSource");
        var meta = result.MetaAnalysis!;
        var subgroups = Assert.IsAssignableFrom<IReadOnlyList<PooledEstimate>>(meta.Subgroups);

        // The two-arm study whose outcome belongs to neither arm has a subgroup of its own; the one whose outcome belongs
        // to its bone-marrow arm counts under bone_marrow. Every study counts once.
        Assert.Equal(["adipose", "adipose+umbilical_cord", "bone_marrow", "umbilical_cord"], subgroups.Select(s => s.Subgroup));
        Assert.Equal([3, 1, 1, 4], subgroups.Select(s => s.Studies));
        Assert.Equal(result.Studies, subgroups.Sum(s => s.Studies));
        Assert.Equal("adipose+umbilical_cord", result.Rows.Single(r => r.Key == "metaprop-d3-both").Subgroup);
        Assert.Equal("bone_marrow", result.Rows.Single(r => r.Key == "metaprop-d3-marrow").Subgroup);

        // py: D3 all ft random dl: k=9 ... tau2=0.042275 ... proportion=0.567735 ci=[0.396629, 0.731837] pi=[0.074619, 0.987878]
        Near(0.042275, meta.Overall.Heterogeneity!.Tau2, "overall tau2");
        Near(0.567735, meta.Overall.Proportion, "overall proportion");
        Near(0.074619, meta.Overall.PredictionInterval!.Lower, "overall prediction lower");
        // py: D3 umbilical_cord ft random dl: k=4 estimate=0.944029 se=0.120642 tau2=0.046001 Q=14.476159 ... proportion=0.663655
        //     ci=[0.418671, 0.872314] weights=[25.0093, 25.4840, 23.4258, 26.0809]
        var cord = subgroups[3];
        Near(0.046001, cord.Heterogeneity!.Tau2, "cord tau2");
        Near(0.663655, cord.Proportion, "cord proportion");
        Near(0.418671, cord.Interval!.Lower, "cord lower");
        Near(25.0093, result.Rows.Single(r => r.Key == "metaprop-d3-cord-1").SubgroupWeight, "weight of 12/20 in its subgroup");
        // py: D3 adipose ft random dl: k=3 ... proportion=0.317991 ci=[0.155664, 0.502371]
        Near(0.317991, subgroups[0].Proportion, "adipose proportion");
        // py: D3 subgroup differences ft random dl: Q=8.297236 df=3 p=0.040252
        Near(8.297236, meta.SubgroupDifferences!.Q, "Q between");
        Assert.Equal(3, meta.SubgroupDifferences.Df);
        Near(0.040252, meta.SubgroupDifferences.P, "p between");
        Assert.All(subgroups.Where(s => s.Studies == 1), s => Assert.Contains(s.Notes, n => n.StartsWith("One study", StringComparison.Ordinal)));

        // py: D3 subgroup differences ft fixed dl: Q=12.337016 df=3 p=0.006313
        var fixedEffect = (await SynthesiseAsync($"{Condition(MetaAnalysisSeeds.Subgroups)}&model=fixed&by=cellSource")).MetaAnalysis!;
        Near(12.337016, fixedEffect.SubgroupDifferences!.Q, "fixed Q between");
        Near(0.006313, fixedEffect.SubgroupDifferences.P, "fixed p between");
    }

    [Fact]
    public async Task Subgroups_ByRouteAndDesign_UseTheStudysOwnValues()
    {
        var byRoute = (await SynthesiseAsync($"{Condition(MetaAnalysisSeeds.Subgroups)}&by=route")).MetaAnalysis!;
        Assert.Equal("random", byRoute.Model);
        Assert.Equal(["intravenous", "intravenous+topical", "subcutaneous"], byRoute.Subgroups!.Select(s => s.Subgroup));
        Assert.Equal([7, 1, 1], byRoute.Subgroups!.Select(s => s.Studies));

        var byDesign = (await SynthesiseAsync($"{Condition(MetaAnalysisSeeds.Subgroups)}&model=random&by=design")).MetaAnalysis!;
        Assert.Equal([("case_series", 2), ("single_arm_trial", 7)], byDesign.Subgroups!.Select(s => (s.Subgroup!, s.Studies)));
    }

    [Fact]
    public async Task OneStudy_SaysSoInsteadOfInventingHeterogeneity()
    {
        var response = await client.GetAsync($"/v1/synthesis?measure=clinical_response&{Condition(MetaAnalysisSeeds.OneStudy)}&model=random&tau2=reml");
        var json = await response.Content.ReadAsStringAsync();
        var overall = JsonDocument.Parse(json).RootElement.GetProperty("metaAnalysis").GetProperty("overall");

        // py: D6 ft random reml: k=1 ... proportion=0.777778 ci=[0.440207, 0.993574]
        Near(0.777778, overall.GetProperty("proportion").GetDouble(), "proportion");
        Near(0.440207, overall.GetProperty("interval").GetProperty("lower").GetDouble(), "lower");
        Assert.Equal(JsonValueKind.Null, overall.GetProperty("heterogeneity").ValueKind);
        Assert.Equal(JsonValueKind.Null, overall.GetProperty("predictionInterval").ValueKind);
        Assert.Contains("One study", overall.GetProperty("notes")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutModel_TheAnswerHasNoMetaAnalysisAndNoNewRowFields()
    {
        var json = await client.GetStringAsync($"/v1/synthesis?measure=clinical_response&{Condition(MetaAnalysisSeeds.ZerosAndOnes)}");
        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal(
            ["definition", "studies", "patients", "responders", "proportion", "wilson", "clopperPearson", "rows", "rowsOmitted", "excluded", "excludedOmitted", "method"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(
            ["studyId", "key", "title", "design", "year", "assessed", "responders", "measure", "derived", "timepoint", "timepointWeeks", "outcomeId", "quote", "evidence", "sourceNote"],
            root.GetProperty("rows")[0].EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("model=mixed", "model")]
    [InlineData("model=random,fixed", "model")]
    [InlineData("transform=arcsine", "transform")]
    [InlineData("tau2=pm", "tau2")]
    [InlineData("model=fixed&tau2=reml", "tau2")]
    [InlineData("by=country", "by")]
    public async Task BadMetaAnalysisParameter_IsProblemNamingIt(string parameters, string field)
    {
        await (await client.GetAsync($"/v1/synthesis?measure=clinical_response&{parameters}")).ShouldBeFieldErrorAsync(field);
        await (await client.GetAsync($"/v1/synthesis/forest.svg?measure=clinical_response&{parameters}")).ShouldBeFieldErrorAsync(field);
    }
}
