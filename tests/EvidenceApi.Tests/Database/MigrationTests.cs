using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Studies;
using EvidenceApi.Tests.Infrastructure;
using EvidenceApi.Vocabularies;
using Npgsql;

namespace EvidenceApi.Tests.Database;

public sealed class MigrationTests
{
    [Fact]
    public async Task Migrate_EmptyDatabase_CreatesTheSchemaOnceThenNothing()
    {
        var connectionString = await TestPostgres.CreateEmptyDatabaseAsync();

        var first = await DatabaseMigrator.MigrateAsync(connectionString);
        var second = await DatabaseMigrator.MigrateAsync(connectionString);

        Assert.Equal(Directory.GetFiles(RepositoryFolder("db"), "*.sql").Select(Path.GetFileName).Order(), first.Order());
        Assert.Empty(second);
        await using var connection = new NpgsqlConnection(connectionString);
        var tables = (await connection.QueryAsync<string>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).ToHashSet();
        Assert.Superset(new HashSet<string> { "sources", "studies", "review_inclusions", "interventions", "outcomes", "measures" }, tables);
    }

    [Fact]
    public async Task Migrate_ConcurrentInstances_ApplyEachScriptOnce()
    {
        var connectionString = await TestPostgres.CreateEmptyDatabaseAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => DatabaseMigrator.MigrateAsync(connectionString)));

        Assert.Equal(Directory.GetFiles(RepositoryFolder("db"), "*.sql").Length, results.Sum(r => r.Count));
    }

    [Fact]
    public async Task SearchBuckets_InCode_EachHaveTheirPartialTextIndex()
    {
        var connectionString = await TestPostgres.CreateSeededDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);

        var predicates = (await connection.QueryAsync<string>("""
            SELECT pg_get_expr(i.indpred, i.indrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
            WHERE i.indrelid = 'studies'::regclass AND am.amname = 'gin' AND i.indpred IS NOT NULL
            """)).Order().ToArray();

        var expected = Enumerable.Range(0, StudyQueries.SearchBuckets)
            .Select(bucket => $"((id % ({StudyQueries.SearchBuckets})::bigint) = {bucket})").Order().ToArray();
        Assert.Equal(expected, predicates);
    }

    [Fact]
    public async Task Vocabularies_InCode_MatchTheLookupTables()
    {
        var connectionString = await TestPostgres.CreateSeededDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);

        async Task<string[]> Codes(string table) => (await connection.QueryAsync<string>($"SELECT code FROM {table}")).Order().ToArray();

        Assert.Equal(Vocabulary.Designs.Order(), await Codes("study_designs"));
        Assert.Equal(Vocabulary.Products.Order(), await Codes("products"));
        Assert.Equal(Vocabulary.CellSources.Order(), await Codes("cell_sources"));
        Assert.Equal(Vocabulary.Routes.Order(), await Codes("routes"));
        Assert.Equal(Vocabulary.Measures.Order(), await Codes("measures"));
        Assert.Equal(
            Vocabulary.ConditionSubtypes.Select(s => $"{s.Condition}/{s.Code}: {s.Label}").Order(),
            (await connection.QueryAsync<string>("SELECT condition || '/' || code || ': ' || label FROM condition_subtypes")).Order());
        Assert.Equal(
            Vocabulary.ConditionSubtypes.SelectMany(s => s.Synonyms.Select(synonym => $"{s.Condition}/{synonym}={s.Code}")).Order(),
            (await connection.QueryAsync<string>("SELECT condition || '/' || synonym || '=' || code FROM condition_subtype_synonyms")).Order());
    }

    [Theory]
    [InlineData("INSERT INTO outcomes (study_id, measure, value, quote) SELECT id, 'pasi', 73, 'q' FROM studies LIMIT 1", "outcomes_pasi_range")]
    [InlineData("INSERT INTO outcomes (study_id, measure, value, quote) SELECT id, 'dlqi', 31, 'q' FROM studies LIMIT 1", "outcomes_dlqi_range")]
    [InlineData("INSERT INTO outcomes (study_id, measure, baseline_value, quote) SELECT id, 'bsa', 101, 'q' FROM studies LIMIT 1", "outcomes_bsa_range")]
    [InlineData("INSERT INTO outcomes (study_id, measure, value, quote) SELECT id, 'pga', 3, 'q' FROM studies LIMIT 1", "outcomes_global_assessment_scale")]
    [InlineData("INSERT INTO outcomes (study_id, measure, assessed, responders, quote) SELECT id, 'pasi_75', 2, 3, 'q' FROM studies LIMIT 1", "outcomes_responders_within_assessed")]
    [InlineData("UPDATE studies SET age_min = 130", "studies_age_min_check")]
    [InlineData("UPDATE studies SET participants = 1, male_count = 1, female_count = 1", "studies_sex_counts_within_participants")]
    [InlineData("INSERT INTO interventions (study_id, key, product, route) SELECT id, 'x', 'pills', 'oral' FROM studies LIMIT 1", "interventions_product_fkey")]
    public async Task Constraints_RejectImpossibleValues(string sql, string constraint)
    {
        var connectionString = await TestPostgres.CreateSeededDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(sql));

        Assert.Equal(constraint, error.ConstraintName);
    }

    internal static string RepositoryFolder(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EvidenceApi.sln")))
            {
                return Path.Combine(dir.FullName, name);
            }
        }

        throw new DirectoryNotFoundException(name);
    }
}
