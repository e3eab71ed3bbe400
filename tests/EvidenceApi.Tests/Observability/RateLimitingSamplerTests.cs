using System.Diagnostics;
using EvidenceApi.Observability;
using OpenTelemetry.Trace;

namespace EvidenceApi.Tests.Observability;

public sealed class RateLimitingSamplerTests
{
    private sealed class ManualTime : TimeProvider
    {
        public long Now { get; set; } = 42_000_000;

        public override long TimestampFrequency => 1_000_000;

        public override long GetTimestamp() => Now;
    }

    private static int Sampled(Sampler sampler, int requests) => Enumerable.Range(0, requests)
        .Count(_ => sampler.ShouldSample(new SamplingParameters(default, ActivityTraceId.CreateRandom(), "GET", ActivityKind.Server)).Decision
                    == SamplingDecision.RecordAndSample);

    [Fact]
    public void NewTraces_StartAtMostAtTheRate_WithASecondsWorthAtOnce()
    {
        var time = new ManualTime();
        var sampler = new RateLimitingSampler(10, time);

        Assert.Equal(10, Sampled(sampler, 1000));

        time.Now += 100_000;
        Assert.Equal(1, Sampled(sampler, 1000));

        time.Now += 250_000;
        Assert.Equal(2, Sampled(sampler, 1000));

        // A quiet minute saves up one second's worth, not a minute's.
        time.Now += 60_000_000;
        Assert.Equal(10, Sampled(sampler, 1000));
    }

    [Fact]
    public void NewTraces_AtAQuietInstance_AreAllTraced()
    {
        var time = new ManualTime();
        var sampler = new RateLimitingSampler(10, time);

        for (var i = 0; i < 50; i++)
        {
            time.Now += 500_000;
            Assert.Equal(1, Sampled(sampler, 1));
        }
    }
}
