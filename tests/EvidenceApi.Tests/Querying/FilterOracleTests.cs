using System.Diagnostics;
using EvidenceApi.Database;
using EvidenceApi.Interventions;
using EvidenceApi.Outcomes;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Synthesis;
using EvidenceApi.Tests.Infrastructure;
using EvidenceApi.Tests.Querying.Oracle;
using EvidenceApi.Vocabularies;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Mvc.Testing;
using Xunit.Abstractions;

namespace EvidenceApi.Tests.Querying;

/// <summary>
/// Random combinations of every filter of studies, interventions, outcomes and synthesis, over a generated data set of a
/// few hundred studies: the ids returned (every page, by cursor) must equal those an independent oracle selects, and the
/// pooled counts must equal the oracle's sums. The data set's seed is random per run and printed with any failure;
/// EVIDENCE_ORACLE_SEED replays one.
/// </summary>
public sealed class FilterOracleTests(FilterOracleTests.Data data, ITestOutputHelper output) : IClassFixture<FilterOracleTests.Data>
{
    public sealed class Data : IAsyncLifetime
    {
        public EvidenceSet Set { get; private set; } = null!;

        public EvidenceOracle Oracle { get; private set; } = null!;

        public WebApplicationFactory<Program> Api { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var seed = int.TryParse(Environment.GetEnvironmentVariable("EVIDENCE_ORACLE_SEED"), out var fixedSeed) ? fixedSeed : Random.Shared.Next();
            Set = new EvidenceSet(seed, studyCount: 300);
            Oracle = new EvidenceOracle(Set);
            var connectionString = await TestPostgres.CreateEmptyDatabaseAsync();
            await DatabaseMigrator.MigrateAsync(connectionString);
            await Set.LoadAsync(connectionString);
            Api = TestApi.For(connectionString, ("Protection:ExpensiveReadsPerMinute", "100000"));
        }

        public async Task DisposeAsync() => await Api.DisposeAsync();
    }

    private readonly HttpClient client = data.Api.CreateClient();

    private static readonly Gen<string?> Absent = Gen.Constant<string?>(null);

    [Fact]
    public void Studies_EveryFilterCombination_ReturnsExactlyTheOraclesStudies_InOrder()
    {
        var query = from filter in Filters()
                    from measure in Often(Several(Vocabulary.Measures))
                    from q in Gen.Frequency((2, Gen.Constant<TextQuery?>(null)), (1, Text().Select(t => (TextQuery?)t)))
                    from sort in Gen.Elements<string?>(null, "year", "-year", "title", "-title", "participants", "-participants", "id", "-id", "relevance", "-relevance")
                    from limit in Gen.Choose(1, 200)
                    from includeTotal in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
                    select new StudyQuery(filter, measure, q, q is null && sort?.TrimStart('-') == "relevance" ? null : sort, limit, includeTotal);

        Check(Arb.From(query, q => q.Smaller()), 150, q =>
        {
            var expected = data.Oracle.Studies(q);
            var (ids, total, searchedFor) = Blocking(() => ReadAllAsync<StudySummary>(q.Url(Pages(q.Limit, expected.Count)), s => s.Id));
            Assert.Null(searchedFor);
            Assert.Equal(q.IncludeTotal ? expected.Count : null, total);
            if ((q.Sort ?? (q.Q is null ? "-year" : "-relevance")).TrimStart('-') == "relevance")
            {
                Assert.Equal(expected.Order(), ids.Order());
            }
            else
            {
                Assert.Equal(expected, ids);
            }
        });
    }

    [Fact]
    public void Interventions_EveryFilterCombination_ReturnsExactlyTheOraclesInterventions()
    {
        var query = from filter in Filters()
                    from studyId in StudyIds()
                    from limit in Gen.Choose(1, 200)
                    select new InterventionQuery(filter, studyId, limit);

        Check(Arb.From(query, q => q.Smaller()), 100, q =>
        {
            var expected = data.Oracle.Interventions(q);
            var (ids, total, _) = Blocking(() => ReadAllAsync<InterventionListItem>(q.Url(Pages(q.Limit, expected.Count)), i => i.Intervention.Id));
            Assert.Equal(expected.Count, total);
            Assert.Equal(expected, ids);
        });
    }

    [Fact]
    public void Outcomes_EveryFilterCombination_ReturnsExactlyTheOraclesOutcomes()
    {
        var weeks = Gen.Elements<decimal?>(null, null, 0, 4, 8, 10, 12, 26, 52, 60);
        var query = from filter in Filters()
                    from studyId in StudyIds()
                    from measure in Often(Several(Vocabulary.Measures))
                    from evidence in Sometimes(Gen.Elements("primary", "secondary", "primary,secondary"))
                    from minWeeks in weeks
                    from maxWeeks in weeks
                    from limit in Gen.Choose(1, 200)
                    select new OutcomeQuery(filter, studyId, measure, evidence, minWeeks, maxWeeks < (minWeeks ?? 0) ? null : maxWeeks, limit);

        Check(Arb.From(query, q => q.Smaller()), 100, q =>
        {
            var expected = data.Oracle.Outcomes(q);
            var (ids, total, _) = Blocking(() => ReadAllAsync<OutcomeListItem>(q.Url(Pages(q.Limit, expected.Count)), o => o.Outcome.Id));
            Assert.Equal(expected.Count, total);
            Assert.Equal(expected, ids);
        });
    }

    [Fact]
    public void Synthesis_EveryFilterCombination_PoolsExactlyTheOraclesRows()
    {
        var reviews = data.Set.Studies.Where(s => EvidenceSet.IsReview(s.Design)).ToList();
        var review = Gen.Frequency(
            (6, Absent),
            (2, Gen.Elements(reviews.Select(s => s.Key).ToArray()).Select(k => (string?)k)),
            (1, Gen.Elements(reviews.Select(s => s.Key.ToUpperInvariant()).ToArray()).Select(k => (string?)k)),
            (1, Gen.Elements(reviews.Select(s => s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray()).Select(k => (string?)k)),
            (1, Gen.Elements(data.Set.Studies.Where(s => !EvidenceSet.IsReview(s.Design)).Select(s => s.Key).ToArray()).Select(k => (string?)k)));
        var definition = Gen.OneOf(
            Gen.Elements(SynthesisQuery.ResponderMeasures.ToArray()).Select(m => (Measure: m, Threshold: (decimal?)null)),
            from m in Gen.Elements(SynthesisQuery.ScoreMeasures.ToArray())
            from t in Gen.Elements(50m, 75m, 90m, 33.3m)
            select (Measure: m, Threshold: (decimal?)t));
        var query = from filter in Filters()
                    from d in definition
                    from timepoint in Gen.Elements<string?>(null, "first", "last")
                    from r in review
                    select new PoolQuery(filter, d.Measure, d.Threshold, timepoint, r);

        Check(Arb.From(query, q => q.Smaller()), 120, q =>
        {
            var expected = data.Oracle.Pool(q);
            var response = Blocking(() => client.GetAsync(q.ToString()));
            if (expected is null)
            {
                Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
                return;
            }

            var result = Blocking(() => response.ShouldBeOkAsync<SynthesisResult>());
            Assert.Equal(expected.Rows, result.Rows.Select(r => (r.StudyId, r.OutcomeId)).ToList());
            Assert.Equal(expected.Excluded, result.Excluded.Select(e => e.StudyId).ToList());
            Assert.Equal((expected.Rows.Count, expected.Patients, expected.Responders), (result.Studies, result.Patients, result.Responders));
        });
    }

    [Theory]
    [InlineData("/v1/outcomes", "id")]
    [InlineData("/v1/interventions", "id")]
    [InlineData("/v1/studies?sort=id", "id")]
    public async Task Csv_WithMoreRowsThanTheLargestPage_HasEveryRow_EqualToTheJson(string path, string idColumn)
    {
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        var json = new List<System.Text.Json.JsonElement>();
        var page = await (await client.GetAsync($"{path}{separator}limit=200")).ShouldBeOkAsync<Page<System.Text.Json.JsonElement>>();
        json.AddRange(page.Items);
        while (page.Next is not null)
        {
            page = await (await client.GetAsync($"{path}{separator}limit=200&cursor={Uri.EscapeDataString(page.Next)}")).ShouldBeOkAsync<Page<System.Text.Json.JsonElement>>();
            json.AddRange(page.Items);
        }

        Assert.True(json.Count > Paging.MaxLimit, $"{json.Count} rows is not more than a page");
        using var reader = new CsvHelper.CsvReader(new StringReader(await client.GetStringAsync($"{path}{separator}format=csv")), System.Globalization.CultureInfo.InvariantCulture);
        var rows = reader.GetRecords<dynamic>().Select(row => ((IDictionary<string, object>)row).ToDictionary(p => p.Key, p => (string)p.Value)).ToList();

        Assert.Equal(json.Count, rows.Count);
        foreach (var (item, row) in json.Zip(rows))
        {
            // Lists flatten the item with its study (and intervention): each JSON value must appear in its CSV column.
            var values = Flatten(item).ToList();
            Assert.Equal(Id(item), long.Parse(row[idColumn], System.Globalization.CultureInfo.InvariantCulture));
            foreach (var (column, text) in row.Where(c => c.Value.Length > 0))
            {
                Assert.True(values.Contains((column, text)) || values.Any(v => v.Name.EndsWith(column, StringComparison.OrdinalIgnoreCase) && v.Text == text),
                    $"{path} row {row[idColumn]}: {column}={text} is not in the JSON {item}");
            }
        }
    }

    private static long Id(System.Text.Json.JsonElement item) =>
        (item.TryGetProperty("outcome", out var o) ? o : item.TryGetProperty("intervention", out var i) ? i : item).GetProperty("id").GetInt64();

    /// <summary>Every scalar of a JSON item, named by its path in camel case (study.key as studyKey), lists joined as the CSV joins them.</summary>
    private static IEnumerable<(string Name, string Text)> Flatten(System.Text.Json.JsonElement element, string prefix = "")
    {
        foreach (var property in element.EnumerateObject())
        {
            var name = prefix.Length == 0 ? property.Name : prefix + char.ToUpperInvariant(property.Name[0]) + property.Name[1..];
            switch (property.Value.ValueKind)
            {
                case System.Text.Json.JsonValueKind.Object:
                    foreach (var inner in Flatten(property.Value, name))
                    {
                        yield return inner;
                    }

                    foreach (var inner in Flatten(property.Value))
                    {
                        yield return inner;
                    }

                    break;
                case System.Text.Json.JsonValueKind.Array:
                    yield return (name, string.Join("; ", property.Value.EnumerateArray().Select(v => v.ToString())));
                    break;
                case System.Text.Json.JsonValueKind.Null:
                    break;
                default:
                    yield return (name, property.Value.ToString());
                    break;
            }
        }
    }

    /// <summary>Runs the property and says how long it took; a failure names the data set's seed and the shrunk query.</summary>
    private void Check<T>(Arbitrary<T> queries, int count, Action<T> property)
    {
        var timer = Stopwatch.StartNew();
        try
        {
            Prop.ForAll(queries, property).Check(Config.QuickThrowOnFailure.WithMaxTest(count));
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"Data set seed {data.Set.Seed} (EVIDENCE_ORACLE_SEED={data.Set.Seed} replays it):\n{ex.Message}");
        }

        output.WriteLine($"{count} queries in {timer.Elapsed.TotalSeconds:F1} s (data set seed {data.Set.Seed})");
    }

    /// <summary>Every page, by cursor: the ids in order, the total of the first page, and any corrected search.</summary>
    private async Task<(List<long> Ids, long? Total, string? SearchedFor)> ReadAllAsync<T>(string url, Func<T, long> id)
    {
        var ids = new List<long>();
        var first = await (await client.GetAsync(url)).ShouldBeOkAsync<Page<T>>();
        var page = first;
        ids.AddRange(page.Items.Select(id));
        while (page.Next is not null)
        {
            Assert.True(ids.Count < 2000, $"Paging of {url} does not end");
            page = await (await client.GetAsync($"{url}&cursor={Uri.EscapeDataString(page.Next)}")).ShouldBeOkAsync<Page<T>>();
            ids.AddRange(page.Items.Select(id));
        }

        Assert.Equal(ids.Count, ids.Distinct().Count());
        return (ids, first.Total, first.SearchedFor);
    }

    /// <summary>The page size asked for, raised where needed so that reading every page takes at most six requests.</summary>
    private static int Pages(int limit, int expected) => Math.Min(Paging.MaxLimit, Math.Max(limit, (expected + 5) / 6));

    private Gen<long?> StudyIds() => Gen.Frequency(
        (5, Gen.Constant<long?>(null)),
        (2, Gen.Choose(1, data.Set.Studies.Count).Select(id => (long?)id)),
        (1, Gen.Constant<long?>(999_999)));

    /// <summary>Each shared filter present now and then, in the spellings clients use: other case, spaces, lists.</summary>
    private static Gen<FilterValues> Filters()
    {
        var condition = Sometimes(Gen.Elements(EvidenceSet.Conditions).SelectMany(Spelled));
        var subtype = Sometimes(Gen.Elements(EvidenceSet.Subtypes.Append("nail").ToArray()).SelectMany(Spelled));
        var country = Sometimes(Gen.Elements(EvidenceSet.Countries.Append("Peru").ToArray()).SelectMany(Spelled));
        var year = Gen.Frequency((3, Gen.Constant<int?>(null)), (1, Gen.Choose(2003, 2026).Select(y => (int?)y)));
        return from c in condition
               from s in subtype
               from design in Sometimes(Several(Vocabulary.Designs))
               from product in Sometimes(Several(Vocabulary.Products))
               from cellSource in Sometimes(Several(Vocabulary.CellSources))
               from route in Sometimes(Several(Vocabulary.Routes))
               from donor in Sometimes(Several(Vocabulary.Donors))
               from k in country
               from yearFrom in year
               from yearTo in year
               select new FilterValues(c, s, design, product, cellSource, route, donor, k, yearFrom, yearTo < yearFrom ? null : yearTo);
    }

    private static Gen<string> Spelled(string value) => Gen.Elements(value, value, value.ToUpperInvariant(), $" {value} ",
        string.Concat(value[..1].ToUpperInvariant(), value[1..]));

    /// <summary>One to three values of a vocabulary as a comma-separated list, sometimes with spaces after the commas.</summary>
    private static Gen<string> Several(IReadOnlyList<string> vocabulary) =>
        from values in Gen.SubListOf(vocabulary.ToArray()).Where(v => v.Count is > 0 and <= 3)
        from separator in Gen.Elements(",", ",", ", ")
        select string.Join(separator, values);

    private static Gen<string?> Sometimes(Gen<string> value) => Gen.Frequency((4, Absent), (1, value.Select(v => (string?)v)));

    private static Gen<string?> Often(Gen<string> value) => Gen.Frequency((2, Absent), (1, value.Select(v => (string?)v)));

    /// <summary>Free text: one to three alternatives (OR), each of one to three terms: words, phrases and -exclusions.</summary>
    private static Gen<TextQuery> Text()
    {
        var word = Gen.Elements(EvidenceSet.Words);
        var term = Gen.Frequency(
            (5, word.Select(w => new TextTerm(w))),
            (1, word.Select(w => new TextTerm(w, Excluded: true))),
            (1, from a in word from b in word select new TextTerm(a, b)));
        var alternative = from count in Gen.Choose(1, 3)
                          from terms in term.ListOf(count)
                          select (IReadOnlyList<TextTerm>)terms.DistinctBy(t => t.ToString()).ToList();
        return from count in Gen.Frequency((4, Gen.Constant(1)), (1, Gen.Choose(2, 3)))
               from alternatives in alternative.ListOf(count)
               select new TextQuery(alternatives.ToList());
    }

    private static T Blocking<T>(Func<Task<T>> action) => action().GetAwaiter().GetResult();
}
