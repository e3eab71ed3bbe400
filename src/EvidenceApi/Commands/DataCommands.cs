using EvidenceApi.Database;
using EvidenceApi.Seeding;
using Npgsql;

namespace EvidenceApi.Commands;

/// <summary>seed, export-seeds, backup and restore: the evidence between the database and files.</summary>
public static class DataCommands
{
    public static async Task<int> SeedAsync(IServiceProvider services, string directory)
    {
        Console.WriteLine($"Loading seed files from {Path.GetFullPath(directory)}");
        Console.WriteLine(await services.GetRequiredService<SeedLoader>().LoadAsync(directory));
        return 0;
    }

    /// <summary>At start-up (for the embedded server by default): loads seeds/ and serves on (null).</summary>
    public static async Task<int?> SeedOnStartupAsync(IServiceProvider services, bool seed)
    {
        if (seed)
        {
            Console.WriteLine("Loading seed files");
            Console.WriteLine(await services.GetRequiredService<SeedLoader>().LoadAsync(SeedLoader.DefaultDirectory));
        }

        return null;
    }

    public static async Task<int> ExportSeedsAsync(IServiceProvider services, string directory)
    {
        directory = Path.GetFullPath(directory);
        var report = await SeedExporter.ExportAsync(services.GetRequiredService<NpgsqlDataSource>(), directory);
        Console.WriteLine($"{report} Folder: {directory}");
        return 0;
    }

    public static async Task<int> BackupAsync(string connectionString, EmbeddedPostgres? embedded, DatabaseOptions options, string file)
    {
        if (FindBinaries(embedded, options) is not { } binaries)
        {
            return 2;
        }

        await new DatabaseBackup(binaries, connectionString).BackupAsync(file);
        Console.WriteLine($"Backed up the evidence database to {Path.GetFullPath(file)} ({new FileInfo(file).Length / 1024.0:F0} KiB). Restore it with: restore {file}");
        return 0;
    }

    public static async Task<int> RestoreAsync(string connectionString, EmbeddedPostgres? embedded, DatabaseOptions options, string file)
    {
        if (FindBinaries(embedded, options) is not { } binaries)
        {
            return 2;
        }

        await new DatabaseBackup(binaries, connectionString).RestoreAsync(file, Console.WriteLine);
        Console.WriteLine($"Restored {Path.GetFullPath(file)}. Running instances reconnect by themselves and serve the restored data.");
        return 0;
    }

    /// <summary>pg_dump and pg_restore come with the server binaries (Debian: the postgresql-client package).</summary>
    private static string? FindBinaries(EmbeddedPostgres? embedded, DatabaseOptions options)
    {
        var binaries = EmbeddedPostgres.FindServerBinaries(options.PostgresBinDirectory);
        if (binaries is not null && File.Exists(Path.Combine(binaries, "pg_dump")) && File.Exists(Path.Combine(binaries, "pg_restore")))
        {
            return binaries;
        }

        Console.Error.WriteLine(
            "backup and restore need pg_dump and pg_restore, which come with PostgreSQL (Debian/Ubuntu: apt-get install postgresql-client). " +
            $"Install them, or set Database__PostgresBinDirectory to their folder.{(embedded is null ? " Against your own server, pg_dump -Fc and pg_restore do the same (see the README)." : "")}");
        return null;
    }
}
