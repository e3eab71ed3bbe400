using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EvidenceApi.Tests.Querying;

/// <summary>
/// An export streams: the API's memory stays flat while a client reads a large CSV slowly. Flat means it grows by less
/// than half the export (measured: about 40 MB of collector slack for 100 MB; holding the export would take all of it).
/// Read slowly, it outlasts the statement and request timeouts, which must not cut it off.
/// </summary>
public sealed class CsvStreamingTests(ITestOutputHelper output)
{
    private const int Outcomes = 150_000;

    [Fact]
    public async Task LargeExport_ReadSlowly_KeepsTheApisMemoryFlat_AndDeliversEveryRow()
    {
        var database = await TestPostgres.CreateEmptyDatabaseAsync();
        await DatabaseMigrator.MigrateAsync(database);
        await using (var connection = new NpgsqlConnection(database))
        {
            // Bulk rows without the triggers that keep the search documents: only the export reads them.
            await connection.OpenAsync();
            await connection.ExecuteAsync("SET session_replication_role = replica");
            await connection.ExecuteAsync("""
                INSERT INTO studies (key, title, design, condition) SELECT 'bulk-' || n, 'Bulk study ' || n, 'case_series', 'psoriasis' FROM generate_series(1, 100) n;
                INSERT INTO outcomes (study_id, measure, assessed, responders, quote)
                SELECT (SELECT min(id) FROM studies) + n % 100, 'pasi_75', 20, n % 20, 'Quote ' || n || ' ' || repeat('x', 600)
                FROM generate_series(1, @Outcomes) n;
                """, new { Outcomes });
        }

        // The export is read for longer than the statement timeout and the request timeout: it must still arrive whole.
        using var api = ApiProcess.Start(database, environment: new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Warning",
            ["Database__StatementTimeoutSeconds"] = "2",
            ["Protection__RequestTimeoutSeconds"] = "3",
        });
        await api.WaitUntilReadyAsync();
        (await api.Client.GetAsync("/v1/outcomes?format=csv&limit=100")).EnsureSuccessStatusCode();
        var before = api.ResidentBytes;

        using var response = await api.Client.GetAsync("/v1/outcomes?format=csv", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        long bytes = 0, lines = 0, peak = before;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            bytes += read;
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
            if (bytes % (4 * 1024 * 1024) < read)
            {
                // A slow reader: the API has to wait for it, and must not hold the rest meanwhile.
                await Task.Delay(250);
                peak = Math.Max(peak, api.ResidentBytes);
            }
        }

        output.WriteLine($"{bytes / 1024 / 1024} MB in {lines} lines; API memory {before / 1024 / 1024} MB before, {peak / 1024 / 1024} MB at most while read");
        Assert.Equal(Outcomes + 1, lines);
        Assert.True(peak - before < bytes / 2, $"The API grew by {(peak - before) / 1024 / 1024} MB for a {bytes / 1024 / 1024} MB export");
    }
}
