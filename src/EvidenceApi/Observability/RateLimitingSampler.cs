using OpenTelemetry.Trace;

namespace EvidenceApi.Observability;

/// <summary>
/// Starts at most <c>perSecond</c> new traces a second (a second's worth may be used at once): a quiet instance traces
/// every request, a busy one a bounded number, so that exporting spans never costs a share of the throughput.
/// </summary>
public sealed class RateLimitingSampler : Sampler
{
    private readonly TimeProvider time;
    private readonly long interval;
    private readonly long burst;

    // The timestamp from which the next trace may start; a second's worth of traces may be saved up.
    private long next;

    public RateLimitingSampler(double perSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        this.time = time;
        interval = Math.Max(1, (long)(time.TimestampFrequency / perSecond));
        burst = Math.Max(interval, time.TimestampFrequency);
        next = time.GetTimestamp() - burst + interval;
        Description = FormattableString.Invariant($"RateLimitingSampler{{{perSecond}/s}}");
    }

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        var now = time.GetTimestamp();
        while (true)
        {
            var seen = Volatile.Read(ref next);
            if (now < seen)
            {
                return new SamplingResult(SamplingDecision.Drop);
            }

            if (Interlocked.CompareExchange(ref next, Math.Max(seen, now - burst + interval) + interval, seen) == seen)
            {
                return new SamplingResult(SamplingDecision.RecordAndSample);
            }
        }
    }
}
