using System.Diagnostics;
using Dapper;
using EvidenceApi.Database;
using Npgsql;
using NpgsqlTypes;

namespace EvidenceApi.Bench;

/// <summary>
/// Fills a benchmark database with synthetic studies (1-3 interventions and 2-5 outcomes each) through the real
/// schema, with binary COPY. Every synthetic record says so: keys start with "synthetic-", DOIs use the example
/// prefix 10.5555, and every outcome quote reads "Synthetic benchmark data, not from any source."
/// </summary>
public static class ScaleData
{
    private const string SyntheticQuote = "Synthetic benchmark data, not from any source.";

    private static readonly string[] SyntheticAuthors = ["Synthetic A", "Benchmark B"];

    private static readonly (string Condition, string[] Subtypes, int Weight)[] Conditions =
    [
        // Subtypes come from the vocabulary (db/0012_condition_subtypes.sql): only psoriasis has them so far.
        ("psoriasis", ["plaque", "scalp", "pustular", "psoriatic_arthritis", "guttate"], 40),
        ("atopic dermatitis", [], 12),
        ("systemic lupus erythematosus", [], 8),
        ("crohn's disease", [], 8),
        ("knee osteoarthritis", [], 8),
        ("multiple sclerosis", [], 6),
        ("graft-versus-host disease", [], 6),
        ("rheumatoid arthritis", [], 6),
        ("systemic sclerosis", [], 3),
        ("vitiligo", [], 3),
    ];

    private static readonly (string Code, int Weight)[] Designs =
    [
        ("case_report", 30), ("case_series", 20), ("single_arm_trial", 20), ("rct", 12), ("non_randomised_trial", 6),
        ("preclinical", 5), ("systematic_review", 3), ("narrative_review", 3), ("meta_analysis", 1),
    ];

    private static readonly (string Code, string Label, int Weight)[] Products =
    [
        ("msc_cells", "mesenchymal stem cells", 55), ("stromal_vascular_fraction", "stromal vascular fraction", 10),
        ("conditioned_medium", "conditioned medium secretome", 15), ("exosomes", "exosomes", 15), ("other", "cell product", 5),
    ];

    private static readonly (string Code, string Label, int Weight)[] CellSources =
    [
        ("umbilical_cord", "umbilical cord", 35), ("adipose", "adipose tissue", 25), ("bone_marrow", "bone marrow", 20),
        ("placenta", "placenta", 5), ("gingiva", "gingiva", 3), ("dental_pulp", "dental pulp", 3), ("amniotic", "amnion", 2),
        ("embryonic_stem_cell_derived", "embryonic stem cell derived", 2), ("unknown", "unreported source", 5),
    ];

    private static readonly (string Code, int Weight)[] Routes =
    [
        ("intravenous", 50), ("subcutaneous", 10), ("intradermal", 8), ("intralesional", 5), ("topical", 17),
        ("intramuscular", 3), ("intra_articular", 7),
    ];

    private static readonly (string Code, int Weight)[] Measures =
    [
        ("pasi", 15), ("pasi_50", 8), ("pasi_75", 12), ("pasi_90", 5), ("bsa", 8), ("pga", 6), ("dlqi", 10),
        ("clinical_response", 16), ("relapse_free", 8), ("adverse_events", 12),
    ];

    private static readonly string[] Countries =
        ["China", "India", "United States", "Iran", "Italy", "Spain", "Korea", "Japan", "Brazil", "Germany", "Kazakhstan", "Egypt", "Poland", "Turkey", "Australia"];

    private static readonly string[] Words =
    [
        "infusion", "immunomodulation", "regulatory", "cytokine", "interleukin", "keratinocyte", "plaque", "remission", "relapse",
        "tolerability", "dose", "escalation", "allogeneic", "autologous", "paracrine", "angiogenesis", "fibroblast", "biopsy",
        "histology", "scalp", "nail", "erythema", "induration", "desquamation", "itch", "quality", "life", "durable",
        "response", "improvement", "refractory", "biologic", "methotrexate", "cyclosporine", "phototherapy", "topical",
        "corticosteroid", "maintenance", "follow", "safety", "efficacy", "pilot", "phase", "randomised", "placebo",
        "controlled", "open", "label", "multicentre", "cohort", "retrospective", "prospective", "registry", "secretome",
        "vesicles", "exosome", "umbilical", "adipose", "marrow", "gingival", "placental", "expanded", "passage", "viability",
    ];

    public sealed record Progress(string Table, long Rows, double Seconds);

    public static async Task<int> GenerateAsync(string connectionString, int studies, int seed, TextWriter output)
    {
        await DatabaseMigrator.MigrateAsync(connectionString);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using (var check = await dataSource.OpenConnectionAsync())
        {
            var existing = await check.ExecuteScalarAsync<long>("SELECT count(*) FROM studies WHERE key LIKE 'synthetic-%'");
            var complete = await check.ExecuteScalarAsync<bool>("SELECT NOT EXISTS (SELECT 1 FROM studies WHERE search_vector IS NULL)");
            if (existing == studies && complete)
            {
                output.WriteLine($"The database already holds {existing:N0} synthetic studies; nothing to do.");
                return 0;
            }

            if (existing > 0 || await check.ExecuteScalarAsync<long>("SELECT count(*) FROM studies") > 0)
            {
                output.WriteLine("Emptying the benchmark database first.");
                await check.ExecuteAsync("TRUNCATE outcomes, interventions, review_inclusions, studies, sources RESTART IDENTITY CASCADE");
            }
        }

        var random = new Random(seed);
        var plan = Plan(random, studies);
        var total = Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync();

        // Triggers (search documents, word lists, data version) are bulk-computed after the load instead of per row.
        await connection.ExecuteAsync("SET session_replication_role = replica");
        var firstSourceId = await NextIdentityAsync(connection, "sources");
        var firstStudyId = await NextIdentityAsync(connection, "studies");
        var firstInterventionId = await NextIdentityAsync(connection, "interventions");

        await CopyAsync(connection, "sources (title, authors, journal, year, doi, url)", plan.Studies, output, async (writer, s) =>
        {
            await writer.WriteAsync($"Synthetic source {s.Number}", NpgsqlDbType.Text);
            await writer.WriteAsync(SyntheticAuthors, NpgsqlDbType.Array | NpgsqlDbType.Text);
            await writer.WriteAsync("Synthetic Journal of Benchmarks", NpgsqlDbType.Text);
            await writer.WriteAsync(s.Year, NpgsqlDbType.Integer);
            await writer.WriteAsync($"10.5555/synthetic.{s.Number}", NpgsqlDbType.Text);
            await writer.WriteAsync($"https://doi.org/10.5555/synthetic.{s.Number}", NpgsqlDbType.Text);
        });

        await CopyAsync(connection,
            "studies (key, source_id, year, title, design, status, condition, condition_subtype, country, participants, age_min, age_max, male_count, female_count, follow_up_weeks, summary)",
            plan.Studies, output, async (writer, s) =>
            {
                await writer.WriteAsync($"synthetic-{s.Number:D7}", NpgsqlDbType.Text);
                await writer.WriteAsync(firstSourceId + s.Number - 1, NpgsqlDbType.Bigint);
                await writer.WriteAsync(s.Year, NpgsqlDbType.Integer);
                await writer.WriteAsync(s.Title, NpgsqlDbType.Text);
                await writer.WriteAsync(s.Design, NpgsqlDbType.Text);
                await writer.WriteAsync("published", NpgsqlDbType.Text);
                await writer.WriteAsync(s.Condition, NpgsqlDbType.Text);
                await WriteNullableAsync(writer, s.Subtype, NpgsqlDbType.Text);
                await writer.WriteAsync(s.Country, NpgsqlDbType.Text);
                await writer.WriteAsync(s.Participants, NpgsqlDbType.Integer);
                await writer.WriteAsync((decimal)s.AgeMin, NpgsqlDbType.Numeric);
                await writer.WriteAsync((decimal)s.AgeMax, NpgsqlDbType.Numeric);
                await writer.WriteAsync(s.Male, NpgsqlDbType.Integer);
                await writer.WriteAsync(s.Participants - s.Male, NpgsqlDbType.Integer);
                await writer.WriteAsync((decimal)s.FollowUpWeeks, NpgsqlDbType.Numeric);
                await writer.WriteAsync(s.Summary, NpgsqlDbType.Text);
            });

        await CopyAsync(connection,
            "interventions (study_id, key, product, cell_source, donor, route, dose_value, dose_unit, administrations, schedule)",
            plan.Interventions, output, async (writer, i) =>
            {
                await writer.WriteAsync(firstStudyId + i.StudyNumber - 1, NpgsqlDbType.Bigint);
                await writer.WriteAsync($"arm-{i.Index + 1}", NpgsqlDbType.Text);
                await writer.WriteAsync(i.Product, NpgsqlDbType.Text);
                await writer.WriteAsync(i.CellSource, NpgsqlDbType.Text);
                await writer.WriteAsync(i.Donor, NpgsqlDbType.Text);
                await writer.WriteAsync(i.Route, NpgsqlDbType.Text);
                await writer.WriteAsync(i.DoseMillionsPerKg * 1_000_000m, NpgsqlDbType.Numeric);
                await writer.WriteAsync("cells/kg", NpgsqlDbType.Text);
                await writer.WriteAsync(i.Administrations, NpgsqlDbType.Integer);
                await writer.WriteAsync($"{i.Administrations} doses, every {i.IntervalWeeks} weeks", NpgsqlDbType.Text);
            });

        var outcomeTimer = Stopwatch.StartNew();
        await CopyAsync(connection,
            "outcomes (study_id, intervention_id, measure, timepoint, timepoint_weeks, baseline_value, value, unit, scale_max, assessed, responders, result, quote, evidence)",
            plan.Outcomes, output, async (writer, o) =>
            {
                await writer.WriteAsync(firstStudyId + o.StudyNumber - 1, NpgsqlDbType.Bigint);
                await writer.WriteAsync(firstInterventionId + o.InterventionOrdinal, NpgsqlDbType.Bigint);
                await writer.WriteAsync(o.Measure, NpgsqlDbType.Text);
                await writer.WriteAsync($"{o.Weeks} weeks", NpgsqlDbType.Text);
                await writer.WriteAsync((decimal)o.Weeks, NpgsqlDbType.Numeric);
                await WriteNullableAsync(writer, o.Baseline, NpgsqlDbType.Numeric);
                await WriteNullableAsync(writer, o.Value, NpgsqlDbType.Numeric);
                await WriteNullableAsync(writer, o.Baseline is null ? null : "points", NpgsqlDbType.Text);
                await WriteNullableAsync(writer, o.Measure == "pga" ? 5m : (decimal?)null, NpgsqlDbType.Numeric);
                await writer.WriteAsync(o.Assessed, NpgsqlDbType.Integer);
                await WriteNullableAsync(writer, o.Responders, NpgsqlDbType.Integer);
                await writer.WriteAsync(o.Responders is null ? "Mean score reported" : $"{o.Responders} of {o.Assessed}", NpgsqlDbType.Text);
                await writer.WriteAsync(SyntheticQuote, NpgsqlDbType.Text);
                await writer.WriteAsync("primary", NpgsqlDbType.Text);
            });
        var outcomeRate = plan.Outcomes.Count / outcomeTimer.Elapsed.TotalSeconds;

        await VerifyIdsAsync(connection, firstStudyId, studies, firstInterventionId, plan.Interventions.Count);

        output.WriteLine("Computing search documents, study summaries and word lists ...");
        var searchTimer = Stopwatch.StartNew();
        await ComputeSearchAsync(dataSource, firstStudyId, studies);
        output.WriteLine($"  search documents and summaries: {searchTimer.Elapsed.TotalSeconds:F1} s");

        await connection.ExecuteAsync("SET session_replication_role = origin");
        // VACUUM as well: index-only scans need the visibility map a freshly loaded table lacks.
        await connection.ExecuteAsync(new CommandDefinition("VACUUM ANALYZE sources, studies, interventions, outcomes, search_words", commandTimeout: 1200));
        await connection.ExecuteAsync("SELECT bump_data_version()");

        output.WriteLine(
            $"Loaded {studies:N0} studies, {plan.Interventions.Count:N0} interventions and {plan.Outcomes.Count:N0} outcomes in {total.Elapsed.TotalSeconds:F1} s; " +
            $"outcomes at {outcomeRate:N0} rows/s.");
        return 0;
    }

    private static async Task<long> NextIdentityAsync(NpgsqlConnection connection, string table)
    {
        // Identity values are handed out in COPY order, so the ids of a fresh load are known in advance (and verified after).
        var sequence = await connection.ExecuteScalarAsync<string>($"SELECT pg_get_serial_sequence('{table}', 'id')");
        var (lastValue, isCalled) = await connection.QuerySingleAsync<(long, bool)>($"SELECT last_value, is_called FROM {sequence}");
        return isCalled ? lastValue + 1 : lastValue;
    }

    private static async Task VerifyIdsAsync(NpgsqlConnection connection, long firstStudyId, int studies, long firstInterventionId, int interventions)
    {
        var (minStudy, maxStudy) = await connection.QuerySingleAsync<(long, long)>("SELECT min(id), max(id) FROM studies WHERE key LIKE 'synthetic-%'");
        var (minIntervention, maxIntervention) = await connection.QuerySingleAsync<(long, long)>("SELECT min(id), max(id) FROM interventions");
        if (minStudy != firstStudyId || maxStudy != firstStudyId + studies - 1
            || minIntervention != firstInterventionId || maxIntervention != firstInterventionId + interventions - 1)
        {
            throw new InvalidOperationException("Identity values were not handed out in COPY order; the load is inconsistent.");
        }
    }

    private static async Task ComputeSearchAsync(NpgsqlDataSource dataSource, long firstStudyId, int studies)
    {
        const int Workers = 2;
        var chunk = (studies + Workers - 1) / Workers;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(async worker =>
        {
            // Through the row trigger, so that the search document and the study summary are derived as the API derives them.
            await using var connection = await dataSource.OpenConnectionAsync();
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE studies SET search_vector = NULL WHERE id BETWEEN @From AND @To",
                new { From = firstStudyId + (worker * chunk), To = firstStudyId + ((worker + 1) * chunk) - 1 },
                commandTimeout: 3600));
        }));

        await using var words = await dataSource.OpenConnectionAsync();
        // Built row by row, the text index is twice the size of one built in a single pass; rebuild it as after a restore.
        await words.ExecuteAsync(new CommandDefinition("REINDEX INDEX studies_search_vector_idx", commandTimeout: 3600));
        await words.ExecuteAsync(new CommandDefinition(
            "SELECT add_search_words(string_agg(DISTINCT w, ' ')) FROM (SELECT regexp_split_to_table(lower(title || ' ' || coalesce(summary, '')), '[^a-z0-9]+') AS w FROM studies WHERE id % 97 = 0) t",
            commandTimeout: 600));
    }

    private static async Task CopyAsync<T>(NpgsqlConnection connection, string target, IReadOnlyList<T> rows, TextWriter output, Func<NpgsqlBinaryImporter, T, Task> write)
    {
        var table = target[..target.IndexOf(' ', StringComparison.Ordinal)];
        var timer = Stopwatch.StartNew();
        await using (var writer = await connection.BeginBinaryImportAsync($"COPY {target} FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < rows.Count; i++)
            {
                await writer.StartRowAsync();
                await write(writer, rows[i]);
                if ((i + 1) % 250_000 == 0)
                {
                    output.WriteLine($"  {table}: {i + 1:N0} / {rows.Count:N0} rows ({(i + 1) / timer.Elapsed.TotalSeconds:N0} rows/s)");
                }
            }

            await writer.CompleteAsync();
        }

        output.WriteLine($"  {table}: {rows.Count:N0} rows in {timer.Elapsed.TotalSeconds:F1} s ({rows.Count / timer.Elapsed.TotalSeconds:N0} rows/s)");
    }

    private static Task WriteNullableAsync<TValue>(NpgsqlBinaryImporter writer, TValue? value, NpgsqlDbType type) =>
        value is null ? writer.WriteNullAsync() : writer.WriteAsync(value, type);

    private sealed record StudyRow(int Number, int Year, string Title, string Design, string Condition, string? Subtype, string Country,
        int Participants, int AgeMin, int AgeMax, int Male, int FollowUpWeeks, string Summary);

    private sealed record InterventionRow(int StudyNumber, int Index, string Product, string CellSource, string Donor, string Route,
        decimal DoseMillionsPerKg, int Administrations, int IntervalWeeks);

    private sealed record OutcomeRow(int StudyNumber, long InterventionOrdinal, string Measure, int Weeks, decimal? Baseline, decimal? Value,
        int Assessed, int? Responders);

    private sealed record LoadPlan(List<StudyRow> Studies, List<InterventionRow> Interventions, List<OutcomeRow> Outcomes);

    private static LoadPlan Plan(Random random, int studies)
    {
        var studyRows = new List<StudyRow>(studies);
        var interventionRows = new List<InterventionRow>(studies * 2);
        var outcomeRows = new List<OutcomeRow>(studies * 4);
        for (var n = 1; n <= studies; n++)
        {
            var (condition, subtypes, _) = Pick(random, Conditions, c => c.Weight);
            var design = Pick(random, Designs, d => d.Weight).Code;
            var participants = design switch
            {
                "case_report" => 1,
                "case_series" => random.Next(2, 21),
                "rct" => random.Next(20, 401),
                "preclinical" => 0,
                _ when design.EndsWith("review", StringComparison.Ordinal) || design == "meta_analysis" => random.Next(10, 600),
                _ => random.Next(8, 121),
            };
            var interventions = random.Next(1, 4);
            var firstArm = interventionRows.Count;
            var armLabels = new List<string>();
            for (var a = 0; a < interventions; a++)
            {
                var product = Pick(random, Products, p => p.Weight);
                var source = Pick(random, CellSources, c => c.Weight);
                armLabels.Add($"{source.Label} {product.Label}");
                interventionRows.Add(new InterventionRow(n, a, product.Code, source.Code, random.Next(3) == 0 ? "autologous" : "allogeneic",
                    Pick(random, Routes, r => r.Weight).Code, Math.Round((decimal)(random.NextDouble() * 4.5) + 0.5m, 1), random.Next(1, 9), random.Next(1, 5)));
            }

            var year = 1995 + (int)Math.Round(Math.Sqrt(random.NextDouble()) * 30);
            var followUp = random.Next(4, 157);
            var summaryWords = string.Join(' ', Enumerable.Range(0, 12).Select(_ => Words[random.Next(Words.Length)]));
            studyRows.Add(new StudyRow(n, year,
                $"Synthetic study {n}: {armLabels[0]} for {condition} ({design.Replace('_', ' ')})",
                design, condition, subtypes.Length > 0 && random.Next(3) > 0 ? subtypes[random.Next(subtypes.Length)] : null,
                Countries[random.Next(Countries.Length)], participants, random.Next(18, 45), random.Next(45, 80),
                participants == 0 ? 0 : random.Next(0, participants + 1), followUp, $"Synthetic benchmark record. {summaryWords}."));

            var outcomes = random.Next(2, 6);
            for (var o = 0; o < outcomes; o++)
            {
                var measure = Pick(random, Measures, m => m.Weight).Code;
                var weeks = Math.Max(1, (int)(followUp * (o + 1) / (double)outcomes));
                var assessed = Math.Max(1, participants == 0 ? random.Next(6, 30) : participants - random.Next(0, Math.Max(1, participants / 10)));
                decimal? baseline = null, value = null;
                int? responders = null;
                switch (measure)
                {
                    case "pasi":
                        baseline = Math.Round((decimal)(8 + (random.NextDouble() * 40)), 1);
                        value = Math.Round(baseline.Value * (decimal)random.NextDouble(), 1);
                        break;
                    case "bsa":
                        baseline = random.Next(5, 80);
                        value = Math.Round(baseline.Value * (decimal)random.NextDouble(), 0);
                        break;
                    case "dlqi":
                        baseline = random.Next(6, 31);
                        value = random.Next(0, (int)baseline.Value + 1);
                        break;
                    case "pga":
                        baseline = random.Next(3, 6);
                        value = random.Next(0, (int)baseline.Value + 1);
                        break;
                    default:
                        responders = random.Next(0, assessed + 1);
                        break;
                }

                outcomeRows.Add(new OutcomeRow(n, firstArm + random.Next(interventions), measure, weeks, baseline, value, assessed, responders));
            }
        }

        return new LoadPlan(studyRows, interventionRows, outcomeRows);
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items, Func<T, int> weight)
    {
        var total = items.Sum(weight);
        var roll = random.Next(total);
        foreach (var item in items)
        {
            roll -= weight(item);
            if (roll < 0)
            {
                return item;
            }
        }

        return items[^1];
    }
}
