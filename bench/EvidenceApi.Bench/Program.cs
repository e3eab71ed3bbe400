using System.Diagnostics;
using System.Globalization;
using Dapper;
using EvidenceApi.Bench;
using EvidenceApi.Database;
using Npgsql;

// The benchmark's helper commands; bench/run.sh strings them together.
//   db-start DIR            start (or reuse) a private PostgreSQL cluster in DIR, print its connection string
//   db-stop DIR             stop it
//   generate CS N [SEED]    fill the database CS with N synthetic studies (binary COPY)
//   bare CS URL             serve the same rows with bare Dapper queries (the cache-off baseline)
//   latency URL N CS        single-client latency of varied queries, N samples each (the heaviest synthesis at most 100)
//   load URL SECONDS CONNECTIONS CS   mixed reads and submissions, then a count check of every 201
//   otlp-sink URL           accept OTLP over HTTP and discard it, counting exports (GET /counts)
return args switch
{
    ["db-start", var dir] => await StartDatabaseAsync(dir),
    ["db-stop", var dir] => await StopDatabaseAsync(dir),
    ["generate", var cs, var n] => await ScaleData.GenerateAsync(cs, int.Parse(n, CultureInfo.InvariantCulture), 20261123, Console.Out),
    ["generate", var cs, var n, var seed] => await ScaleData.GenerateAsync(cs, int.Parse(n, CultureInfo.InvariantCulture), int.Parse(seed, CultureInfo.InvariantCulture), Console.Out),
    ["bare", var cs, var url] => await BareEndpoints.RunAsync(cs, url),
    ["latency", var url, var n, var cs] => await LatencyAsync(url, int.Parse(n, CultureInfo.InvariantCulture), cs),
    ["otlp-sink", var url] => await OtlpSink.RunAsync(url),
    ["load", var url, var seconds, var connections, var cs] => await Load.RunAsync(url, int.Parse(seconds, CultureInfo.InvariantCulture), int.Parse(connections, CultureInfo.InvariantCulture), cs),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: db-start DIR | db-stop DIR | generate CONNECTION_STRING STUDIES [SEED] | bare CONNECTION_STRING URL | latency BASE_URL SAMPLES CONNECTION_STRING | load BASE_URL SECONDS CONNECTIONS CONNECTION_STRING | otlp-sink URL");
    return 2;
}

static async Task<int> StartDatabaseAsync(string directory)
{
    var binaries = EmbeddedPostgres.FindServerBinaries() ?? throw new InvalidOperationException("No PostgreSQL server binaries found.");
    var server = await EmbeddedPostgres.StartAsync(binaries, directory, durable: false, Console.Error.WriteLine);
    await server.CreateDatabaseAsync("evidence_bench");
    Console.WriteLine(server.ConnectionString("evidence_bench"));
    return 0;
}

static async Task<int> StopDatabaseAsync(string directory)
{
    var binaries = EmbeddedPostgres.FindServerBinaries() ?? throw new InvalidOperationException("No PostgreSQL server binaries found.");
    await EmbeddedPostgres.StopClusterAsync(binaries, directory);
    return 0;
}

static async Task<int> LatencyAsync(string baseUrl, int samples, string connectionString)
{
    using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
    await using var connection = new NpgsqlConnection(connectionString);
    var (minId, maxId) = await connection.QuerySingleAsync<(long, long)>("SELECT min(id), max(id) FROM studies");
    var random = new Random(7);
    string[] conditions = ["psoriasis", "atopic dermatitis", "knee osteoarthritis", "multiple sclerosis", "vitiligo", "rheumatoid arthritis"];
    string[] designs = ["case_report", "case_series", "single_arm_trial", "rct"];
    string[] sorts = ["-year", "title", "-participants", "id"];
    string[] words = ["infusion", "remission", "secretome", "keratinocyte", "allogeneic", "plaque", "relapse", "exosome", "phototherapy", "placebo"];
    string[] routes = ["intravenous", "topical", "subcutaneous", "intra_articular"];

    var queries = new (string Name, Func<string> Next)[]
    {
        ("study by id", () => $"/v1/studies/{random.NextInt64(minId, maxId + 1)}"),
        ("filtered page of 20", () => $"/v1/studies?condition={Uri.EscapeDataString(conditions[random.Next(conditions.Length)])}&design={designs[random.Next(designs.Length)]}&sort={sorts[random.Next(sorts.Length)]}&limit=20&includeTotal=false"),
        ("filtered page, intervention filter", () => $"/v1/studies?condition=psoriasis&cellSource=umbilical_cord&route={routes[random.Next(routes.Length)]}&sort=-year&limit=20&includeTotal=false"),
        ("outcomes of one study", () => $"/v1/outcomes?studyId={random.NextInt64(minId, maxId + 1)}&includeTotal=false"),
        ("free-text search", () => $"/v1/studies?q={words[random.Next(words.Length)]}%20{words[random.Next(words.Length)]}&limit=20&includeTotal=false"),
    };

    // Unrecorded warm-up: compiles the code paths and opens pooled connections. Its values are drawn from the same
    // random stream, so the recorded samples ask for other studies and pages, not ones just read.
    foreach (var (_, next) in queries)
    {
        for (var i = 0; i < 50; i++)
        {
            using var response = await client.GetAsync(next());
        }
    }

    Console.WriteLine("| query | samples | p50 ms | p95 ms | max ms | errors |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|");
    foreach (var (name, next) in queries)
    {
        var timings = new List<double>(samples);
        var errors = 0;
        for (var i = 0; i < samples; i++)
        {
            var url = next();
            var timer = Stopwatch.StartNew();
            using var response = await client.GetAsync(url);
            await response.Content.ReadAsByteArrayAsync();
            timings.Add(timer.Elapsed.TotalMilliseconds);
            if (!response.IsSuccessStatusCode && response.StatusCode != System.Net.HttpStatusCode.NotFound)
            {
                errors++;
            }
        }

        PrintRow(name, timings, errors);
    }

    // A contributor's submission too, which must stay quick however large the evidence grows.
    await using var dataSource = NpgsqlDataSource.Create(connectionString);
    var contributor = await BenchContributor.CreateAsync(dataSource, "latency");
    var submitTimings = new List<double>(samples);
    var submitErrors = 0;
    for (var i = 0; i < samples; i++)
    {
        using var request = contributor.Submission();
        var timer = Stopwatch.StartNew();
        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        submitTimings.Add(timer.Elapsed.TotalMilliseconds);
        submitErrors += response.StatusCode == System.Net.HttpStatusCode.Created ? 0 : 1;
    }

    PrintRow("case report submission", submitTimings, submitErrors);
    await contributor.RemoveAsync(connection);

    // The meta-analysis and the forest plot, each against the request it adds to.
    await SynthesisLatency.RunAsync(client, connection, samples);
    return 0;
}

static void PrintRow(string name, List<double> timings, int errors)
{
    timings.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {timings.Count} | {Percentile(timings, 0.50):F2} | {Percentile(timings, 0.95):F2} | {timings[^1]:F2} | {errors} |"));
}

static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
