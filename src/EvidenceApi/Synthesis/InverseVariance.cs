using MathNet.Numerics.Distributions;

namespace EvidenceApi.Synthesis;

/// <summary>One inverse-variance pooled estimate on the transformed scale, with its heterogeneity statistics.</summary>
/// <param name="Studies">Number of studies pooled (k).</param>
/// <param name="Estimate">The pooled value.</param>
/// <param name="StandardError">Its standard error.</param>
/// <param name="Tau2">Between-study variance (0 for the fixed-effect model).</param>
/// <param name="Q">Cochran's Q (with fixed-effect weights).</param>
/// <param name="P">p-value of Q on k − 1 degrees of freedom; null with fewer than two studies.</param>
/// <param name="I2">Higgins and Thompson's I² from Q, in percent.</param>
/// <param name="Weights">Each study's weight in the estimate, in percent, in input order.</param>
/// <param name="Iterations">Fisher scoring steps REML took; null for other estimators.</param>
/// <param name="Converged">False when REML did not converge and DerSimonian-Laird's τ² was used instead.</param>
public sealed record PooledFit(
    int Studies, double Estimate, double StandardError, double Tau2, double Q, double? P, double I2, double[] Weights, int? Iterations, bool Converged)
{
    public int Df => Studies - 1;

    /// <summary>Lower and upper bound of the 95 % confidence interval (normal quantile).</summary>
    public (double Lower, double Upper) ConfidenceInterval =>
        (Estimate - (InverseVariance.Z * StandardError), Estimate + (InverseVariance.Z * StandardError));

    /// <summary>
    /// Higgins, Thompson and Spiegelhalter (2009): estimate ± t(0.975; k − 2) √(τ² + SE²), where a new study's true
    /// value is expected to lie. Needs at least three studies.
    /// </summary>
    public (double Lower, double Upper)? PredictionInterval
    {
        get
        {
            if (Studies < 3)
            {
                return null;
            }

            var half = StudentT.InvCDF(0, 1, Studies - 2, 0.975) * Math.Sqrt(Tau2 + (StandardError * StandardError));
            return (Estimate - half, Estimate + half);
        }
    }
}

/// <summary>
/// Inverse-variance pooling of values with known sampling variances: fixed effect, and random effects with τ² by
/// DerSimonian and Laird (1986) or by restricted maximum likelihood.
/// </summary>
public static class InverseVariance
{
    public const string DerSimonianLaird = "dl";
    public const string Reml = "reml";

    public static readonly IReadOnlyList<string> Tau2Methods = [DerSimonianLaird, Reml];

    /// <summary>REML stops when an update of τ² changes it by less than this.</summary>
    public const double RemlTolerance = 1e-10;

    public const int RemlMaxIterations = 100;

    internal static readonly double Z = Normal.InvCDF(0, 1, 0.975);

    public static PooledFit Fixed(IReadOnlyList<double> values, IReadOnlyList<double> variances) =>
        Pool(values, variances, tau2: 0, iterations: null, converged: true);

    public static PooledFit Random(IReadOnlyList<double> values, IReadOnlyList<double> variances, string tau2Method)
    {
        if (values.Count < 2)
        {
            return Fixed(values, variances);
        }

        var dl = Tau2DerSimonianLaird(values, variances);
        if (tau2Method == DerSimonianLaird)
        {
            return Pool(values, variances, dl, iterations: null, converged: true);
        }

        var (tau2, iterations, converged) = Tau2Reml(values, variances, dl);
        return Pool(values, variances, converged ? tau2 : dl, iterations, converged);
    }

    /// <summary>Method of moments: τ² = max(0, (Q − (k − 1)) / (Σw − Σw²/Σw)) with w = 1/v.</summary>
    public static double Tau2DerSimonianLaird(IReadOnlyList<double> values, IReadOnlyList<double> variances)
    {
        double sw = 0, sw2 = 0;
        for (var i = 0; i < values.Count; i++)
        {
            var w = 1 / variances[i];
            sw += w;
            sw2 += w * w;
        }

        return Math.Max(0, (CochranQ(values, variances) - (values.Count - 1)) / (sw - (sw2 / sw)));
    }

    /// <summary>Cochran's Q = Σw(y − ȳ)² with w = 1/v and ȳ their weighted mean (two passes, no cancellation).</summary>
    public static double CochranQ(IReadOnlyList<double> values, IReadOnlyList<double> variances)
    {
        double sw = 0, swy = 0;
        for (var i = 0; i < values.Count; i++)
        {
            sw += 1 / variances[i];
            swy += values[i] / variances[i];
        }

        var mean = swy / sw;
        double q = 0;
        for (var i = 0; i < values.Count; i++)
        {
            q += (values[i] - mean) * (values[i] - mean) / variances[i];
        }

        return q;
    }

    /// <summary>Upper tail of the chi-square distribution, accurate for small p too (1 − CDF would round them to 0).</summary>
    public static double ChiSquareUpperTail(double x, int df) =>
        MathNet.Numerics.SpecialFunctions.GammaUpperRegularized(df / 2.0, x / 2);

    /// <summary>
    /// Restricted maximum likelihood by Fisher scoring (as metafor does), started at DerSimonian-Laird:
    /// τ² ← τ² + (Σw²(y − μ)² − Σw + Σw²/Σw) / (Σw² − 2Σw³/Σw + (Σw²/Σw)²), with w = 1/(v + τ²) and μ their weighted
    /// mean; a step that would make τ² negative stops at 0, the boundary (where a further step down ends the search). Converged when a
    /// step changes τ² by less than <see cref="RemlTolerance"/>; given up after <see cref="RemlMaxIterations"/> steps.
    /// </summary>
    public static (double Tau2, int Iterations, bool Converged) Tau2Reml(IReadOnlyList<double> values, IReadOnlyList<double> variances, double start)
    {
        var tau2 = start;
        for (var iteration = 1; iteration <= RemlMaxIterations; iteration++)
        {
            double sw = 0, sw2 = 0, sw3 = 0, swy = 0;
            for (var i = 0; i < values.Count; i++)
            {
                var w = 1 / (variances[i] + tau2);
                sw += w;
                sw2 += w * w;
                sw3 += w * w * w;
                swy += w * values[i];
            }

            var mu = swy / sw;
            double score = 0;
            for (var i = 0; i < values.Count; i++)
            {
                var w = 1 / (variances[i] + tau2);
                score += w * w * (values[i] - mu) * (values[i] - mu);
            }

            var traceP = sw - (sw2 / sw);
            var tracePP = sw2 - (2 * sw3 / sw) + (sw2 * sw2 / (sw * sw));
            var next = Math.Max(0, tau2 + ((score - traceP) / tracePP));
            if (Math.Abs(next - tau2) < RemlTolerance)
            {
                return (next, iteration, true);
            }

            tau2 = next;
        }

        return (tau2, RemlMaxIterations, false);
    }

    /// <summary>
    /// Test for subgroup differences: Q = Σ W_g (μ_g − μ̄)² with W_g = 1/SE_g² and μ̄ their weighted mean, on
    /// G − 1 degrees of freedom (each subgroup pooled on its own, so with its own τ² under random effects).
    /// </summary>
    public static (double Q, int Df, double P) SubgroupDifferences(IReadOnlyList<PooledFit> subgroups)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(subgroups.Count, 2);
        var weights = subgroups.Select(s => 1 / (s.StandardError * s.StandardError)).ToList();
        var mean = subgroups.Select((s, i) => weights[i] * s.Estimate).Sum() / weights.Sum();
        var q = subgroups.Select((s, i) => weights[i] * (s.Estimate - mean) * (s.Estimate - mean)).Sum();
        var df = subgroups.Count - 1;
        return (q, df, ChiSquareUpperTail(q, df));
    }

    private static PooledFit Pool(IReadOnlyList<double> values, IReadOnlyList<double> variances, double tau2, int? iterations, bool converged)
    {
        var k = values.Count;
        ArgumentOutOfRangeException.ThrowIfZero(k);
        double sw = 0, swy = 0;
        var weights = new double[k];
        for (var i = 0; i < k; i++)
        {
            var w = 1 / (variances[i] + tau2);
            weights[i] = w;
            sw += w;
            swy += w * values[i];
        }

        for (var i = 0; i < k; i++)
        {
            weights[i] = 100 * weights[i] / sw;
        }

        var q = k < 2 ? 0 : CochranQ(values, variances);
        double? p = k < 2 ? null : ChiSquareUpperTail(q, k - 1);
        var i2 = k < 2 || q <= 0 ? 0 : Math.Max(0, (q - (k - 1)) / q) * 100;
        return new PooledFit(k, swy / sw, Math.Sqrt(1 / sw), tau2, q, p, i2, weights, iterations, converged);
    }
}
