using EvidenceApi.Synthesis;

namespace EvidenceApi.Tests.Synthesis;

/// <summary>
/// The statistics of the meta-analysis against values computed elsewhere, to 4 decimals (|difference| &lt; 0.00005).
/// Two kinds of reference, each named at its test:
/// <list type="bullet">
/// <item>published: Miller (1978, p. 138) and metafor's own test suite (test_analysis_example_miller1978.r,
/// test_misc_metan_vs_rma.uni_with_dat.bcg.r, where metafor is checked against Stata's metan), the BCG vaccine trials'
/// results printed in metafor's documentation (Viechtbauer 2010, J Stat Softw 36(3)), and W. Viechtbauer's worked
/// example on R-help (16 Dec 2010, "how to backtransform ... Freeman Tukey double arcine");</item>
/// <item>reference/metaprop_reference.py: an independent computation in plain Python (its own incomplete gamma and beta
/// functions, REML by bisection on the estimating equation), which first reproduces every published value above.
/// Its output lines are quoted in the comments as "py: ...".</item>
/// </list>
/// </summary>
public sealed class MetaAnalysisReferenceTests
{
    private const double FourDecimals = 0.00005;

    /// <summary>Agreement to 4 decimals: |difference| &lt; 0.00005.</summary>
    internal static void Near(double expected, double? actual, string what) =>
        Assert.True(actual is { } a && Math.Abs(a - expected) < FourDecimals, $"{what}: expected {expected}, got {actual}");

    private static (double[] Values, double[] Variances) Scale(string scale, params (int X, int N)[] counts)
    {
        var transformed = counts.Select(c => ProportionScale.Transform(scale, c.X, c.N)).ToArray();
        return (transformed.Select(t => t.Value).ToArray(), transformed.Select(t => t.Variance).ToArray());
    }

    private static (MetaAnalysis Result, StudyWeights Weights) Analyse(string model, string transform, string tau2, params (int X, int N)[] counts) =>
        ProportionMetaAnalysis.Analyse(counts.Select(c => new StudyCount(c.X, c.N)).ToList(), new MetaOptions(model, transform, tau2, null));

    // ---- published ------------------------------------------------------------------------------------------------

    [Fact]
    public void FreemanTukey_Miller1978_TransformsAndBackTransformsAsPublished()
    {
        // Miller (1978) p. 138 gives the unhalved transform: 1.1391, 1.2888, 1.5253, 0.9515 and variances 0.0870, 0.0571, 0.0465, 0.1538.
        (int X, int N)[] miller = [(3, 11), (6, 17), (10, 21), (1, 6)];
        var (values, variances) = Scale(ProportionScale.FreemanTukey, miller);
        double[] published = [1.1391, 1.2888, 1.5253, 0.9515];
        double[] publishedVariances = [0.0870, 0.0571, 0.0465, 0.1538];
        for (var i = 0; i < miller.Length; i++)
        {
            Near(published[i], 2 * values[i], $"2·y{i + 1}");
            Near(publishedVariances[i], 4 * variances[i], $"4·v{i + 1}");
            Assert.Equal((double)miller[i].X / miller[i].N, ProportionScale.InverseDoubleArcsine(values[i], miller[i].N), 10);
        }

        // metafor test_analysis_example_miller1978.r: weighted fixed effect 1.3093 (unhalved), back-transformed 0.3595.
        var fixedEffect = Analyse("fixed", ProportionScale.FreemanTukey, InverseVariance.DerSimonianLaird, miller).Result.Overall;
        Near(1.3093, 2 * fixedEffect.Estimate, "2·estimate");
        Near(0.3595, fixedEffect.Proportion, "back-transformed at the harmonic mean n");
    }

    [Fact]
    public void FreemanTukey_ProportionsOfZeroAndOne_PoolAsMetaforPublishes()
    {
        // metafor test_analysis_example_miller1978.r, "proportions of 0 and 1": 0/10, 4/10, 9/15, 16/20, 20/20, fixed effect
        // back-transformed with transf.ipft.hm: 0.6886 [0.5734; 0.7943].
        (int X, int N)[] counts = [(0, 10), (4, 10), (9, 15), (16, 20), (20, 20)];
        foreach (var (x, n) in counts)
        {
            Assert.Equal((double)x / n, ProportionScale.InverseDoubleArcsine(ProportionScale.DoubleArcsine(x, n), n), 10);
        }

        var pooled = Analyse("fixed", ProportionScale.FreemanTukey, InverseVariance.DerSimonianLaird, counts).Result.Overall;
        Near(0.6886, pooled.Proportion, "proportion");
        Near(0.5734, pooled.Interval!.Lower, "lower");
        Near(0.7943, pooled.Interval.Upper, "upper");
    }

    [Fact]
    public void FreemanTukey_RHelpWorkedExample_GivesThePublishedTransformAndFixedEffect()
    {
        // Viechtbauer, R-help 16 Dec 2010: escalc(measure="PFT") of 0/10, 1/10, 12/20, 38/40, 40/40 and rma(method="FE"):
        // yi 0.1531387 0.3733940 0.8813361 1.3224900 1.4923885; Q(df = 4) = 96.4471; estimate 1.1233, se 0.0452.
        (int X, int N)[] counts = [(0, 10), (1, 10), (12, 20), (38, 40), (40, 40)];
        var (values, variances) = Scale(ProportionScale.FreemanTukey, counts);
        double[] published = [0.1531387, 0.3733940, 0.8813361, 1.3224900, 1.4923885];
        for (var i = 0; i < counts.Length; i++)
        {
            Assert.Equal(published[i], values[i], 6);
        }

        var fit = InverseVariance.Fixed(values, variances);
        Near(96.4471, fit.Q, "Q");
        Near(1.1233, fit.Estimate, "estimate");
        Near(0.0452, fit.StandardError, "se");
    }

    /// <summary>BCG vaccine trials (dat.bcg): tpos, tneg, cpos, cneg of 13 trials, as log risk ratios.</summary>
    private static (double[] Values, double[] Variances) Bcg()
    {
        (int A, int B, int C, int D)[] trials =
        [
            (4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619), (33, 5036, 47, 5761),
            (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892), (29, 7470, 45, 7232),
            (17, 1699, 65, 1600), (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825),
        ];
        return (trials.Select(t => Math.Log((double)t.A / (t.A + t.B) / ((double)t.C / (t.C + t.D)))).ToArray(),
                trials.Select(t => (1.0 / t.A) - (1.0 / (t.A + t.B)) + (1.0 / t.C) - (1.0 / (t.C + t.D))).ToArray());
    }

    [Fact]
    public void Pooling_BcgTrials_MatchesMetaforAndStata()
    {
        var (values, variances) = Bcg();

        // metafor test_misc_metan_vs_rma.uni_with_dat.bcg.r (checked there against Stata's metan):
        // FE -0.4303 [-0.5097; -0.3509], Q 152.2330; DL -0.7141 [-1.0644; -0.3638], tau2 0.3088, I2 92.1173.
        var fixedEffect = InverseVariance.Fixed(values, variances);
        Near(-0.4303, fixedEffect.Estimate, "FE");
        Near(-0.5097, fixedEffect.ConfidenceInterval.Lower, "FE lower");
        Near(-0.3509, fixedEffect.ConfidenceInterval.Upper, "FE upper");
        Near(152.2330, fixedEffect.Q, "Q");
        Assert.Equal(12, fixedEffect.Df);

        var dl = InverseVariance.Random(values, variances, InverseVariance.DerSimonianLaird);
        Near(-0.7141, dl.Estimate, "DL");
        Near(-1.0644, dl.ConfidenceInterval.Lower, "DL lower");
        Near(-0.3638, dl.ConfidenceInterval.Upper, "DL upper");
        Near(0.3088, dl.Tau2, "DL tau2");
        Near(92.1173, dl.I2, "I2");

        // metafor's documentation (rma with its default REML on dat.bcg): tau2 0.3132, estimate -0.7145, se 0.1798.
        var reml = InverseVariance.Random(values, variances, InverseVariance.Reml);
        Near(0.3132, reml.Tau2, "REML tau2");
        Near(-0.7145, reml.Estimate, "REML");
        Near(0.1798, reml.StandardError, "REML se");
        Assert.True(reml.Converged);
        Assert.InRange(reml.Iterations!.Value, 1, 20);
    }

    // ---- reference/metaprop_reference.py ----------------------------------------------------------------------------

    [Fact]
    public void RandomEffects_FreemanTukey_WithZeroAndAllResponders_MatchesTheReferenceScript()
    {
        (int X, int N)[] d1 = [(0, 10), (4, 10), (9, 15), (16, 20), (20, 20)];

        // py: D1 ft random dl: k=5 estimate=0.864593 se=0.208763 tau2=0.200407 Q=52.666692 p=0.000000 I2=92.405067
        //     proportion=0.584445 ci=[0.172217, 0.941394] pi=[0.000000, 1.000000] weights=[19.4374, 19.4374, 20.1268, 20.4992, 20.4992]
        var (dl, weights) = Analyse("random", ProportionScale.FreemanTukey, InverseVariance.DerSimonianLaird, d1);
        var o = dl.Overall;
        Near(0.864593, o.Estimate, "estimate");
        Near(0.208763, o.StandardError, "se");
        Near(0.200407, o.Heterogeneity!.Tau2, "tau2");
        Near(52.666692, o.Heterogeneity.Q, "Q");
        Near(0.000000, o.Heterogeneity.P, "p");
        Near(92.405067, o.Heterogeneity.I2, "I2");
        Assert.Equal("high", o.Heterogeneity.Words);
        Near(0.584445, o.Proportion, "proportion");
        Near(0.172217, o.Interval!.Lower, "lower");
        Near(0.941394, o.Interval.Upper, "upper");
        Near(0.0, o.PredictionInterval!.Lower, "prediction lower");
        Near(1.0, o.PredictionInterval.Upper, "prediction upper");
        Near(13.636364, o.HarmonicMeanN, "harmonic mean n: 5 / (1/10 + 1/10 + 1/15 + 1/20 + 1/20)");
        double[] expectedWeights = [19.4374, 19.4374, 20.1268, 20.4992, 20.4992];
        for (var i = 0; i < expectedWeights.Length; i++)
        {
            Near(expectedWeights[i], weights.Overall[i], $"weight {i + 1}");
        }

        // py: D1 ft random reml: k=5 estimate=0.863994 se=0.216047 tau2=0.215871 ... proportion=0.583811 ci=[0.159859, 0.949087]
        var reml = Analyse("random", ProportionScale.FreemanTukey, InverseVariance.Reml, d1).Result.Overall;
        Near(0.863994, reml.Estimate, "REML estimate");
        Near(0.216047, reml.StandardError, "REML se");
        Near(0.215871, reml.Heterogeneity!.Tau2, "REML tau2");
        Near(0.583811, reml.Proportion, "REML proportion");
        Near(0.159859, reml.Interval!.Lower, "REML lower");
        Near(0.949087, reml.Interval.Upper, "REML upper");
        Assert.NotNull(reml.Heterogeneity.Iterations);
    }

    [Fact]
    public void RandomEffects_Logit_CorrectsOnlyTheStudiesAtZeroAndOne_MatchesTheReferenceScript()
    {
        (int X, int N)[] d1 = [(0, 10), (4, 10), (9, 15), (16, 20), (20, 20)];

        // py: D1 logit random dl: k=5 estimate=0.445570 se=0.688859 tau2=1.588095 Q=15.546458 p=0.003692 I2=74.270667
        //     proportion=0.609585 ci=[0.288112, 0.857626] pi=[0.015906, 0.993414] weights=[12.8831, 23.6700, 25.4319, 24.9673, 13.0477]
        var (dl, weights) = Analyse("random", ProportionScale.Logit, InverseVariance.DerSimonianLaird, d1);
        var o = dl.Overall;
        Near(0.445570, o.Estimate, "estimate");
        Near(0.688859, o.StandardError, "se");
        Near(1.588095, o.Heterogeneity!.Tau2, "tau2");
        Near(15.546458, o.Heterogeneity.Q, "Q");
        Near(0.003692, o.Heterogeneity.P, "p");
        Near(74.270667, o.Heterogeneity.I2, "I2");
        Near(0.609585, o.Proportion, "proportion");
        Near(0.288112, o.Interval!.Lower, "lower");
        Near(0.857626, o.Interval.Upper, "upper");
        Near(0.015906, o.PredictionInterval!.Lower, "prediction lower");
        Near(0.993414, o.PredictionInterval.Upper, "prediction upper");
        Near(12.8831, weights.Overall[0], "weight of 0/10");
        Near(13.0477, weights.Overall[4], "weight of 20/20");
        Assert.Null(o.HarmonicMeanN);
        Assert.Contains(o.Notes, n => n.StartsWith("2 studies with 0 % or 100 %", StringComparison.Ordinal));

        // py: D1 logit random reml: k=5 estimate=0.433779 se=0.883301 tau2=3.035716 ... proportion=0.606776 ci=[0.214593, 0.897064]
        //     pi=[0.003070, 0.998708]
        var reml = Analyse("random", ProportionScale.Logit, InverseVariance.Reml, d1).Result.Overall;
        Near(0.433779, reml.Estimate, "REML estimate");
        Near(0.883301, reml.StandardError, "REML se");
        Near(3.035716, reml.Heterogeneity!.Tau2, "REML tau2");
        Near(0.606776, reml.Proportion, "REML proportion");
        Near(0.214593, reml.Interval!.Lower, "REML lower");
        Near(0.897064, reml.Interval.Upper, "REML upper");
        Near(0.003070, reml.PredictionInterval!.Lower, "REML prediction lower");
        Near(0.998708, reml.PredictionInterval.Upper, "REML prediction upper");
    }

    [Fact]
    public void RandomEffects_Miller1978_HasNoHeterogeneityAndAPredictionInterval_MatchesTheReferenceScript()
    {
        // py: D2 ft random dl: k=4 estimate=0.654671 se=0.066227 tau2=0.000000 Q=2.175409 p=0.536808 I2=0.000000
        //     proportion=0.359522 ci=[0.229709, 0.498994] pi=[0.100058, 0.664966] weights=[20.1754, 30.7018, 37.7193, 11.4035]
        var o = Analyse("random", ProportionScale.FreemanTukey, InverseVariance.DerSimonianLaird, (3, 11), (6, 17), (10, 21), (1, 6)).Result.Overall;
        Near(0.0, o.Heterogeneity!.Tau2, "tau2");
        Near(2.175409, o.Heterogeneity.Q, "Q");
        Near(0.536808, o.Heterogeneity.P, "p");
        Near(0.0, o.Heterogeneity.I2, "I2");
        Assert.Equal("little", o.Heterogeneity.Words);
        Near(0.359522, o.Proportion, "proportion");
        Near(0.229709, o.Interval!.Lower, "lower");
        Near(0.498994, o.Interval.Upper, "upper");
        Near(0.100058, o.PredictionInterval!.Lower, "prediction lower");
        Near(0.664966, o.PredictionInterval.Upper, "prediction upper");

        // py: D2 logit random reml: ... tau2=0.000000 ... proportion=0.372406 ci=[0.252650, 0.510177] pi=[0.147164, 0.671108]
        var logit = Analyse("random", ProportionScale.Logit, InverseVariance.Reml, (3, 11), (6, 17), (10, 21), (1, 6)).Result.Overall;
        Near(0.0, logit.Heterogeneity!.Tau2, "REML tau2 at the boundary");
        Near(0.372406, logit.Proportion, "logit proportion");
        Near(0.147164, logit.PredictionInterval!.Lower, "logit prediction lower");
        Near(0.671108, logit.PredictionInterval.Upper, "logit prediction upper");
    }

    [Fact]
    public void TwoStudies_HaveHeterogeneityButNoPredictionInterval()
    {
        // py: D5 ft random dl: k=2 estimate=0.870678 se=0.104257 tau2=0.000000 Q=0.562030 p=0.453444 I2=0.000000
        //     proportion=0.592309 ci=[0.371732, 0.797275] weights=[45.6522, 54.3478]
        var o = Analyse("random", ProportionScale.FreemanTukey, InverseVariance.DerSimonianLaird, (5, 10), (8, 12)).Result.Overall;
        Near(0.562030, o.Heterogeneity!.Q, "Q");
        Near(0.453444, o.Heterogeneity.P, "p");
        Near(0.592309, o.Proportion, "proportion");
        Near(0.371732, o.Interval!.Lower, "lower");
        Near(0.797275, o.Interval.Upper, "upper");
        Assert.Null(o.PredictionInterval);
        Assert.Contains(o.Notes, n => n.Contains("prediction interval needs at least three", StringComparison.Ordinal));
    }

    [Fact]
    public void OneStudy_SaysSoInsteadOfInventingHeterogeneity()
    {
        // py: D6 ft random dl: k=1 estimate=1.049153 se=0.162221 ... proportion=0.777778 ci=[0.440207, 0.993574]
        // py: D6 logit random dl: k=1 estimate=1.252763 se=0.801784 ... proportion=0.777778 ci=[0.420992, 0.943971]
        foreach (var (transform, lower, upper) in new[] { (ProportionScale.FreemanTukey, 0.440207, 0.993574), (ProportionScale.Logit, 0.420992, 0.943971) })
        {
            var o = Analyse("random", transform, InverseVariance.Reml, (7, 9)).Result.Overall;
            Near(0.777778, o.Proportion, $"{transform} proportion");
            Near(lower, o.Interval!.Lower, $"{transform} lower");
            Near(upper, o.Interval.Upper, $"{transform} upper");
            Assert.Null(o.Heterogeneity);
            Assert.Null(o.PredictionInterval);
            Assert.Contains(o.Notes, n => n.StartsWith("One study", StringComparison.Ordinal));
        }

        var none = Analyse("random", ProportionScale.FreemanTukey, InverseVariance.DerSimonianLaird).Result.Overall;
        Assert.Equal(0, none.Studies);
        Assert.Null(none.Proportion);
        Assert.Contains(none.Notes, n => n.StartsWith("No study", StringComparison.Ordinal));
    }

    [Fact]
    public void FixedEffect_HasQAndI2ButNoTau2NorPredictionInterval()
    {
        // py: D3 all ft fixed: k=9 estimate=0.883172 se=0.042333 tau2=0.000000 Q=28.611971 p=0.000371 I2=72.039675
        //     proportion=0.604354 ci=[0.515899, 0.689894]
        var o = Analyse("fixed", ProportionScale.FreemanTukey, InverseVariance.DerSimonianLaird, D3.SelectMany(g => g.Counts).ToArray()).Result.Overall;
        Near(0.883172, o.Estimate, "estimate");
        Near(0.042333, o.StandardError, "se");
        Near(28.611971, o.Heterogeneity!.Q, "Q");
        Near(0.000371, o.Heterogeneity.P, "p");
        Near(72.039675, o.Heterogeneity.I2, "I2");
        Near(0.604354, o.Proportion, "proportion");
        Near(0.515899, o.Interval!.Lower, "lower");
        Near(0.689894, o.Interval.Upper, "upper");
        Assert.Null(o.Heterogeneity.Tau2);
        Assert.Null(o.PredictionInterval);
    }

    /// <summary>The subgroup data set of the reference script (responders, assessed by cell source).</summary>
    internal static readonly (string Subgroup, (int X, int N)[] Counts)[] D3 =
    [
        ("adipose", [(3, 12), (5, 10), (2, 9)]),
        ("adipose+umbilical_cord", [(9, 14)]),
        ("bone_marrow", [(6, 8)]),
        ("umbilical_cord", [(12, 20), (20, 22), (5, 15), (18, 25)]),
    ];

    [Fact]
    public void Subgroups_PoolEachOnItsOwnAndTestTheirDifferences()
    {
        var studies = D3.SelectMany(g => g.Counts.Select(c => new StudyCount(c.X, c.N, g.Subgroup))).ToList();
        var (random, weights) = ProportionMetaAnalysis.Analyse(studies, new MetaOptions("random", ProportionScale.FreemanTukey, InverseVariance.DerSimonianLaird, "cellSource"));

        // py: D3 all ft random dl: k=9 estimate=0.848623 se=0.081667 tau2=0.042275 Q=28.611971 ... proportion=0.567735
        //     ci=[0.396629, 0.731837] pi=[0.074619, 0.987878]
        Near(0.042275, random.Overall.Heterogeneity!.Tau2, "overall tau2");
        Near(0.567735, random.Overall.Proportion, "overall proportion");
        Near(0.074619, random.Overall.PredictionInterval!.Lower, "overall prediction lower");
        Near(0.987878, random.Overall.PredictionInterval.Upper, "overall prediction upper");

        var subgroups = Assert.IsAssignableFrom<IReadOnlyList<PooledEstimate>>(random.Subgroups);
        Assert.Equal(["adipose", "adipose+umbilical_cord", "bone_marrow", "umbilical_cord"], subgroups.Select(s => s.Subgroup));
        var (adipose, both, marrow, cord) = (subgroups[0], subgroups[1], subgroups[2], subgroups[3]);
        // py: D3 adipose ft random dl: k=3 estimate=0.615666 se=0.087706 tau2=0.000000 Q=1.798796 ... proportion=0.317991 ci=[0.155664, 0.502371]
        Near(0.615666, adipose.Estimate, "adipose estimate");
        Near(1.798796, adipose.Heterogeneity!.Q, "adipose Q");
        Near(0.317991, adipose.Proportion, "adipose proportion");
        Near(0.155664, adipose.Interval!.Lower, "adipose lower");
        Near(0.502371, adipose.Interval.Upper, "adipose upper");
        // py: D3 adipose+umbilical_cord ft random dl: k=1 ... proportion=0.642857 ci=[0.370825, 0.877087]
        Near(0.642857, both.Proportion, "combination proportion");
        Near(0.370825, both.Interval!.Lower, "combination lower");
        Assert.Null(both.Heterogeneity);
        // py: D3 bone_marrow ft random dl: k=1 ... proportion=0.750000 ci=[0.384687, 0.992198]
        Near(0.384687, marrow.Interval!.Lower, "bone marrow lower");
        Near(0.992198, marrow.Interval.Upper, "bone marrow upper");
        // py: D3 umbilical_cord ft random dl: k=4 estimate=0.944029 se=0.120642 tau2=0.046001 Q=14.476159 p=0.002324
        //     I2=79.276271 proportion=0.663655 ci=[0.418671, 0.872314] weights=[25.0093, 25.4840, 23.4258, 26.0809]
        Near(0.944029, cord.Estimate, "cord estimate");
        Near(0.120642, cord.StandardError, "cord se");
        Near(0.046001, cord.Heterogeneity!.Tau2, "cord tau2");
        Near(14.476159, cord.Heterogeneity.Q, "cord Q");
        Near(79.276271, cord.Heterogeneity.I2, "cord I2");
        Near(0.663655, cord.Proportion, "cord proportion");
        Near(25.0093, weights.InSubgroup![5], "weight of 12/20 within umbilical cord");
        Near(26.0809, weights.InSubgroup[8], "weight of 18/25 within umbilical cord");
        // py: D3 subgroup differences ft random dl: Q=8.297236 df=3 p=0.040252
        Near(8.297236, random.SubgroupDifferences!.Q, "Q between");
        Assert.Equal(3, random.SubgroupDifferences.Df);
        Near(0.040252, random.SubgroupDifferences.P, "p between");
        Near(100, subgroups.Sum(s => s.Weight ?? 0), "subgroup shares of the overall weight");

        // py: D3 subgroup differences ft fixed dl: Q=12.337016 df=3 p=0.006313; D3 umbilical_cord ft fixed dl: proportion=0.685962
        var fixedEffect = ProportionMetaAnalysis.Analyse(studies, new MetaOptions("fixed", ProportionScale.FreemanTukey, InverseVariance.DerSimonianLaird, "cellSource")).Result;
        Near(12.337016, fixedEffect.SubgroupDifferences!.Q, "fixed Q between");
        Near(0.006313, fixedEffect.SubgroupDifferences.P, "fixed p between");
        Near(0.685962, fixedEffect.Subgroups![3].Proportion, "fixed cord proportion");
    }

    [Fact]
    public void DoubleArcsine_BackTransformsEveryCountExactly()
    {
        for (var n = 1; n <= 60; n++)
        {
            for (var x = 0; x <= n; x++)
            {
                Assert.Equal((double)x / n, ProportionScale.InverseDoubleArcsine(ProportionScale.DoubleArcsine(x, n), n), 9);
            }
        }
    }

    [Fact]
    public void Reml_StopsAtTheBoundaryWhenThereIsNoHeterogeneity()
    {
        var (values, variances) = Scale(ProportionScale.FreemanTukey, (5, 10), (5, 10), (5, 10));
        var (tau2, iterations, converged) = InverseVariance.Tau2Reml(values, variances, start: 0.5);
        Assert.Equal(0, tau2);
        Assert.True(converged);
        Assert.InRange(iterations, 1, InverseVariance.RemlMaxIterations);
    }
}
