using DbUp;
using Npgsql;

namespace EvidenceApi.Database;

/// <summary>Applies the numbered SQL files from <c>db/</c> (embedded in the assembly) with DbUp.</summary>
public static class DatabaseMigrator
{
    // Any constant works; it only has to be the same for every instance of the API.
    private const long MigrationLockKey = 0x45766964656E6365;

    /// <summary>Runs the migrations not yet applied and returns their names.</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        // With replicas in the connection string, migrations go to the primary only.
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.Host?.Contains(',', StringComparison.Ordinal) == true)
        {
            builder.TargetSessionAttributes = "primary";
            connectionString = builder.ConnectionString;
        }

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
                .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly, name => name.StartsWith("Migrations.", StringComparison.Ordinal))
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

            return result.Scripts.Select(script => script.Name["Migrations.".Length..]).ToList();
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", lockConnection);
            release.Parameters.AddWithValue(MigrationLockKey);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}
