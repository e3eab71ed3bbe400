using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Seeding;
using EvidenceApi.Tests.Infrastructure;
using Npgsql;

namespace EvidenceApi.Tests.Seeding;

public sealed class SeedLoaderTests : IAsyncLifetime
{
    private const string CountAll = """
        SELECT (SELECT count(*) FROM sources) AS sources, (SELECT count(*) FROM studies) AS studies,
               (SELECT count(*) FROM interventions) AS interventions, (SELECT count(*) FROM outcomes) AS outcomes,
               (SELECT count(*) FROM review_inclusions) AS inclusions,
               (SELECT coalesce(max(updated_at), 'epoch') FROM studies) AS lastupdate
        """;

    private readonly string seedCopy = Path.Combine(Path.GetTempPath(), "evidence-seed-tests", Guid.NewGuid().ToString("N"));
    private NpgsqlDataSource dataSource = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await TestPostgres.CreateEmptyDatabaseAsync();
        await DatabaseMigrator.MigrateAsync(connectionString);
        dataSource = NpgsqlDataSource.Create(connectionString);
        Directory.CreateDirectory(seedCopy);
        foreach (var file in Directory.GetFiles(TestPostgres.SeedDirectory, "*.json"))
        {
            File.Copy(file, Path.Combine(seedCopy, Path.GetFileName(file)));
        }
    }

    public async Task DisposeAsync()
    {
        await dataSource.DisposeAsync();
        Directory.Delete(seedCopy, recursive: true);
    }

    private Task<Counts> CountAsync() => WithConnection(c => c.QuerySingleAsync<Counts>(CountAll));

    private async Task<T> WithConnection<T>(Func<NpgsqlConnection, Task<T>> query)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await query(connection);
    }

    [Fact]
    public async Task Load_RepositorySeeds_WritesEveryFile()
    {
        var report = await new SeedLoader(dataSource).LoadAsync(seedCopy);
        var counts = await CountAsync();

        var files = Directory.GetFiles(seedCopy, "*.json").Length;
        Assert.Equal(files, report.FilesLoaded);
        Assert.Equal(files, counts.Sources);
        Assert.Equal(report.Studies, counts.Studies);
        Assert.Equal(report.Interventions, counts.Interventions);
        Assert.Equal(report.Outcomes, counts.Outcomes);
        Assert.True(counts.Studies >= 9);
        var doi = await WithConnection(c => c.ExecuteScalarAsync<string>(
            "SELECT src.doi FROM studies s JOIN sources src ON src.id = s.source_id WHERE s.key = 'srivastava-2024-scalp-secretome'"));
        Assert.Equal("10.46439/stemcell.5.019", doi);
    }

    [Fact]
    public async Task Load_Twice_ChangesNothing()
    {
        var loader = new SeedLoader(dataSource);
        await loader.LoadAsync(seedCopy);
        var before = await CountAsync();
        var ids = await WithConnection(c => c.QueryAsync<long>("SELECT id FROM outcomes ORDER BY id"));

        var second = await loader.LoadAsync(seedCopy);

        Assert.Equal(0, second.FilesLoaded);
        Assert.Equal(Directory.GetFiles(seedCopy, "*.json").Length, second.FilesUnchanged);
        Assert.Equal(before, await CountAsync());
        Assert.Equal(ids, await WithConnection(c => c.QueryAsync<long>("SELECT id FROM outcomes ORDER BY id")));
    }

    [Fact]
    public async Task Load_ChangedFile_ReplacesItsRecordsAndKeepsStudyIds()
    {
        var loader = new SeedLoader(dataSource);
        await loader.LoadAsync(seedCopy);
        var file = Path.Combine(seedCopy, "2024-srivastava-scalp-secretome.json");
        var studyId = await WithConnection(c => c.ExecuteScalarAsync<long>("SELECT id FROM studies WHERE key = 'srivastava-2024-scalp-secretome'"));

        await File.WriteAllTextAsync(file, (await File.ReadAllTextAsync(file)).Replace("\"country\": null", "\"country\": \"India\"", StringComparison.Ordinal));
        var report = await loader.LoadAsync(seedCopy);

        Assert.Equal(1, report.FilesLoaded);
        var (id, country) = await WithConnection(c => c.QuerySingleAsync<(long, string?)>(
            "SELECT id, country FROM studies WHERE key = 'srivastava-2024-scalp-secretome'"));
        Assert.Equal(studyId, id);
        Assert.Equal("India", country);
    }

    [Fact]
    public async Task Load_WithVocabularyError_NamesFileAndJsonPathAndWritesNothing()
    {
        await File.WriteAllTextAsync(Path.Combine(seedCopy, "zz-broken.json"), """
            {
              "source": { "title": "Broken", "doi": "10.9999/broken.1" },
              "studies": [
                { "key": "broken-study", "title": "Broken", "design": "case_report", "condition": "psoriasis",
                  "interventions": [ { "key": "x", "product": "msc_cells", "route": "by-mouth" } ] }
              ]
            }
            """);

        var error = await Assert.ThrowsAsync<SeedException>(() => new SeedLoader(dataSource).LoadAsync(seedCopy));

        var message = Assert.Single(error.Errors);
        Assert.Contains("zz-broken.json", message, StringComparison.Ordinal);
        Assert.Contains("$.studies[0].interventions[0].route", message, StringComparison.Ordinal);
        Assert.Contains("intravenous", message, StringComparison.Ordinal);
        Assert.Equal(new Counts(0, 0, 0, 0, 0, DateTime.UnixEpoch), await CountAsync() with { LastUpdate = DateTime.UnixEpoch });
    }

    [Theory]
    [InlineData("""{ "source": { "title": "T" }, "studies": [ { "key": "k", "title": "T", "design": "case_report", "condition": "psoriasis", "participants": "one" } ] }""", "$.studies[0].participants")]
    [InlineData("""{ "source": { "title": "T" }, "studies": [ { "key": "k", "title": "T", "design": "case_report", "condition": "psoriasis", "colour": "red" } ] }""", "$.studies[0].colour")]
    [InlineData("""{ "source": { "title": "T" }, "studies": [ { "key": "k", "title": "T", "design": "case_report" } ] }""", "$.studies[0]")]
    [InlineData("""{ "source": { "title": "T" }, "studies": [ { "key": "k", "title": "T", "design": "case_report", "condition": "psoriasis", "outcomes": [ { "measure": "pasi", "value": 80, "quote": "q" } ] } ] }""", "$.studies[0].outcomes[0].value")]
    [InlineData("""{ "source": { "title": "T" }, "studies": [ { "key": "k", "title": "T", "design": "case_report", "condition": "psoriasis", "outcomes": [ { "measure": "pasi_75", "assessed": 2, "responders": 3, "quote": "q" } ] } ] }""", "$.studies[0].outcomes[0].responders")]
    [InlineData("""{ "source": { "title": "T", "doi": "https://doi.org/10.1/x" }, "studies": [ { "key": "k", "title": "T", "design": "case_report", "condition": "psoriasis" } ] }""", "$.source.doi")]
    [InlineData("""{ "source": { "title": "T" }, "studies": [ { "key": "k", "title": "T", "design": "case_report", "condition": "psoriasis", "includes": ["no-such-study"] } ] }""", "$.studies[0].includes")]
    [InlineData("""{ "source": { "title": "T" }, "studies": [ """, "$")]
    [InlineData("""{ "source": { "title": "T" }, "studies": [ { "key": "k", "title": "T", "design": "case_report", "condition": "psoriasis", "outcomes": [ { "measure": "relapse_free", "timepointWeeks": 208, "assessed": 2, "responders": 2, "quote": "q" } ] } ] }""", "$.studies[0].followUpWeeks")]
    [InlineData("""{ "source": { "title": "T" }, "studies": [ { "key": "k", "title": "T", "design": "case_report", "condition": "psoriasis", "followUpWeeks": 52, "outcomes": [ { "measure": "pasi", "timepointWeeks": 4, "value": 1, "quote": "q" }, { "measure": "relapse_free", "timepointWeeks": 208, "assessed": 1, "responders": 1, "quote": "q" } ] } ] }""", "$.studies[0].followUpWeeks")]
    public async Task Load_WithBrokenFile_NamesTheJsonPathAndWritesNothing(string json, string path)
    {
        await File.WriteAllTextAsync(Path.Combine(seedCopy, "zz-broken.json"), json);

        var error = await Assert.ThrowsAsync<SeedException>(() => new SeedLoader(dataSource).LoadAsync(seedCopy));

        Assert.Contains(error.Errors, e => e.StartsWith("zz-broken.json: " + path, StringComparison.Ordinal));
        Assert.Equal(0, (await CountAsync()).Studies);
    }

    [Fact]
    public async Task Load_DuplicateDoiAcrossFiles_LoadsNothing()
    {
        var original = await File.ReadAllTextAsync(Path.Combine(seedCopy, "2024-srivastava-scalp-secretome.json"));
        await File.WriteAllTextAsync(Path.Combine(seedCopy, "zz-copy.json"),
            original.Replace("srivastava-2024-scalp-secretome", "copy-of-the-case-report", StringComparison.Ordinal));

        var error = await Assert.ThrowsAsync<SeedException>(() => new SeedLoader(dataSource).LoadAsync(seedCopy));

        Assert.Contains(error.Errors, e => e.StartsWith("zz-copy.json", StringComparison.Ordinal) && e.Contains("doi", StringComparison.Ordinal));
        Assert.Equal(0, (await CountAsync()).Studies);
    }

    [Fact]
    public async Task Load_ReviewWithIncludes_LinksTheReviewToItsStudies()
    {
        var directory = Path.Combine(seedCopy, "review");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "primary.json"), """
            { "source": { "title": "Primary", "year": 2019 },
              "studies": [ { "key": "primary-a", "title": "Primary A", "design": "case_report", "condition": "lupus", "participants": 1 },
                           { "key": "primary-b", "title": "Primary B", "design": "case_series", "condition": "lupus", "participants": 3 } ] }
            """);
        await File.WriteAllTextAsync(Path.Combine(directory, "review.json"), """
            { "source": { "title": "Review", "year": 2021 },
              "studies": [ { "key": "a-review", "title": "A review", "design": "systematic_review", "condition": "lupus",
                             "includes": ["primary-a", "primary-b"] } ] }
            """);

        var report = await new SeedLoader(dataSource).LoadAsync(directory);

        Assert.Equal(2, report.Inclusions);
        var included = await WithConnection(c => c.QueryAsync<string>("""
            SELECT s.key FROM review_inclusions r JOIN studies s ON s.id = r.included_study_id
            JOIN studies review ON review.id = r.review_study_id WHERE review.key = 'a-review' ORDER BY s.key
            """));
        Assert.Equal(["primary-a", "primary-b"], included);
    }

    [Fact]
    public async Task Load_MissingDirectory_SaysSo()
    {
        var error = await Assert.ThrowsAsync<SeedException>(() => new SeedLoader(dataSource).LoadAsync(Path.Combine(seedCopy, "nope")));
        Assert.Contains("does not exist", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    private sealed record Counts(long Sources, long Studies, long Interventions, long Outcomes, long Inclusions, DateTime LastUpdate);
}
