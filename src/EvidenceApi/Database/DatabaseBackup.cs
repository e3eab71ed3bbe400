using System.Globalization;
using Npgsql;

namespace EvidenceApi.Database;

/// <summary>
/// Backup and restore of the evidence database with PostgreSQL's own tools: pg_dump in the custom format, and pg_restore into
/// a new database that then takes the old one's place, so a failed restore leaves the database as it was.
/// </summary>
public sealed class DatabaseBackup(string binDirectory, string connectionString)
{
    private readonly NpgsqlConnectionStringBuilder connection = new(connectionString);

    /// <summary>Writes the database to <paramref name="file"/>; the file appears only once the dump is complete.</summary>
    public async Task BackupAsync(string file, CancellationToken cancellationToken = default)
    {
        file = Path.GetFullPath(file);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var partial = file + ".partial";
        try
        {
            // The dump holds contributors' e-mail addresses and key hashes: the file is made readable by its owner only
            // before pg_dump writes into it (pg_dump truncates an existing file and keeps its mode).
            File.Delete(partial);
            var privateFile = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                privateFile.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (new FileStream(partial, privateFile))
            {
            }

            await RunAsync("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", $"--file={partial}", $"--dbname={Conninfo(Database)}"], cancellationToken);
            File.Move(partial, file, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>
    /// Replaces the database with the backup in <paramref name="file"/>: restores it into a new database, applies the migrations
    /// it lacks, moves the data version past the old one's (so no instance serves a cached answer of the old data), and then
    /// swaps the two (running instances reconnect by themselves). Needs the right to create, rename and drop databases.
    /// </summary>
    public async Task RestoreAsync(string file, Action<string> log, CancellationToken cancellationToken = default)
    {
        file = Path.GetFullPath(file);
        if (!File.Exists(file))
        {
            throw new InvalidOperationException($"{file} does not exist.");
        }

        // pg_restore --list reads the whole table of contents: a file that is not a custom-format dump stops here.
        await RunAsync("pg_restore", ["--list", file], cancellationToken);

        var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var restoring = $"{Database}_restoring_{stamp}";
        var replaced = $"{Database}_replaced_{stamp}";
        await ExecuteAsync($"CREATE DATABASE {Quote(restoring)} TEMPLATE template0", cancellationToken);
        try
        {
            log($"Restoring {file} into a new database, {restoring}");
            await RunAsync("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", $"--dbname={Conninfo(restoring)}", file], cancellationToken);
            var target = new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Database = restoring }.ConnectionString;
            await DatabaseMigrator.MigrateAsync(target, log, cancellationToken: cancellationToken);
            var current = await CurrentVersionAsync(cancellationToken);
            await using (var restored = new NpgsqlConnection(target))
            {
                await restored.OpenAsync(cancellationToken);
                await using var move = new NpgsqlCommand("UPDATE data_version SET version = greatest(version, $1) + 1 WHERE id = 1", restored);
                move.Parameters.AddWithValue(current);
                await move.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        catch
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync($"DROP DATABASE IF EXISTS {Quote(restoring)} WITH (FORCE)", CancellationToken.None);
            throw;
        }

        log($"Replacing {Database} with the restored database");
        NpgsqlConnection.ClearAllPools();
        await SwapAsync(restoring, replaced, cancellationToken);
        await ExecuteAsync($"DROP DATABASE {Quote(replaced)} WITH (FORCE)", CancellationToken.None);
    }

    /// <summary>Puts <paramref name="restoring"/> in the database's place; running instances reconnect to it by name.</summary>
    private async Task SwapAsync(string restoring, string replaced, CancellationToken cancellationToken)
    {
        // No new connection may reach the old database between closing its connections and renaming it.
        await ExecuteAsync($"ALTER DATABASE {Quote(Database)} WITH ALLOW_CONNECTIONS false", cancellationToken);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                await ExecuteAsync(
                    $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{Database.Replace("'", "''", StringComparison.Ordinal)}' AND pid <> pg_backend_pid()",
                    cancellationToken);
                try
                {
                    await ExecuteAsync($"ALTER DATABASE {Quote(Database)} RENAME TO {Quote(replaced)}", cancellationToken);
                    break;
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 100)
                {
                    // A terminated backend takes a moment to exit.
                    await Task.Delay(100, cancellationToken);
                }
            }
        }
        catch
        {
            await ExecuteAsync($"ALTER DATABASE {Quote(Database)} WITH ALLOW_CONNECTIONS true", CancellationToken.None);
            await ExecuteAsync($"DROP DATABASE IF EXISTS {Quote(restoring)} WITH (FORCE)", CancellationToken.None);
            throw;
        }

        await ExecuteAsync($"ALTER DATABASE {Quote(restoring)} RENAME TO {Quote(Database)}", CancellationToken.None);
    }

    private string Database => connection.Database ?? EmbeddedPostgres.DatabaseName;

    private async Task<long> CurrentVersionAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var current = new NpgsqlConnection(connection.ConnectionString);
            await current.OpenAsync(cancellationToken);
            await using var read = new NpgsqlCommand("SELECT version FROM data_version WHERE id = 1", current);
            return await read.ExecuteScalarAsync(cancellationToken) is long version ? version : 0;
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidCatalogName)
        {
            return 0;
        }
    }

    /// <summary>Runs statements on the server's maintenance database (a database cannot be renamed from inside itself).</summary>
    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        var maintenance = new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Database = "postgres", Pooling = false };
        await using var admin = new NpgsqlConnection(maintenance.ConnectionString);
        await admin.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The connection as libpq takes it; the password goes in PGPASSWORD, not on the command line.</summary>
    private string Conninfo(string database)
    {
        var host = (connection.Host ?? "localhost").Split(',')[0];
        var port = connection.Port;
        if (host.LastIndexOf(':') is var colon and > 0 && int.TryParse(host[(colon + 1)..], CultureInfo.InvariantCulture, out var hostPort))
        {
            (host, port) = (host[..colon], hostPort);
        }

        return $"host={Value(host)} port={port.ToString(CultureInfo.InvariantCulture)} user={Value(connection.Username ?? Environment.UserName)} dbname={Value(database)}";

        static string Value(string text) => $"'{text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}'";
    }

    private static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private async Task RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string>();
        if (!string.IsNullOrEmpty(connection.Password))
        {
            environment["PGPASSWORD"] = connection.Password;
        }

        await ClientPrograms.RunAsync(Path.Combine(binDirectory, program), arguments, environment, cancellationToken);
    }
}
