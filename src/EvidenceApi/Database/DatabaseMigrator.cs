using DbUp;
using Npgsql;

namespace EvidenceApi.Database;

/// <summary>Applies the numbered SQL files from <c>db/</c> (embedded in the assembly) with DbUp.</summary>
public static class DatabaseMigrator
{
    // Any constant works; it only has to be the same for every instance of the API.
    private const long MigrationLockKey = 0x45766964656E6365;

    private const string ResourcePrefix = "Migrations.";

    /// <summary>Runs the migrations not yet applied and returns their names; tells <paramref name="log"/> what it does, if given.</summary>
    /// <param name="connectionString">The database.</param>
    /// <param name="log">Told what is done, if given.</param>
    /// <param name="before">Only the migrations whose file name sorts before this one (a test of a migration sets up the data it finds).</param>
    /// <param name="cancellationToken">Stops waiting for the migration lock.</param>
    public static async Task<IReadOnlyList<string>> MigrateAsync(
        string connectionString, Action<string>? log = null, string? before = null, CancellationToken cancellationToken = default)
    {
        // With replicas in the connection string, migrations go to the primary only.
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.Host?.Contains(',', StringComparison.Ordinal) == true)
        {
            builder.TargetSessionAttributes = "primary";
            connectionString = builder.ConnectionString;
        }

        // Most starts have nothing to apply: one query tells, without taking the lock or building DbUp's upgrader.
        if (!await AnyPendingAsync(connectionString, before, cancellationToken))
        {
            return [];
        }

        log?.Invoke("Migrating the database");

        // Several instances may start together: one migrates while the others wait for it.
        await using var lockConnection = new NpgsqlConnection(connectionString);
        await lockConnection.OpenAsync(cancellationToken);
        await using (var acquire = new NpgsqlCommand("SELECT pg_advisory_lock($1)", lockConnection))
        {
            acquire.Parameters.AddWithValue(MigrationLockKey);
            await acquire.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var upgrader = DeployChanges.To
                .PostgresqlDatabase(connectionString)
                .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly, name => IsMigration(name, before))
                .WithTransactionPerScript()
                .WithVariablesDisabled()
                // A migration may rebuild indexes over millions of rows.
                .WithExecutionTimeout(TimeSpan.FromHours(1))
                .LogToNowhere()
                .Build();

            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
            {
                throw new InvalidOperationException($"Migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
            }

            var applied = result.Scripts.Select(script => script.Name[ResourcePrefix.Length..]).ToList();
            log?.Invoke(applied.Count == 0 ? "No migration to apply" : $"Applied migrations: {string.Join(", ", applied)}");
            return applied;
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", lockConnection);
            release.Parameters.AddWithValue(MigrationLockKey);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>Whether a migration embedded in the assembly is missing from DbUp's journal (or the journal itself is).</summary>
    private static async Task<bool> AnyPendingAsync(string connectionString, string? before, CancellationToken cancellationToken)
    {
        var embedded = typeof(DatabaseMigrator).Assembly.GetManifestResourceNames()
            .Where(name => IsMigration(name, before))
            .ToList();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT coalesce(array_agg(scriptname), '{}') FROM schemaversions", connection);
        try
        {
            var applied = (string[])(await command.ExecuteScalarAsync(cancellationToken))!;
            return embedded.Except(applied, StringComparer.Ordinal).Any();
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return true;
        }
    }

    private static bool IsMigration(string resourceName, string? before) =>
        resourceName.StartsWith(ResourcePrefix, StringComparison.Ordinal)
        && (before is null || string.CompareOrdinal(resourceName[ResourcePrefix.Length..], before) < 0);
}
