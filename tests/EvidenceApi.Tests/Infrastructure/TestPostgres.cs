using EvidenceApi.Database;
using EvidenceApi.Seeding;
using Npgsql;

namespace EvidenceApi.Tests.Infrastructure;

/// <summary>
/// One real PostgreSQL server for the whole test run: a throwaway embedded cluster, or the server named by
/// <c>EVIDENCE_TEST_POSTGRES</c> (a connection string whose user may create databases). A template database
/// is migrated and seeded once; each test class gets its own copy.
/// </summary>
public static class TestPostgres
{
    public const string EnvironmentVariable = "EVIDENCE_TEST_POSTGRES";
    private const string TemplateName = "evidence_test_template";

    private static readonly Lazy<Task<Server>> Instance = new(StartAsync);

    /// <summary>The repository's seeds/ folder, as copied next to the API binary.</summary>
    public static string SeedDirectory => SeedLoader.DefaultDirectory;

    /// <summary>Creates a database migrated and loaded with the repository seeds; returns its connection string.</summary>
    public static async Task<string> CreateSeededDatabaseAsync()
    {
        var server = await Instance.Value;
        var name = UniqueName();
        await server.CreateDatabaseAsync(name, TemplateName);
        return server.ConnectionString(name);
    }

    /// <summary>Creates an empty database (no schema); returns its connection string.</summary>
    public static async Task<string> CreateEmptyDatabaseAsync()
    {
        var server = await Instance.Value;
        var name = UniqueName();
        await server.CreateDatabaseAsync(name, null);
        return server.ConnectionString(name);
    }

    private static string UniqueName() => "evidence_test_" + Guid.NewGuid().ToString("N")[..12];

    private static async Task<Server> StartAsync()
    {
        Server server;
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            server = new ExternalServer(external);
        }
        else
        {
            var binaries = EmbeddedPostgres.FindServerBinaries(Environment.GetEnvironmentVariable("EVIDENCE_PG_BIN"))
                ?? throw new InvalidOperationException(
                    $"The tests need PostgreSQL: install its server binaries (apt-get install postgresql) or set {EnvironmentVariable}.");
            var parent = Path.Combine(Path.GetTempPath(), "evidence-api-tests");
            RemoveStoppedClusters(parent);
            var root = Path.Combine(parent, Guid.NewGuid().ToString("N")[..8]);
            var embedded = await EmbeddedPostgres.StartAsync(binaries, root, durable: false, _ => { });
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                embedded.StopAsync().GetAwaiter().GetResult();
                RemoveStoppedClusters(parent);
            };
            server = new EmbeddedServer(embedded);
        }

        await server.DropDatabaseAsync(TemplateName);
        await server.CreateDatabaseAsync(TemplateName, null);
        var templateConnection = server.ConnectionString(TemplateName);
        await DatabaseMigrator.MigrateAsync(templateConnection);
        await using (var dataSource = NpgsqlDataSource.Create(templateConnection))
        {
            await new SeedLoader(dataSource).LoadAsync(SeedDirectory);
        }

        // CREATE DATABASE ... TEMPLATE needs the template to have no open connections.
        NpgsqlConnection.ClearAllPools();
        return server;
    }

    /// <summary>Deletes clusters of earlier runs that are no longer running (no postmaster.pid) and are over an hour old.</summary>
    private static void RemoveStoppedClusters(string parent)
    {
        if (!Directory.Exists(parent))
        {
            return;
        }

        foreach (var cluster in Directory.GetDirectories(parent))
        {
            if (!File.Exists(Path.Combine(cluster, "pgdata", "postmaster.pid"))
                && Directory.GetLastWriteTimeUtc(cluster) < DateTime.UtcNow.AddHours(-1))
            {
                try
                {
                    Directory.Delete(cluster, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // A leftover temporary folder is harmless; the next run tries again.
                }
            }
        }
    }

    private abstract class Server
    {
        public abstract string ConnectionString(string database);

        public async Task CreateDatabaseAsync(string name, string? template)
        {
            var sql = $"CREATE DATABASE \"{name}\"" + (template is null ? "" : $" TEMPLATE \"{template}\"");
            await ExecuteAsync(sql);
        }

        public Task DropDatabaseAsync(string name) => ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");

        private async Task ExecuteAsync(string sql)
        {
            await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    private sealed class EmbeddedServer(EmbeddedPostgres embedded) : Server
    {
        public override string ConnectionString(string database) => embedded.ConnectionString(database);
    }

    private sealed class ExternalServer(string connectionString) : Server
    {
        public override string ConnectionString(string database) =>
            new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;
    }
}
