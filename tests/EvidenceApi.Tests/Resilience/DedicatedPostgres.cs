using EvidenceApi.Database;
using EvidenceApi.Seeding;
using Npgsql;

namespace EvidenceApi.Tests.Resilience;

/// <summary>A PostgreSQL cluster of one test class's own, which that test may stop, crash and start again.</summary>
public sealed class DedicatedPostgres : IAsyncDisposable
{
    private readonly string binaries;
    private readonly bool durable;

    private DedicatedPostgres(string binaries, string directory, bool durable, EmbeddedPostgres server)
    {
        this.binaries = binaries;
        this.durable = durable;
        Directory = directory;
        Server = server;
    }

    public string Directory { get; }

    public EmbeddedPostgres Server { get; private set; }

    public string ConnectionString => Server.ConnectionString();

    public static async Task<DedicatedPostgres> StartAsync(bool durable)
    {
        var binaries = EmbeddedPostgres.FindServerBinaries() ?? throw new InvalidOperationException("PostgreSQL server binaries are needed.");
        var directory = Path.Combine(Path.GetTempPath(), "evidence-api-tests-dedicated", Guid.NewGuid().ToString("N")[..8]);
        var server = await EmbeddedPostgres.StartAsync(binaries, directory, durable, _ => { });
        await DatabaseMigrator.MigrateAsync(server.ConnectionString());
        await using (var dataSource = NpgsqlDataSource.Create(server.ConnectionString()))
        {
            await new SeedLoader(dataSource).LoadAsync(SeedLoader.DefaultDirectory);
        }

        return new DedicatedPostgres(binaries, directory, durable, server);
    }

    public Task StopAsync() => Server.StopAsync();

    public Task CrashAsync() => Server.CrashAsync();

    /// <summary>Starts the same cluster again, on the same port.</summary>
    public async Task RestartAsync()
    {
        var port = Server.Port;
        Server = await EmbeddedPostgres.StartAsync(binaries, Directory, durable, _ => { });
        Assert.Equal(port, Server.Port);

        // Connections pooled before the stop are dead; the test's own fresh ones must not inherit them.
        using var connection = new NpgsqlConnection(ConnectionString);
        NpgsqlConnection.ClearPool(connection);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Removed by the next test run's clean-up.
        }
    }
}
