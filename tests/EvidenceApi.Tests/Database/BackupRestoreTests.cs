using System.Net;
using System.Text.Json.Nodes;
using EvidenceApi.Database;
using EvidenceApi.Tests.Infrastructure;
using Npgsql;

namespace EvidenceApi.Tests.Database;

/// <summary>
/// backup writes the evidence database with pg_dump (custom format); restore puts it back in place of the current one,
/// under a running API, which reconnects by itself and serves the restored data (never a cached answer of the replaced one).
/// </summary>
public sealed class BackupRestoreTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private readonly string binaries = EmbeddedPostgres.FindServerBinaries() ?? throw new InvalidOperationException("PostgreSQL binaries are needed.");

    [Fact]
    public async Task Backup_ThenChanges_ThenRestore_GivesBackTheDataAsBackedUp()
    {
        var client = api.CreateClient();
        var studyBefore = await (await client.GetAsync("/v1/studies/srivastava-2024-scalp-secretome")).ShouldBeOkAsync<JsonNode>();
        var statsBefore = (await (await client.GetAsync("/v1/stats")).ShouldBeOkAsync<JsonNode>()).ToJsonString();
        var keyBefore = await api.CreateKeyAsync("contributor", "Before the backup");
        var file = Path.Combine(Path.GetTempPath(), $"evidence-backup-{Guid.NewGuid():N}.dump");
        var backup = new DatabaseBackup(binaries, api.ConnectionString);
        try
        {
            await backup.BackupAsync(file);
            Assert.True(new FileInfo(file).Length > 0);
            Assert.False(File.Exists(file + ".partial"));
            // It holds contributors' e-mail addresses and key hashes: only its owner may read it.
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }

            // After the backup: a study goes, a key is made.
            await using (var connection = new NpgsqlConnection(api.ConnectionString))
            {
                await connection.OpenAsync();
                await using var delete = new NpgsqlCommand("DELETE FROM studies WHERE key = 'srivastava-2024-scalp-secretome'", connection);
                Assert.Equal(1, await delete.ExecuteNonQueryAsync());
            }

            await DatabaseOutageTestsEventually(async () => (await client.GetAsync("/v1/studies/srivastava-2024-scalp-secretome")).StatusCode == HttpStatusCode.NotFound);
            var keyAfter = await api.CreateKeyAsync("contributor", "After the backup");
            var versionBefore = await api.QueryScalarAsync<long>("SELECT version FROM data_version");

            var messages = new List<string>();
            await backup.RestoreAsync(file, messages.Add);

            // The running API reconnects to the restored database and serves it.
            await DatabaseOutageTestsEventually(async () => (await client.GetAsync("/v1/studies/srivastava-2024-scalp-secretome")).StatusCode == HttpStatusCode.OK);
            var studyAfter = await (await client.GetAsync("/v1/studies/srivastava-2024-scalp-secretome")).ShouldBeOkAsync<JsonNode>();
            Assert.Equal(studyBefore["title"]!.GetValue<string>(), studyAfter["title"]!.GetValue<string>());
            Assert.Equal(studyBefore["outcomes"]!.AsArray().Count, studyAfter["outcomes"]!.AsArray().Count);
            Assert.Equal(statsBefore, (await (await client.GetAsync("/v1/stats")).ShouldBeOkAsync<JsonNode>()).ToJsonString());
            Assert.Equal(HttpStatusCode.OK, (await api.CreateClient(keyBefore).GetAsync("/v1/submissions")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await api.CreateClient(keyAfter).GetAsync("/v1/submissions")).StatusCode);

            // The data version moved past the replaced database's, so no cached answer of it is served.
            Assert.True(await api.QueryScalarAsync<long>("SELECT version FROM data_version") > versionBefore);
            Assert.Contains(messages, m => m.Contains("Replacing", StringComparison.Ordinal));
            Assert.Equal(0, await api.QueryScalarAsync<long>("SELECT count(*) FROM pg_database WHERE datname LIKE '%restoring%' OR datname LIKE '%replaced%'"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Restore_OfAFileThatIsNoBackup_FailsAndLeavesTheDatabaseAsItWas()
    {
        var file = Path.Combine(Path.GetTempPath(), $"evidence-not-a-backup-{Guid.NewGuid():N}.dump");
        await File.WriteAllTextAsync(file, "not a dump");
        try
        {
            var studies = await api.QueryScalarAsync<long>("SELECT count(*) FROM studies");
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new DatabaseBackup(binaries, api.ConnectionString).RestoreAsync(file, _ => { }));
            Assert.Contains("pg_restore", error.Message, StringComparison.Ordinal);
            Assert.Equal(studies, await api.QueryScalarAsync<long>("SELECT count(*) FROM studies"));
            Assert.Equal(HttpStatusCode.OK, (await api.CreateClient().GetAsync("/v1/studies?limit=1")).StatusCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static Task DatabaseOutageTestsEventually(Func<Task<bool>> condition) =>
        Resilience.DatabaseOutageTests.EventuallyAsync(condition, TimeSpan.FromSeconds(30));
}
