namespace EvidenceApi.Synthesis;

/// <summary>
/// Puts a proportion of <c>x</c> responders out of <c>n</c> on a scale where its sampling distribution is close to
/// normal, with its sampling variance, and back again.
/// </summary>
public static class ProportionScale
{
    public const string FreemanTukey = "freeman_tukey";
    public const string Logit = "logit";

    public static readonly IReadOnlyList<string> Names = [FreemanTukey, Logit];

    /// <summary>Added to responders and non-responders of a study with 0 % or 100 % on the logit scale (only there).</summary>
    public const double ContinuityCorrection = 0.5;

    /// <summary>The transformed proportion and its sampling variance.</summary>
    public static (double Value, double Variance) Transform(string scale, int x, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(x, n);
        return scale switch
        {
            FreemanTukey => (DoubleArcsine(x, n), 1.0 / ((4.0 * n) + 2)),
            Logit => LogOdds(x, n),
            _ => throw new ArgumentOutOfRangeException(nameof(scale), scale, "Unknown scale."),
        };
    }

    /// <summary>Whether the logit of <paramref name="x"/>/<paramref name="n"/> needs the continuity correction.</summary>
    public static bool NeedsCorrection(string scale, int x, int n) => scale == Logit && (x == 0 || x == n);

    /// <summary>
    /// Back to a proportion. For Freeman-Tukey this is Miller's (1978) inversion, which needs a sample size: for a pooled
    /// value, the harmonic mean of the pooled studies' sizes (Miller's proposal, as in metafor's transf.ipft.hm and
    /// Barendregt et al. 2013); values beyond those of 0/n and n/n are 0 and 1.
    /// </summary>
    public static double BackTransform(string scale, double value, double harmonicMeanN) => scale switch
    {
        FreemanTukey => InverseDoubleArcsine(value, harmonicMeanN),
        Logit => 1 / (1 + Math.Exp(-value)),
        _ => throw new ArgumentOutOfRangeException(nameof(scale), scale, "Unknown scale."),
    };

    /// <summary>Freeman-Tukey double arcsine, halved as in metafor's PFT (variance 1/(4n+2)).</summary>
    public static double DoubleArcsine(double x, double n) =>
        0.5 * (Math.Asin(Math.Sqrt(x / (n + 1))) + Math.Asin(Math.Sqrt((x + 1) / (n + 1))));

    /// <summary>Miller (1978): p = ½ [1 − sgn(cos t) √(1 − (sin t + (sin t − 1/sin t)/n)²)] with t twice the halved value.</summary>
    public static double InverseDoubleArcsine(double value, double n)
    {
        if (value <= DoubleArcsine(0, n))
        {
            return 0;
        }

        if (value >= DoubleArcsine(n, n))
        {
            return 1;
        }

        var t = 2 * value;
        var sin = Math.Sin(t);
        var inner = 1 - Math.Pow(sin + ((sin - (1 / sin)) / n), 2);
        return Math.Clamp(0.5 * (1 - (Math.Sign(Math.Cos(t)) * Math.Sqrt(Math.Max(0, inner)))), 0, 1);
    }

    private static (double Value, double Variance) LogOdds(int x, int n)
    {
        var c = x == 0 || x == n ? ContinuityCorrection : 0;
        double responders = x + c, others = n - x + c;
        return (Math.Log(responders / others), (1 / responders) + (1 / others));
    }
}
