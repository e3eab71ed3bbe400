using EvidenceApi.Stats;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Synthesis;

public sealed class StatsTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    [Fact]
    public async Task Stats_CountStudiesAndPatientsByEveryDimension()
    {
        var client = api.CreateClient();
        var stats = await (await client.GetAsync("/v1/stats?condition=psoriasis")).ShouldBeOkAsync<EvidenceStats>();
        var studies = await (await client.GetAsync("/v1/studies?condition=psoriasis&limit=200")).ShouldBeOkAsync<EvidenceApi.Querying.Page<EvidenceApi.Studies.StudySummary>>();

        Assert.Equal(studies.Total, stats.Studies);
        Assert.Equal(stats.Studies, stats.ByDesign.Sum(c => c.Studies));
        Assert.Equal(stats.Studies, stats.ByYear.Sum(c => c.Studies));
        Assert.Equal(stats.Studies, stats.ByCountry.Sum(c => c.Studies));
        // Patients are those of published primary studies: a review's belong to the studies it covers, and a registered
        // study's participants are only a planned enrollment.
        var treated = studies.Items.Where(s => !s.Design.EndsWith("review", StringComparison.Ordinal) && s.Status == "published").ToList();
        Assert.Equal(treated.Sum(s => s.Participants ?? 0), stats.Patients);
        Assert.Equal(0, stats.ByDesign.Single(c => c.Value == "narrative_review").Patients);
        Assert.Contains(studies.Items, s => s.Status == "registered" && s.Participants > 0);
        Assert.Equal(treated.Where(s => s.Design == "rct").Sum(s => s.Participants ?? 0), stats.ByDesign.SingleOrDefault(c => c.Value == "rct")?.Patients ?? 0);
        Assert.Equal(studies.Items.Count(s => s.Products.Contains("conditioned_medium")), stats.ByProduct.Single(c => c.Value == "conditioned_medium").Studies);
        Assert.Equal(studies.Items.Count(s => s.Routes.Contains("intravenous")), stats.ByRoute.Single(c => c.Value == "intravenous").Studies);
        Assert.Contains(stats.ByCellSource, c => c.Value == "umbilical_cord");
        Assert.Contains(stats.ByYear, c => c.Value == "2024");
    }

    [Fact]
    public async Task Stats_ForAnUnknownCondition_AreZero()
    {
        var stats = await (await api.CreateClient().GetAsync("/v1/stats?condition=no-such-condition")).ShouldBeOkAsync<EvidenceStats>();
        Assert.Equal((0L, 0L), (stats.Studies, stats.Patients));
        Assert.Empty(stats.ByDesign);
    }
}
