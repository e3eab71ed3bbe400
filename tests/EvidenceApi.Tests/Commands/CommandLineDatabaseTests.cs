using System.Net;
using System.Text;
using Dapper;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;
using Npgsql;

namespace EvidenceApi.Tests.Commands;

/// <summary>The command line as an operator runs it against a database of its own: the built API, started as its own process.</summary>
public sealed class CommandLineDatabaseTests
{
    private const string CountAll = """
        SELECT (SELECT count(*) FROM studies) AS studies, (SELECT count(*) FROM outcomes) AS outcomes,
               (SELECT version FROM data_version) AS version
        """;

    private static Dictionary<string, string> Against(string connectionString) => new() { ["ConnectionStrings__Evidence"] = connectionString };

    private static async Task<(long Studies, long Outcomes, long Version)> CountAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await connection.QuerySingleAsync<(long, long, long)>(CountAll);
    }

    [Fact]
    public async Task Seed_LoadsEveryFile_AndASecondRunWritesNothing()
    {
        var database = await TestPostgres.CreateEmptyDatabaseAsync();

        var (firstExit, firstOutput) = await ApiProcess.RunCommandAsync(["seed", TestPostgres.SeedDirectory], Against(database));
        Assert.True(firstExit == 0, firstOutput);
        var loaded = await CountAsync(database);
        Assert.True(loaded.Studies >= 9, firstOutput);

        var (secondExit, secondOutput) = await ApiProcess.RunCommandAsync(["seed", TestPostgres.SeedDirectory], Against(database));
        Assert.True(secondExit == 0, secondOutput);
        Assert.Equal(loaded, await CountAsync(database));
    }

    [Fact]
    public async Task Seed_WithABrokenFile_LoadsNothing_AndNamesTheFileAndPath()
    {
        var database = await TestPostgres.CreateEmptyDatabaseAsync();
        var directory = Directory.CreateTempSubdirectory("evidence-seed-cli-");
        try
        {
            foreach (var file in Directory.GetFiles(TestPostgres.SeedDirectory, "*.json"))
            {
                File.Copy(file, Path.Combine(directory.FullName, Path.GetFileName(file)));
            }

            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "zz-broken.json"), """
                { "source": { "title": "Broken" },
                  "studies": [ { "key": "broken", "title": "Broken", "design": "case_report", "condition": "psoriasis",
                                 "interventions": [ { "key": "x", "product": "msc_cells", "route": "oral" } ] } ] }
                """);

            var (exit, output) = await ApiProcess.RunCommandAsync(["seed", directory.FullName], Against(database));

            Assert.NotEqual(0, exit);
            Assert.Contains("zz-broken.json: $.studies[0].interventions[0].route", output, StringComparison.Ordinal);
            Assert.Equal(0, (await CountAsync(database)).Studies);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task CreateKey_PrintsAKeyThatTheApiAccepts_AndRefusesAnUnknownRole()
    {
        var database = await TestPostgres.CreateSeededDatabaseAsync();

        var (exit, output) = await ApiProcess.RunCommandAsync(["create-key", "--role", "contributor", "--name", "Command line test"], Against(database));
        Assert.True(exit == 0, output);
        var key = output.Split('\n', StringSplitOptions.TrimEntries).Single(line => line.StartsWith("ek_con_", StringComparison.Ordinal));

        await using (var connection = new NpgsqlConnection(database))
        {
            Assert.Equal("contributor", await connection.ExecuteScalarAsync<string>("SELECT role FROM api_keys WHERE name = 'Command line test'"));
        }

        await using var api = TestApi.For(database);
        var client = api.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.cli.{Guid.NewGuid():N}";
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json"))).StatusCode);

        var (badExit, badOutput) = await ApiProcess.RunCommandAsync(["create-key", "--role", "admin"], Against(database));
        Assert.True(badExit == 2, badOutput);
        Assert.Contains("admin", badOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoPostgresBinaries_ExitsWithCode2_AndSaysHowToFixIt()
    {
        var data = Directory.CreateTempSubdirectory("evidence-no-binaries-");
        try
        {
            var (exit, output) = await ApiProcess.RunCommandAsync([], new Dictionary<string, string>
            {
                ["ConnectionStrings__Evidence"] = "",
                ["Database__PostgresBinDirectory"] = Path.Combine(data.FullName, "no-postgres-here"),
                ["Database__DataDirectory"] = data.FullName,
            });

            Assert.Equal(2, exit);
            Assert.Contains("no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found", output, StringComparison.Ordinal);
            Assert.Contains("apt-get install postgresql", output, StringComparison.Ordinal);
            Assert.Empty(data.GetFileSystemInfos());
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }
}
