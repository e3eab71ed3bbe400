using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EvidenceApi.Database;
using EvidenceApi.Seeding;
using EvidenceApi.Submissions;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace EvidenceApi.Tests.Seeding;

/// <summary>
/// export-seeds writes the whole evidence base, published submissions included, as seed files; loading them into an empty
/// database gives the same answers from every read endpoint. Ids are not kept (the loading database assigns them), nor is
/// when a study was last written (updatedAt, the time of the load), so answers are compared with those masked (and the
/// paging cursors, which hold ids), and every list compared as a set: each study, intervention and outcome must be there
/// with all its other fields equal.
/// </summary>
public sealed class SeedExportTests(EvidenceApiFactory original) : IClassFixture<EvidenceApiFactory>
{
    private static readonly string[] ReadPaths =
    [
        "/v1/studies?limit=200",
        "/v1/studies?limit=200&sort=title",
        "/v1/studies?limit=200&q=psoriasis",
        "/v1/studies?limit=200&design=case_report",
        "/v1/interventions?limit=200",
        "/v1/outcomes?limit=200",
        "/v1/outcomes?limit=200&measure=relapse_free",
        "/v1/vocabularies",
        "/v1/stats",
        "/v1/synthesis?measure=pasi_75",
        "/v1/synthesis?measure=clinical_response",
        "/v1/synthesis?measure=relapse_free",
    ];

    [Fact]
    public async Task ExportedSeeds_LoadedIntoAnEmptyDatabase_GiveTheSameAnswers()
    {
        var published = await PublishAsync(withSource: true);
        var unpublishedCase = await PublishAsync(withSource: false);
        var directory = Directory.CreateTempSubdirectory("evidence-export-");
        try
        {
            await using (var dataSource = NpgsqlDataSource.Create(original.ConnectionString))
            {
                var report = await SeedExporter.ExportAsync(dataSource, directory.FullName);
                Assert.Empty(report.Skipped);
            }

            // The repository's seed files keep their names; published submissions are named after their study.
            var names = directory.GetFiles("*.json").Select(f => f.Name).ToHashSet();
            Assert.Superset(Directory.GetFiles(TestPostgres.SeedDirectory, "*.json").Select(Path.GetFileName).OfType<string>().ToHashSet(), names);
            Assert.Contains($"{published}.json", names);
            var sourceless = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(directory.FullName, $"{unpublishedCase}.json")))!;
            Assert.Null(sourceless["source"]);

            var copy = await TestPostgres.CreateEmptyDatabaseAsync();
            await DatabaseMigrator.MigrateAsync(copy);
            await using (var dataSource = NpgsqlDataSource.Create(copy))
            {
                await new SeedLoader(dataSource).LoadAsync(directory.FullName);
            }

            await using var copyApi = Factory(copy);
            await AssertSameAnswersAsync(original.CreateClient(), copyApi.CreateClient());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ExportedSeeds_LoadBackIntoTheDatabaseTheyCameFrom_ChangingNoAnswer()
    {
        var published = await PublishAsync(withSource: true);
        var client = original.CreateClient();
        var before = await AnswersAsync(client);
        var directory = Directory.CreateTempSubdirectory("evidence-export-");
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(original.ConnectionString);
            await SeedExporter.ExportAsync(dataSource, directory.FullName);

            // The published case report's study and source are taken over by its seed file, not duplicated or refused.
            var report = await new SeedLoader(dataSource).LoadAsync(directory.FullName);
            Assert.True(report.FilesLoaded > 0);
            Assert.Equal(1, await original.QueryScalarAsync<long>("SELECT count(*) FROM studies WHERE key = @Key", new { Key = published }));
            Assert.Equal($"{published}.json", await original.QueryScalarAsync<string>("SELECT seed_file FROM studies WHERE key = @Key", new { Key = published }));
            Assert.Equal(before, await AnswersAsync(client));

            // A second export of the same data writes the same files, byte for byte: exports diff cleanly in git.
            var first = directory.GetFiles("*.json").ToDictionary(f => f.Name, f => File.ReadAllBytes(f.FullName));
            await SeedExporter.ExportAsync(dataSource, directory.FullName);
            Assert.All(directory.GetFiles("*.json"), f => Assert.Equal(first[f.Name], File.ReadAllBytes(f.FullName)));
            Assert.Equal(first.Count, directory.GetFiles("*.json").Length);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static WebApplicationFactory<Program> Factory(string connectionString) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:Evidence", connectionString);
            builder.UseSetting("Database:SeedOnStartup", "false");
        });

    private static async Task AssertSameAnswersAsync(HttpClient original, HttpClient copy)
    {
        var expected = await AnswersAsync(original);
        var actual = await AnswersAsync(copy);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (path, answer) in expected)
        {
            Assert.True(answer == actual[path], $"{path} differs:\n{answer}\n---\n{actual[path]}");
        }
    }

    /// <summary>Every read endpoint's answer, and every study's detail by key, normalized (ids masked, lists as sets).</summary>
    private static async Task<Dictionary<string, string>> AnswersAsync(HttpClient client)
    {
        var answers = new Dictionary<string, string>();
        foreach (var path in ReadPaths)
        {
            answers[path] = Normalize(await (await client.GetAsync(path)).ShouldBeOkAsync<JsonNode>());
        }

        var studies = await (await client.GetAsync("/v1/studies?limit=200&fields=key")).ShouldBeOkAsync<JsonNode>();
        var keys = studies["items"]!.AsArray().Select(s => s!["key"]!.GetValue<string>()).ToList();
        Assert.True(keys.Count > 9);
        foreach (var key in keys)
        {
            answers[key] = Normalize(await (await client.GetAsync($"/v1/studies/{key}")).ShouldBeOkAsync<JsonNode>());
        }

        return answers;
    }

    private static string Normalize(JsonNode? node) => node switch
    {
        JsonObject obj => "{" + string.Join(",", obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p =>
            $"\"{p.Key}\":{(IsId(p.Key, p.Value) ? "\"#\"" : Normalize(p.Value))}")) + "}",
        JsonArray array => "[" + string.Join(",", array.Select(Normalize).Order(StringComparer.Ordinal)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };

    private static bool IsId(string name, JsonNode? value) =>
        (name is "id" or "next" or "updatedAt" || name.EndsWith("Id", StringComparison.Ordinal) || name.EndsWith("Ids", StringComparison.Ordinal)) && value is not null;

    /// <summary>Submits and publishes a case report; returns the key of the study it became.</summary>
    private async Task<string> PublishAsync(bool withSource)
    {
        var contributor = original.CreateClient(await original.CreateKeyAsync("contributor"));
        var curator = original.CreateClient(await original.CreateKeyAsync("curator"));
        var report = CaseReportValidatorTests.Example();
        var title = $"Exported case {Guid.NewGuid():N}";
        report["title"] = title;
        if (withSource)
        {
            report["source"]!["doi"] = $"10.5555/evidence.export.{Guid.NewGuid():N}";
            report["source"]!["title"] = title;
        }
        else
        {
            report.AsObject().Remove("source");
        }

        var response = await contributor.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var submission = (await response.Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json))!;
        var published = await (await curator.PostAsJsonAsync($"/v1/submissions/{submission.Id}/publish", new { reason = "ok" })).ShouldBeOkAsync<SubmissionView>();
        return await original.QueryScalarAsync<string>("SELECT key FROM studies WHERE id = @Id", new { Id = published.StudyId });
    }
}
