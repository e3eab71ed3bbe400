using EvidenceApi.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace EvidenceApi.Tests.Infrastructure;

/// <summary>
/// Watches one API instance's read cache through its lookup counter (<c>evidence.read_cache.lookups</c>), the signal an
/// operator sees too: whether an answer really came from memory. Only that instance's meter is watched, so instances
/// running side by side in the test process do not count for each other.
/// </summary>
public sealed class CacheProbe : IDisposable
{
    private readonly MetricCollector<long> lookups;

    public CacheProbe(IServiceProvider services) => lookups = new MetricCollector<long>(
        services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), EvidenceMetrics.MeterName, "evidence.read_cache.lookups");

    /// <summary>Answers served from memory so far.</summary>
    public long Hits => Count("hit");

    /// <summary>Answers the cache had to query for so far.</summary>
    public long Misses => Count("miss");

    /// <summary>Reads <paramref name="path"/> until an answer is served from memory: the cache is then really in use.</summary>
    public async Task<HttpResponseMessage> WaitUntilServedFromCacheAsync(HttpClient client, string path, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var before = Hits;
            var response = await client.GetAsync(path);
            if (Hits > before)
            {
                return response;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{path} was never served from the cache ({Hits} hits, {Misses} misses)");
            await Task.Delay(50);
        }
    }

    /// <summary>Sends <paramref name="request"/> and says whether its answer came from memory.</summary>
    public async Task<(HttpResponseMessage Response, bool FromCache)> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        var before = Hits;
        var response = await client.SendAsync(request);
        return (response, Hits > before);
    }

    public void Dispose() => lookups.Dispose();

    private long Count(string result) => lookups.GetMeasurementSnapshot()
        .Where(m => m.Tags.TryGetValue("result", out var value) && (string?)value == result)
        .Sum(m => m.Value);
}
