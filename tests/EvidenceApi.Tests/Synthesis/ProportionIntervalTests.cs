using EvidenceApi.Synthesis;

namespace EvidenceApi.Tests.Synthesis;

/// <summary>Intervals against values computed by hand (Wilson) and by R's binom.test (Clopper-Pearson).</summary>
public sealed class ProportionIntervalTests
{
    [Theory]
    // x, n, Wilson lower, upper: p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²), over 1 + z²/n, z = 1.959964
    [InlineData(6, 6, 0.6097, 1.0)]
    [InlineData(7, 10, 0.3968, 0.8922)]
    [InlineData(0, 5, 0.0, 0.4345)]
    [InlineData(8, 17, 0.2617, 0.6904)]
    [InlineData(1, 1, 0.2065, 1.0)]
    public void Wilson_MatchesHandComputedValues(int x, int n, double lower, double upper)
    {
        var interval = ProportionInterval.Wilson(x, n);
        Assert.Equal(lower, interval.Lower, 4);
        Assert.Equal(upper, interval.Upper, 4);
    }

    [Theory]
    // R: binom.test(x, n)$conf.int
    [InlineData(6, 6, 0.5407, 1.0)]
    [InlineData(7, 10, 0.3475, 0.9333)]
    [InlineData(0, 5, 0.0, 0.5218)]
    [InlineData(8, 17, 0.2298, 0.7219)]
    [InlineData(1, 1, 0.025, 1.0)]
    public void ClopperPearson_MatchesExactBinomialValues(int x, int n, double lower, double upper)
    {
        var interval = ProportionInterval.ClopperPearson(x, n);
        Assert.Equal(lower, interval.Lower, 4);
        Assert.Equal(upper, interval.Upper, 4);
    }

    [Fact]
    public void BothIntervals_ContainThePointEstimateWithinZeroAndOne()
    {
        foreach (var n in new[] { 1, 2, 5, 17, 100 })
        {
            for (var x = 0; x <= n; x++)
            {
                var p = (double)x / n;
                foreach (var interval in new[] { ProportionInterval.Wilson(x, n), ProportionInterval.ClopperPearson(x, n) })
                {
                    Assert.InRange(interval.Lower, 0, p + 1e-12);
                    Assert.InRange(interval.Upper, p - 1e-12, 1);
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(-1, 5)]
    [InlineData(6, 5)]
    public void ImpossibleCounts_AreRejected(int x, int n) =>
        Assert.ThrowsAny<ArgumentException>(() => ProportionInterval.Wilson(x, n));
}
