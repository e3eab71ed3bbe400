using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Dapper;
using Npgsql;

namespace EvidenceApi.Bench;

/// <summary>
/// Mixed traffic for a fixed time: 90 % reads across the read endpoints, 10 % valid submissions, each with a unique
/// Idempotency-Key. Afterwards every 201 is looked up in the database: it must be there exactly once.
/// </summary>
public static class Load
{
    public static async Task<int> RunAsync(string baseUrl, int seconds, int connections, string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var contributor = await BenchContributor.CreateAsync(dataSource, "load test");
        await using var connection = await dataSource.OpenConnectionAsync();
        var (minId, maxId) = await connection.QuerySingleAsync<(long, long)>("SELECT min(id), max(id) FROM studies");

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        var reads = new Func<Random, string>[]
        {
            r => $"/v1/studies/{r.NextInt64(minId, Math.Min(maxId, minId + 5000) + 1)}",
            r => $"/v1/studies?condition=psoriasis&design={(r.Next(2) == 0 ? "case_report" : "rct")}&sort=-year&limit=20&includeTotal=false",
            r => $"/v1/outcomes?studyId={r.NextInt64(minId, Math.Min(maxId, minId + 5000) + 1)}&includeTotal=false",
            r => $"/v1/interventions?studyId={r.NextInt64(minId, Math.Min(maxId, minId + 5000) + 1)}&includeTotal=false",
            r => "/v1/studies?q=remission%20infusion&limit=20&includeTotal=false",
            r => "/v1/synthesis?measure=pasi_75&condition=psoriasis&cellSource=umbilical_cord&route=intravenous",
            r => "/v1/stats?condition=psoriasis",
            r => "/v1/vocabularies",
        };

        var latencies = new ConcurrentBag<double>();
        var statuses = new ConcurrentDictionary<int, int>();
        var created = new ConcurrentBag<long>();
        var failures = 0;
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var timer = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async worker =>
        {
            var random = new Random(worker);
            while (DateTime.UtcNow < deadline)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var request = random.NextDouble() < 0.10 ? contributor.Submission() : new HttpRequestMessage(HttpMethod.Get, reads[random.Next(reads.Length)](random));
                    using var response = await client.SendAsync(request);
                    await response.Content.ReadAsByteArrayAsync();
                    statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        created.Add(long.Parse(response.Headers.Location!.ToString().Split('/')[^1], CultureInfo.InvariantCulture));
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
                catch (TaskCanceledException)
                {
                    Interlocked.Increment(ref failures);
                }

                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        var elapsed = timer.Elapsed.TotalSeconds;

        var ids = created.ToArray();
        var stored = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM submissions WHERE submitted_by = @KeyId", new { contributor.KeyId });
        var found = await connection.ExecuteScalarAsync<long>("SELECT count(DISTINCT id) FROM submissions WHERE id = ANY(@Ids) AND submitted_by = @KeyId", new { Ids = ids, contributor.KeyId });
        var sorted = latencies.OrderBy(l => l).ToList();
        var total = sorted.Count;
        var serverErrors = statuses.Where(s => s.Key >= 500).Sum(s => s.Value);
        var clientErrors = statuses.Where(s => s.Key is >= 400 and < 500 and not 429).Sum(s => s.Value);

        Console.WriteLine($"| duration | connections | requests | req/s | p50 ms | p99 ms | 2xx | 429 | other 4xx | 5xx | failed | 201 | stored once | lost |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {elapsed:F0} s | {connections} | {total} | {total / elapsed:F0} | {sorted[(int)(total * 0.5)]:F1} | {sorted[Math.Min(total - 1, (int)(total * 0.99))]:F1} | " +
            $"{statuses.Where(s => s.Key is >= 200 and < 300).Sum(s => s.Value)} | {statuses.GetValueOrDefault(429)} | {clientErrors} | {serverErrors} | {failures} | " +
            $"{ids.Length} | {found} of {stored} | {ids.Length - found} |"));
        var ok = serverErrors == 0 && clientErrors == 0 && failures == 0 && found == ids.Length && stored == ids.Length;
        Console.WriteLine(ok ? "OK: no errors besides deliberate 429s; every 201 is stored exactly once." : "FAILED: see the counts above.");

        // Once counted, the run's own submissions go.
        await contributor.RemoveAsync(connection);
        return ok ? 0 : 1;
    }
}
