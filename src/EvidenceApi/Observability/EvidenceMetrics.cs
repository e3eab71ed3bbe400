using System.Diagnostics.Metrics;
using EvidenceApi.Caching;
using EvidenceApi.CaseReports;
using Microsoft.Extensions.Caching.Memory;

namespace EvidenceApi.Observability;

/// <summary>What became of a case report submission, as counted by <c>evidence.submissions</c>.</summary>
public enum SubmissionOutcome
{
    /// <summary>Stored as a new submission (201).</summary>
    Accepted,

    /// <summary>Refused by a rule: not JSON, too large, wrong shape or failed validation (400, 413, 415).</summary>
    Rejected,

    /// <summary>Its DOI or PMID is already a study or a submission (409).</summary>
    Duplicate,

    /// <summary>A retry with the same Idempotency-Key and body, answered with the original submission (201).</summary>
    Replayed,

    /// <summary>An Idempotency-Key already used with another body (422).</summary>
    KeyReused,
}

/// <summary>
/// The API's own metrics, on the meter <see cref="MeterName"/>. Recording costs next to nothing while nothing listens
/// (metrics off); the gauges are read only when metrics are collected.
/// </summary>
public sealed class EvidenceMetrics
{
    public const string MeterName = "EvidenceApi";

    private static readonly KeyValuePair<string, object?> Hit = new("result", "hit");
    private static readonly KeyValuePair<string, object?> Miss = new("result", "miss");

    private static readonly KeyValuePair<string, object?>[] Outcomes =
    [
        new("outcome", "accepted"),
        new("outcome", "rejected"),
        new("outcome", "duplicate"),
        new("outcome", "replayed"),
        new("outcome", "key_reused"),
    ];

    private readonly Counter<long> submissions;
    private readonly Counter<long> readCacheLookups;
    private Func<MemoryCacheStatistics?> readCacheStatistics = () => null;

    public EvidenceMetrics(IMeterFactory meterFactory, DataVersion dataVersion, DuplicateTitleChecks titleChecks)
    {
        var meter = meterFactory.Create(MeterName);
        submissions = meter.CreateCounter<long>(
            "evidence.submissions", "{submission}", "Case report submissions by outcome: accepted, rejected, duplicate, replayed, key_reused.");
        readCacheLookups = meter.CreateCounter<long>(
            "evidence.read_cache.lookups", "{lookup}", "Public reads looked up in the read cache: result hit (served from memory) or miss (queried).");
        meter.CreateObservableGauge(
            "evidence.read_cache.size", () => readCacheStatistics()?.CurrentEstimatedSize ?? 0, "By", "Estimated size of the answers held in the read cache.");
        meter.CreateObservableGauge(
            "evidence.read_cache.entries", () => readCacheStatistics()?.CurrentEntryCount ?? 0, "{entry}", "Answers held in the read cache.");
        meter.CreateObservableGauge(
            "evidence.data_version", () => dataVersion.Current ?? 0, "{version}",
            "Version of the public evidence this instance serves; 0 while it cannot hear the database (then nothing is served from cache).");
        meter.CreateObservableGauge(
            "evidence.title_checks.pending", () => titleChecks.PendingCount, "{submission}",
            "Submissions whose near-identical title search is still pending, across all instances, as this instance last counted them.");
    }

    public void RecordSubmission(SubmissionOutcome outcome) => submissions.Add(1, Outcomes[(int)outcome]);

    public void RecordReadCacheHit() => readCacheLookups.Add(1, Hit);

    public void RecordReadCacheMiss() => readCacheLookups.Add(1, Miss);

    /// <summary>Where the read cache's size comes from; the cache belongs to the middleware that serves from it.</summary>
    public MemoryCache ObserveReadCache(MemoryCache cache)
    {
        readCacheStatistics = cache.GetCurrentStatistics;
        return cache;
    }
}
