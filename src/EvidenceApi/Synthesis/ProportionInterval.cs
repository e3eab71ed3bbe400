using MathNet.Numerics.Distributions;

namespace EvidenceApi.Synthesis;

/// <summary>A 95 % confidence interval of a proportion, as fractions (0-1).</summary>
/// <param name="Lower">Lower bound.</param>
/// <param name="Upper">Upper bound.</param>
public sealed record Interval(double Lower, double Upper);

/// <summary>Confidence intervals for a binomial proportion of <c>x</c> responders out of <c>n</c>.</summary>
public static class ProportionInterval
{
    public const double Confidence = 0.95;

    private static readonly double Z = Normal.InvCDF(0, 1, 1 - ((1 - Confidence) / 2));

    /// <summary>Wilson score interval (no continuity correction): well behaved near 0 % and 100 %.</summary>
    public static Interval Wilson(int x, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(x, n);
        double p = (double)x / n, z2 = Z * Z;
        var centre = p + (z2 / (2 * n));
        var spread = Z * Math.Sqrt((p * (1 - p) / n) + (z2 / (4.0 * n * n)));
        var denominator = 1 + (z2 / n);
        return new Interval(Math.Max(0, (centre - spread) / denominator), Math.Min(1, (centre + spread) / denominator));
    }

    /// <summary>Clopper-Pearson "exact" interval from beta quantiles: conservative, never narrower than it should be.</summary>
    public static Interval ClopperPearson(int x, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(x, n);
        var alpha = 1 - Confidence;
        var lower = x == 0 ? 0 : Beta.InvCDF(x, n - x + 1, alpha / 2);
        var upper = x == n ? 1 : Beta.InvCDF(x + 1, n - x, 1 - (alpha / 2));
        return new Interval(lower, upper);
    }
}
