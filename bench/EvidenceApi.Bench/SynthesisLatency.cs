using System.Diagnostics;
using System.Globalization;
using Dapper;
using Npgsql;

namespace EvidenceApi.Bench;

/// <summary>
/// Single-client latency of the meta-analysis and the forest plot, cache off. The requests of each pair alternate, so
/// both see the same machine: the filtered synthesis (PASI-75, umbilical cord, intravenous, psoriasis) with simple
/// pooling and with random effects; and a forest plot of at most 50 studies against the random-effects synthesis of
/// the same studies, whose difference is what drawing costs.
/// </summary>
public static class SynthesisLatency
{
    private const string Filtered = "measure=pasi_75&condition=psoriasis&cellSource=umbilical_cord&route=intravenous";

    // Narrow slices of the filtered case (one country, design and year) that pool at most 50 studies: the same rules as
    // the synthesis (a usable PASI-75 count, or one patient's PASI scores; published, not a review).
    private const string Slices = """
        SELECT s.country, s.design, s.year, count(*) AS studies
        FROM studies s
        JOIN study_designs d ON d.code = s.design
        WHERE s.condition = 'psoriasis' AND NOT d.is_review AND s.status = 'published' AND s.country IS NOT NULL AND s.year IS NOT NULL
          AND EXISTS (SELECT 1 FROM interventions i WHERE i.study_id = s.id AND i.cell_source = 'umbilical_cord' AND i.route = 'intravenous')
          AND EXISTS (SELECT 1 FROM outcomes o WHERE o.study_id = s.id
                      AND ((o.measure = 'pasi_75' AND o.assessed > 0 AND o.responders IS NOT NULL)
                        OR (o.measure = 'pasi' AND o.baseline_value > 0 AND o.value IS NOT NULL AND (o.assessed = 1 OR (o.assessed IS NULL AND s.participants = 1)))))
        GROUP BY s.country, s.design, s.year
        HAVING count(*) <= 50
        ORDER BY count(*) DESC, s.country, s.design, s.year
        LIMIT 20
        """;

    public static async Task RunAsync(HttpClient client, NpgsqlConnection connection, int samples)
    {
        var slices = (await connection.QueryAsync<(string Country, string Design, int Year, long Studies)>(Slices, commandTimeout: 600)).ToList();
        var sliceQuery = slices.Select(s => string.Create(CultureInfo.InvariantCulture,
            $"{Filtered}&country={Uri.EscapeDataString(s.Country)}&design={s.Design}&yearFrom={s.Year}&yearTo={s.Year}&model=random")).ToList();

        var heavy = Math.Min(samples, 100);
        var (simple, random, errors) = await PairAsync(client, heavy, _ => "/v1/synthesis?" + Filtered, _ => $"/v1/synthesis?{Filtered}&model=random");
        Row("synthesis, simple pooling (PASI-75, UC, IV)", simple, errors.First);
        Row("synthesis, random effects (PASI-75, UC, IV)", random, errors.Second);

        if (sliceQuery.Count == 0)
        {
            Console.WriteLine("| forest plot | 0 | - | - | - | no slice of the filtered case pools a study |");
            return;
        }

        var (synthesis, forest, sliceErrors) = await PairAsync(client, samples,
            i => "/v1/synthesis?" + sliceQuery[i % sliceQuery.Count], i => "/v1/synthesis/forest.svg?" + sliceQuery[i % sliceQuery.Count]);
        var studies = string.Create(CultureInfo.InvariantCulture, $"{slices.Min(s => s.Studies)}-{slices.Max(s => s.Studies)} studies");
        Row($"synthesis, random effects, {studies}", synthesis, sliceErrors.First);
        Row($"forest plot, the same {studies}", forest, sliceErrors.Second);

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Random-effects synthesis of the filtered case: p95 {Percentile(random, 0.95):F0} ms (target at most 1000 ms); simple pooling p95 {Percentile(simple, 0.95):F0} ms, ratio {Percentile(random, 0.95) / Percentile(simple, 0.95):F2}."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Forest plot over its synthesis ({studies}, {sliceQuery.Count} slices): p95 {Percentile(forest, 0.95):F1} ms against {Percentile(synthesis, 0.95):F1} ms, difference {Percentile(forest, 0.95) - Percentile(synthesis, 0.95):F1} ms (target at most 50 ms); p50 difference {Percentile(forest, 0.5) - Percentile(synthesis, 0.5):F1} ms."));
    }

    /// <summary>Ten unrecorded pairs, then <paramref name="samples"/> pairs, each pair's two requests one after the other.</summary>
    private static async Task<(List<double> First, List<double> Second, (int First, int Second) Errors)> PairAsync(
        HttpClient client, int samples, Func<int, string> first, Func<int, string> second)
    {
        List<double> a = new(samples), b = new(samples);
        int errorsA = 0, errorsB = 0;
        for (var i = -10; i < samples; i++)
        {
            var (timeA, okA) = await TimeAsync(client, first(i + 10));
            var (timeB, okB) = await TimeAsync(client, second(i + 10));
            if (i >= 0)
            {
                a.Add(timeA);
                b.Add(timeB);
                errorsA += okA ? 0 : 1;
                errorsB += okB ? 0 : 1;
            }
        }

        a.Sort();
        b.Sort();
        return (a, b, (errorsA, errorsB));
    }

    private static async Task<(double Milliseconds, bool Ok)> TimeAsync(HttpClient client, string url)
    {
        var timer = Stopwatch.StartNew();
        using var response = await client.GetAsync(url);
        await response.Content.ReadAsByteArrayAsync();
        return (timer.Elapsed.TotalMilliseconds, response.IsSuccessStatusCode);
    }

    private static void Row(string name, List<double> sorted, int errors) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {sorted.Count} | {Percentile(sorted, 0.50):F2} | {Percentile(sorted, 0.95):F2} | {sorted[^1]:F2} | {errors} |"));

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
