using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace EvidenceApi.Database;

/// <summary>
/// A private PostgreSQL cluster in a directory of its own, started with the server binaries found
/// on the machine. Used when no connection string is configured, and by the tests.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    public const string UserName = "evidence";
    public const string DatabaseName = "evidence";

    private readonly string binDirectory;
    private readonly string dataDirectory;
    private readonly string? runAsUser;
    private int stopped;

    private EmbeddedPostgres(string binDirectory, string rootDirectory, string? runAsUser, int port)
    {
        this.binDirectory = binDirectory;
        RootDirectory = rootDirectory;
        dataDirectory = Path.Combine(rootDirectory, "pgdata");
        this.runAsUser = runAsUser;
        Port = port;
    }

    public string RootDirectory { get; }

    public int Port { get; }

    public string ConnectionString(string database = DatabaseName) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = UserName,
        Database = database,
    }.ConnectionString;

    /// <summary>Finds a directory holding initdb, pg_ctl and postgres, or null when there is none.</summary>
    public static string? FindServerBinaries(string? configuredDirectory = null)
    {
        var candidates = new List<string>();
        if (!string.IsNullOrWhiteSpace(configuredDirectory))
        {
            candidates.Add(configuredDirectory);
        }

        // Debian/Ubuntu install the server outside PATH, one folder per major version: newest first.
        foreach (var root in new[] { "/usr/lib/postgresql", "/usr/pgsql" })
        {
            if (Directory.Exists(root))
            {
                candidates.AddRange(Directory.GetDirectories(root)
                    .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                    .Select(d => Path.Combine(d, "bin")));
            }
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        candidates.AddRange(["/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin"]);

        return candidates.FirstOrDefault(dir =>
            File.Exists(Path.Combine(dir, "initdb")) &&
            File.Exists(Path.Combine(dir, "pg_ctl")) &&
            File.Exists(Path.Combine(dir, "postgres")));
    }

    /// <summary>
    /// Creates the cluster under <paramref name="rootDirectory"/> on first use, starts it on a free
    /// loopback port (or adopts the one already running there) and makes sure the database exists.
    /// </summary>
    public static async Task<EmbeddedPostgres> StartAsync(
        string binDirectory, string rootDirectory, bool durable, Action<string> log, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(rootDirectory);
        rootDirectory = Path.GetFullPath(rootDirectory);
        var runAsUser = Environment.IsPrivilegedProcess ? FindUnprivilegedUser() : null;
        var dataDirectory = Path.Combine(rootDirectory, "pgdata");
        var portFile = Path.Combine(rootDirectory, "port");

        if (runAsUser is not null)
        {
            // initdb and postgres refuse to run as root: the cluster belongs to an unprivileged user.
            await RunAsync("chown", ["-R", runAsUser, rootDirectory], null, cancellationToken);
        }

        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            log($"Creating a PostgreSQL cluster in {dataDirectory}");
            var initdbArgs = new List<string> { "-D", dataDirectory, "-U", UserName, "-A", "trust", "-E", "UTF8", "--locale=C" };
            if (!durable)
            {
                initdbArgs.Add("--no-sync");
            }

            await RunAsync(Path.Combine(binDirectory, "initdb"), initdbArgs, runAsUser, cancellationToken);
            var settings = "\n# EvidenceApi embedded server\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n";
            if (!durable)
            {
                settings += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
            }

            await File.AppendAllTextAsync(Path.Combine(dataDirectory, "postgresql.conf"), settings, cancellationToken);
        }

        var pgCtl = Path.Combine(binDirectory, "pg_ctl");
        var running = await RunAsync(pgCtl, ["status", "-D", dataDirectory], runAsUser, cancellationToken, throwOnError: false) == 0;
        if (running && File.Exists(portFile) && int.TryParse(await File.ReadAllTextAsync(portFile, cancellationToken), out var runningPort))
        {
            log($"Reusing the PostgreSQL server already running on port {runningPort}");
            var adopted = new EmbeddedPostgres(binDirectory, rootDirectory, runAsUser, runningPort);
            await adopted.EnsureDatabaseAsync(cancellationToken);
            return adopted;
        }

        if (running)
        {
            await RunAsync(pgCtl, ["stop", "-D", dataDirectory, "-m", "fast", "-w"], runAsUser, cancellationToken, throwOnError: false);
        }

        // Keep the port of earlier runs when it is free, so that connection strings handed out stay valid.
        var port = File.Exists(portFile) && int.TryParse(await File.ReadAllTextAsync(portFile, cancellationToken), out var previous) && IsFree(previous)
            ? previous
            : FindFreePort();
        await File.WriteAllTextAsync(portFile, port.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        var logFile = Path.Combine(rootDirectory, "postgres.log");
        await RunAsync(pgCtl, ["start", "-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "-o", $"-p {port}"], runAsUser, cancellationToken);
        log($"PostgreSQL started on 127.0.0.1:{port} (data in {dataDirectory})");

        var server = new EmbeddedPostgres(binDirectory, rootDirectory, runAsUser, port);

        // Connections pooled from an earlier life of this server on the same port are dead.
        foreach (var database in new[] { "postgres", DatabaseName })
        {
            using var stale = new NpgsqlConnection(server.ConnectionString(database));
            NpgsqlConnection.ClearPool(stale);
        }

        await server.EnsureDatabaseAsync(cancellationToken);
        return server;
    }

    /// <summary>
    /// Creates (once) a hot standby of <paramref name="primary"/> under <paramref name="rootDirectory"/> with
    /// pg_basebackup -R, streaming from the primary, and starts it on a port of its own.
    /// </summary>
    public static async Task<EmbeddedPostgres> StartStandbyAsync(
        string binDirectory, string rootDirectory, EmbeddedPostgres primary, Action<string> log, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(rootDirectory);
        rootDirectory = Path.GetFullPath(rootDirectory);
        var runAsUser = Environment.IsPrivilegedProcess ? FindUnprivilegedUser() : null;
        if (runAsUser is not null)
        {
            await RunAsync("chown", ["-R", runAsUser, rootDirectory], null, cancellationToken);
        }

        var dataDirectory = Path.Combine(rootDirectory, "pgdata");
        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            log($"Cloning the primary on port {primary.Port} into a standby in {dataDirectory}");
            await RunAsync(Path.Combine(binDirectory, "pg_basebackup"),
                ["-h", "127.0.0.1", "-p", primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", UserName, "-D", dataDirectory, "-R", "-X", "stream", "-c", "fast"],
                runAsUser, cancellationToken);
        }

        return await StartAsync(binDirectory, rootDirectory, durable: false, log, cancellationToken);
    }

    /// <summary>Creates a database if it does not exist.</summary>
    public async Task CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync(cancellationToken);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection))
        {
            exists.Parameters.AddWithValue(name);
            if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
            {
                return;
            }
        }

        // Identifiers cannot be parameters; names come from this code, quoted all the same.
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref stopped, 1) == 1)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await RunAsync(Path.Combine(binDirectory, "pg_ctl"), ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", "30"], runAsUser, CancellationToken.None, throwOnError: false);
    }

    /// <summary>Stops the server the way a crash would (immediate mode: no checkpoint, recovery on the next start).</summary>
    public async Task CrashAsync()
    {
        Interlocked.Exchange(ref stopped, 1);
        NpgsqlConnection.ClearAllPools();
        await RunAsync(Path.Combine(binDirectory, "pg_ctl"), ["stop", "-D", dataDirectory, "-m", "immediate", "-w", "-t", "30"], runAsUser, CancellationToken.None, throwOnError: false);
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private Task EnsureDatabaseAsync(CancellationToken cancellationToken) => CreateDatabaseAsync(DatabaseName, cancellationToken);

    private static string FindUnprivilegedUser()
    {
        var users = File.Exists("/etc/passwd")
            ? File.ReadLines("/etc/passwd").Select(line => line.Split(':')[0]).ToHashSet()
            : [];
        return users.Contains("postgres") ? "postgres" : "nobody";
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FindFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<int> RunAsync(
        string fileName, IReadOnlyList<string> arguments, string? runAsUser, CancellationToken cancellationToken, bool throwOnError = true)
    {
        var startInfo = new ProcessStartInfo
        {
            FileName = runAsUser is null ? fileName : "runuser",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The server must not inherit the API's working directory, which the cluster user may not read.
            WorkingDirectory = Path.GetTempPath(),
        };
        if (runAsUser is not null)
        {
            foreach (var arg in new[] { "-u", runAsUser, "--", fileName })
            {
                startInfo.ArgumentList.Add(arg);
            }
        }

        foreach (var arg in arguments)
        {
            startInfo.ArgumentList.Add(arg);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (throwOnError && process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(fileName)} exited with code {process.ExitCode}: {(await stderr).Trim()} {(await stdout).Trim()}");
        }

        return process.ExitCode;
    }
}
