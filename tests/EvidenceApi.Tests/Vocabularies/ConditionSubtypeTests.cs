using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;
using EvidenceApi.Vocabularies;
using Npgsql;

namespace EvidenceApi.Tests.Vocabularies;

/// <summary>Condition subtypes are a vocabulary: synonyms in, codes stored and answered, everywhere.</summary>
public sealed class ConditionSubtypeTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    [Theory]
    [InlineData("psoriasis", "vulgaris", "plaque")]
    [InlineData("psoriasis", "Psoriasis Vulgaris", "plaque")]
    [InlineData("Psoriasis", "chronic-plaque", "plaque")]
    [InlineData("psoriasis", "Psoriatic_Arthritis", "psoriatic_arthritis")]
    [InlineData("psoriasis", "psoriatic arthritis", "psoriatic_arthritis")]
    [InlineData(null, "vulgaris", "plaque")]
    [InlineData("psoriasis", "nummular", null)]
    [InlineData("atopic dermatitis", "plaque", null)]
    public void CanonicalSubtype_MapsCodesAndSynonymsOfTheCondition(string? condition, string value, string? expected) =>
        Assert.Equal(expected, Vocabulary.CanonicalSubtype(condition, value));

    [Fact]
    public async Task Vocabularies_ListEachConditionsSubtypesWithTheirSynonyms()
    {
        var vocabularies = await (await api.CreateClient().GetAsync("/v1/vocabularies")).ShouldBeOkAsync<JsonElement>();

        var subtypes = vocabularies.GetProperty("conditionSubtypes").EnumerateArray().ToList();
        Assert.Equal(Vocabulary.ConditionSubtypes.Select(s => $"{s.Condition}/{s.Code}"), subtypes.Select(s => $"{s.GetProperty("condition").GetString()}/{s.GetProperty("code").GetString()}"));
        var plaque = subtypes.Single(s => s.GetProperty("code").GetString() == "plaque");
        Assert.Contains("vulgaris", plaque.GetProperty("synonyms").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task SubtypeFilter_BySynonym_FindsWhatTheCodeFinds()
    {
        var client = api.CreateClient();

        async Task<long[]> Ids(string subtype) =>
            (await (await client.GetAsync($"/v1/studies?subtype={Uri.EscapeDataString(subtype)}&limit=200")).ShouldBeOkAsync<Page<StudySummary>>()).Items.Select(s => s.Id).Order().ToArray();

        var plaque = await Ids("plaque");
        Assert.NotEmpty(plaque);
        Assert.Equal(plaque, await Ids("vulgaris"));
        Assert.Equal(plaque, await Ids("Psoriasis Vulgaris"));
        var outcomes = await (await client.GetAsync("/v1/outcomes?subtype=vulgaris&limit=200")).ShouldBeOkAsync<Page<JsonElement>>();
        Assert.All(outcomes.Items, o => Assert.Contains(o.GetProperty("study").GetProperty("id").GetInt64(), plaque));
    }

    [Fact]
    public async Task SubtypeFilter_Unknown_Is400ListingTheCodes()
    {
        var messages = await (await api.CreateClient().GetAsync("/v1/studies?subtype=nummular")).ShouldBeFieldErrorAsync("subtype");
        Assert.Contains("psoriatic_arthritis", messages[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoredStudies_CarryOnlyCodes_AndTheDatabaseRefusesOthers()
    {
        Assert.Equal(0L, await api.QueryScalarAsync<long>("SELECT count(*) FROM studies WHERE condition_subtype = 'vulgaris'"));
        Assert.True(await api.QueryScalarAsync<long>("SELECT count(*) FROM studies WHERE condition_subtype = 'plaque'") > 0);

        await using var connection = new NpgsqlConnection(api.ConnectionString);
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("UPDATE studies SET condition_subtype = 'vulgaris' WHERE condition = 'psoriasis'"));
        Assert.Equal("studies_condition_subtype_fkey", error.ConstraintName);
    }

    [Fact]
    public async Task Submission_WithASynonym_IsStoredAndPublishedAsTheCode()
    {
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.subtype.{Guid.NewGuid():N}";
        report["title"] = $"Subtype synonym case {Guid.NewGuid():N}";
        report["patient"]!["conditionSubtype"] = "Psoriasis Vulgaris";

        var created = await contributor.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var submission = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("plaque", submission.GetProperty("report").GetProperty("patient").GetProperty("conditionSubtype").GetString());

        var curator = api.CreateClient(await api.CreateKeyAsync("curator"));
        var published = await (await curator.PostAsync($"/v1/submissions/{submission.GetProperty("id").GetInt64()}/publish", null)).ShouldBeOkAsync<JsonElement>();
        var study = await (await api.CreateClient().GetAsync($"/v1/studies/{published.GetProperty("studyId").GetInt64()}")).ShouldBeOkAsync<JsonElement>();
        Assert.Equal("plaque", study.GetProperty("conditionSubtype").GetString());
    }

    [Theory]
    [InlineData("psoriasis", "nummular", "not a subtype of psoriasis")]
    [InlineData("atopic dermatitis", "severe", "no subtypes are defined for atopic dermatitis")]
    public async Task Submission_WithASubtypeNotOfItsCondition_Is400NamingTheField(string condition, string subtype, string message)
    {
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var report = CaseReportValidatorTests.Example();
        report["patient"]!["condition"] = condition;
        report["patient"]!["conditionSubtype"] = subtype;

        var messages = await (await contributor.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json")))
            .ShouldBeFieldErrorAsync("patient.conditionSubtype");
        Assert.Contains(message, messages[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migration_TurnsStoredSpellingsIntoCodes()
    {
        var connectionString = await TestPostgres.CreateEmptyDatabaseAsync();
        await DatabaseMigrator.MigrateAsync(connectionString, before: "0012");
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.ExecuteAsync("""
                INSERT INTO studies (key, title, design, condition, condition_subtype) VALUES
                    ('a', 'A', 'case_report', 'psoriasis', 'vulgaris'),
                    ('b', 'B', 'case_report', 'psoriasis', 'chronic plaque psoriasis'),
                    ('c', 'C', 'case_report', 'psoriasis', 'psoriatic-arthritis'),
                    ('d', 'D', 'case_report', 'psoriasis', 'nummular'),
                    ('e', 'E', 'case_report', 'atopic dermatitis', 'severe'),
                    ('f', 'F', 'case_report', 'psoriasis', 'scalp');
                INSERT INTO api_keys (name, role, key_hash, key_prefix) VALUES ('k', 'contributor', decode(repeat('ab', 32), 'hex'), 'ek_con_x');
                INSERT INTO submissions (report, title, submitted_by)
                SELECT '{"patient": {"condition": "Psoriasis", "conditionSubtype": "Psoriasis Vulgaris"}}', 'S', id FROM api_keys;
                """);
        }

        await DatabaseMigrator.MigrateAsync(connectionString);

        await using var migrated = new NpgsqlConnection(connectionString);
        var subtypes = (await migrated.QueryAsync<(string Key, string? Subtype)>("SELECT key, condition_subtype FROM studies ORDER BY key")).ToList();
        Assert.Equal([("a", "plaque"), ("b", "plaque"), ("c", "psoriatic_arthritis"), ("d", "other"), ("e", null), ("f", "scalp")], subtypes);
        Assert.Equal("plaque", await migrated.ExecuteScalarAsync<string>("SELECT report #>> '{patient,conditionSubtype}' FROM submissions"));
    }
}
