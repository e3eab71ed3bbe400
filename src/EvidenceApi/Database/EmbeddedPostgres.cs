using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Npgsql;

namespace EvidenceApi.Database;

/// <summary>
/// A private PostgreSQL cluster in a directory of its own, started with the server binaries found on the machine. Used when
/// no connection string is configured, and by the tests. Its superuser has a generated password (SCRAM-SHA-256) kept in
/// <c>password</c> beside the cluster, readable by its owner only. A process stops the server only if it started it:
/// a command or a second instance that finds the server running uses it and leaves it running.
/// </summary>
public sealed partial class EmbeddedPostgres : IAsyncDisposable
{
    public const string UserName = "evidence";
    public const string DatabaseName = "evidence";
    public const string PasswordFileName = "password";

    private readonly string binDirectory;
    private readonly string? runAsUser;
    private readonly string password;
    private int startedHere;
    private int stopped;

    private EmbeddedPostgres(string binDirectory, string rootDirectory, string? runAsUser, string password, int port, bool startedHere)
    {
        this.binDirectory = binDirectory;
        RootDirectory = rootDirectory;
        DataDirectory = Path.Combine(rootDirectory, "pgdata");
        this.runAsUser = runAsUser;
        this.password = password;
        Port = port;
        this.startedHere = startedHere ? 1 : 0;
    }

    public string RootDirectory { get; }

    public string DataDirectory { get; }

    public int Port { get; }

    /// <summary>The file holding the superuser's password (mode 0600, owned by the cluster's user).</summary>
    public string PasswordFile => Path.Combine(RootDirectory, PasswordFileName);

    /// <summary>The server's own log.</summary>
    public string LogFile => Path.Combine(RootDirectory, "postgres.log");

    /// <summary>True when this process started the server (and so stops it when it ends).</summary>
    public bool StartedHere => Volatile.Read(ref startedHere) == 1;

    /// <summary>The user the server runs as when this process is root (PostgreSQL refuses to run as root); null otherwise.</summary>
    public static string? ClusterUser => Environment.IsPrivilegedProcess ? FindUnprivilegedUser() : null;

    public string ConnectionString(string database = DatabaseName) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = UserName,
        Password = password,
        Database = database,
    }.ConnectionString;

    /// <summary>
    /// Finds a directory holding initdb, pg_ctl and postgres, or null when there is none. A configured directory is the
    /// only one looked in: whoever names one means that server version, not another found elsewhere.
    /// </summary>
    public static string? FindServerBinaries(string? configuredDirectory = null)
    {
        var candidates = new List<string>();
        if (!string.IsNullOrWhiteSpace(configuredDirectory))
        {
            return HasServerBinaries(configuredDirectory) ? configuredDirectory : null;
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

        return candidates.FirstOrDefault(HasServerBinaries);
    }

    private static bool HasServerBinaries(string directory) =>
        File.Exists(Path.Combine(directory, "initdb")) &&
        File.Exists(Path.Combine(directory, "pg_ctl")) &&
        File.Exists(Path.Combine(directory, "postgres"));

    /// <summary>
    /// Creates the cluster under <paramref name="rootDirectory"/> on first use, starts it on a free loopback port (or uses the
    /// one already running there, which it then leaves running) and makes sure the database exists. A cluster made with
    /// trust authentication by an earlier version is given a password first.
    /// </summary>
    public static async Task<EmbeddedPostgres> StartAsync(
        string binDirectory, string rootDirectory, bool durable, Action<string> log, CancellationToken cancellationToken = default)
    {
        var server = await BeginStartAsync(binDirectory, rootDirectory, durable, log, cancellationToken);
        await server.Ready;
        return server;
    }

    /// <summary>
    /// What <see cref="StartAsync"/> does, returning as soon as the port (and so the connection string) is known: creating the
    /// cluster, starting the server and creating the database go on in the background until <see cref="Ready"/> completes,
    /// so the API builds itself meanwhile.
    /// </summary>
    public static async Task<EmbeddedPostgres> BeginStartAsync(
        string binDirectory, string rootDirectory, bool durable, Action<string> log, CancellationToken cancellationToken = default)
    {
        rootDirectory = Path.GetFullPath(rootDirectory);
        var runAsUser = ClusterUser;
        var dataDirectory = Path.Combine(rootDirectory, "pgdata");
        var passwordFile = Path.Combine(rootDirectory, PasswordFileName);
        await PrepareRootAsync(rootDirectory, runAsUser, cancellationToken);

        var fresh = !File.Exists(Path.Combine(dataDirectory, "PG_VERSION"));
        var trusting = !fresh && UsesTrust(dataDirectory);
        if (fresh || (trusting && !File.Exists(passwordFile)))
        {
            await WritePasswordFileAsync(passwordFile, runAsUser, cancellationToken);
        }
        else if (!File.Exists(passwordFile))
        {
            throw new InvalidOperationException(
                $"The password of the embedded PostgreSQL cluster in {dataDirectory} is missing ({passwordFile} does not exist). " +
                $"Put the file back, or remove {rootDirectory} to start with a new cluster (its data is lost; see backup and restore).");
        }

        var password = (await File.ReadAllTextAsync(passwordFile, cancellationToken)).Trim();
        var running = fresh ? null : FindRunningServer(dataDirectory);
        int port;
        if (running is not null)
        {
            port = running.Value.Port;
        }
        else
        {
            // Keep the port of earlier runs when it is free, so that connection strings handed out stay valid.
            var portFile = Path.Combine(rootDirectory, "port");
            port = File.Exists(portFile) && int.TryParse(await File.ReadAllTextAsync(portFile, cancellationToken), out var previous) && IsFree(previous)
                ? previous
                : FindFreePort();
            await File.WriteAllTextAsync(portFile, port.ToString(CultureInfo.InvariantCulture), cancellationToken);
        }

        var server = new EmbeddedPostgres(binDirectory, rootDirectory, runAsUser, password, port, startedHere: false);
        server.Ready = server.BringUpAsync(fresh, durable, adopt: running is not null, trusting, log, cancellationToken);
        return server;
    }

    /// <summary>Completes when the server accepts connections and the database exists; faults with the reason when it cannot.</summary>
    public Task Ready { get; private set; } = Task.CompletedTask;

    private async Task BringUpAsync(bool fresh, bool durable, bool adopt, bool trusting, Action<string> log, CancellationToken cancellationToken)
    {
        if (fresh)
        {
            log($"Creating a PostgreSQL cluster in {DataDirectory} (first run)");
            var initdbArgs = new List<string>
            {
                "-D", DataDirectory, "-U", UserName, "--auth=scram-sha-256", $"--pwfile={PasswordFile}", "-E", "UTF8", "--locale=C",
            };
            if (!durable)
            {
                initdbArgs.Add("--no-sync");
            }

            await RunAsync(Path.Combine(binDirectory, "initdb"), initdbArgs, runAsUser, cancellationToken);
            var settings = "\n# EvidenceApi embedded server\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\npassword_encryption = 'scram-sha-256'\n";
            if (!durable)
            {
                settings += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
            }

            await File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.conf"), settings, cancellationToken);
        }

        if (adopt)
        {
            log($"Using the PostgreSQL server already running on 127.0.0.1:{Port} (data in {DataDirectory}); it is left running");
        }
        else
        {
            log($"Starting PostgreSQL on 127.0.0.1:{Port} (data in {DataDirectory})");
            await StartServerAsync(cancellationToken);
        }

        if (trusting)
        {
            await RequirePasswordAsync(log, cancellationToken);
        }

        await CreateDatabaseAsync(DatabaseName, cancellationToken);
    }

    /// <summary>
    /// Creates (once) a hot standby of <paramref name="primary"/> under <paramref name="rootDirectory"/> with
    /// pg_basebackup -R, streaming from the primary, and starts it on a port of its own.
    /// </summary>
    public static async Task<EmbeddedPostgres> StartStandbyAsync(
        string binDirectory, string rootDirectory, EmbeddedPostgres primary, Action<string> log, CancellationToken cancellationToken = default)
    {
        rootDirectory = Path.GetFullPath(rootDirectory);
        var runAsUser = ClusterUser;
        await PrepareRootAsync(rootDirectory, runAsUser, cancellationToken);
        var dataDirectory = Path.Combine(rootDirectory, "pgdata");
        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            // The standby is a copy of the primary, roles and passwords included.
            await WritePasswordFileAsync(Path.Combine(rootDirectory, PasswordFileName), runAsUser, cancellationToken, primary.password);
            log($"Cloning the primary on port {primary.Port} into a standby in {dataDirectory}");
            await RunAsync(Path.Combine(binDirectory, "pg_basebackup"),
                ["-h", "127.0.0.1", "-p", primary.Port.ToString(CultureInfo.InvariantCulture), "-U", UserName, "-D", dataDirectory, "-R", "-X", "stream", "-c", "fast"],
                runAsUser, cancellationToken, environment: new Dictionary<string, string> { ["PGPASSWORD"] = primary.password });
        }

        return await StartAsync(binDirectory, rootDirectory, durable: false, log, cancellationToken);
    }

    /// <summary>Stops the server of the cluster under <paramref name="rootDirectory"/>, whoever started it.</summary>
    public static Task StopClusterAsync(string binDirectory, string rootDirectory) =>
        RunAsync(Path.Combine(binDirectory, "pg_ctl"), ["stop", "-D", Path.Combine(Path.GetFullPath(rootDirectory), "pgdata"), "-m", "fast", "-w", "-t", "30"],
            ClusterUser, CancellationToken.None, throwOnError: false);

    /// <summary>True when the server's postmaster process is alive.</summary>
    public bool IsRunning() => FindRunningServer(DataDirectory) is not null;

    /// <summary>
    /// Starts the server again after it stopped (or died) under a running API, on the same port, so the connection string
    /// stays valid. Does nothing when it is running. Throws with the reason when it cannot start.
    /// </summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        if (IsRunning())
        {
            return;
        }

        Interlocked.Exchange(ref stopped, 0);
        await StartServerAsync(cancellationToken);
    }

    /// <summary>Creates a database if it does not exist.</summary>
    public async Task CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenWhenAcceptingAsync(ConnectionString("postgres"), cancellationToken);
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

    /// <summary>Stops the server, if this process started it; a server found running is left running for whoever started it.</summary>
    public async Task StopAsync()
    {
        // A start still under way finishes first, so that a server this process is starting is stopped, not left behind.
        await Ready.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        if (!StartedHere || Interlocked.Exchange(ref stopped, 1) == 1)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await RunAsync(Path.Combine(binDirectory, "pg_ctl"), ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "30"], runAsUser, CancellationToken.None, throwOnError: false);
    }

    /// <summary>Stops the server the way a crash would (immediate mode: no checkpoint, recovery on the next start).</summary>
    public async Task CrashAsync()
    {
        Interlocked.Exchange(ref stopped, 1);
        NpgsqlConnection.ClearAllPools();
        await RunAsync(Path.Combine(binDirectory, "pg_ctl"), ["stop", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "30"], runAsUser, CancellationToken.None, throwOnError: false);
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>
    /// Whether <paramref name="runAsUser"/> can reach <paramref name="directory"/> once it is created and given to it: it
    /// needs to pass through every folder above it, which a private home folder (mode 0700) does not allow.
    /// </summary>
    public static async Task<bool> CanReachAsync(string directory, string runAsUser, CancellationToken cancellationToken = default)
    {
        var existing = Path.GetDirectoryName(Path.GetFullPath(directory));
        while (existing is not null && !Directory.Exists(existing))
        {
            existing = Path.GetDirectoryName(existing);
        }

        return existing is null || await RunAsync("test", ["-x", existing], runAsUser, cancellationToken, throwOnError: false) == 0;
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        var port = Port.ToString(CultureInfo.InvariantCulture);

        // A postmaster that was killed stays a zombie until its parent reaps it, and PostgreSQL will not start while its pid
        // exists. Where nothing reaps promptly (a container without an init), that takes seconds.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (UnreapedPostmaster(DataDirectory) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, cancellationToken);
        }

        try
        {
            await RunAsync(Path.Combine(binDirectory, "pg_ctl"), ["start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", $"-p {port}"], runAsUser, cancellationToken);
        }
        catch (InvalidOperationException) when (FindRunningServer(DataDirectory)?.Port == Port)
        {
            // Another process started it at the same moment: use theirs.
            return;
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"PostgreSQL did not start: {ex.Message} {LastLogLines()}".Trim(), ex);
        }

        Interlocked.Exchange(ref startedHere, 1);

        // Connections pooled from an earlier life of this server on the same port are dead.
        foreach (var database in new[] { "postgres", DatabaseName })
        {
            using var stale = new NpgsqlConnection(ConnectionString(database));
            NpgsqlConnection.ClearPool(stale);
        }
    }

    /// <summary>
    /// An earlier version created the cluster with trust authentication: any local user could connect as its superuser.
    /// Sets the generated password, then requires it (scram-sha-256) for every connection.
    /// </summary>
    private async Task RequirePasswordAsync(Action<string> log, CancellationToken cancellationToken)
    {
        var withoutPassword = new NpgsqlConnectionStringBuilder(ConnectionString("postgres")) { Password = null }.ConnectionString;
        await using (var connection = await OpenWhenAcceptingAsync(withoutPassword, cancellationToken))
        {
            // ALTER ROLE takes no parameters; the password is hexadecimal, made by this code.
            await using var command = new NpgsqlCommand(
                $"SET password_encryption = 'scram-sha-256'; ALTER ROLE \"{UserName}\" PASSWORD '{password}'", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var hba = Path.Combine(DataDirectory, "pg_hba.conf");
        var lines = (await File.ReadAllLinesAsync(hba, cancellationToken))
            .Select(line => line.TrimStart().StartsWith('#') ? line : TrustMethod().Replace(line, "scram-sha-256"));
        await File.WriteAllLinesAsync(hba, lines, cancellationToken);
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync(cancellationToken);
            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
            await reload.ExecuteNonQueryAsync(cancellationToken);
        }

        NpgsqlConnection.ClearAllPools();
        log($"The embedded cluster accepted connections without a password; it now requires the one in {PasswordFile}");
    }

    /// <summary>Opens a connection, waiting while the server is still starting (crash recovery can take a while).</summary>
    private static async Task<NpgsqlConnection> OpenWhenAcceptingAsync(string connectionString, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var connection = new NpgsqlConnection(connectionString);
            try
            {
                await connection.OpenAsync(cancellationToken);
                return connection;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CannotConnectNow && DateTime.UtcNow < deadline)
            {
                await connection.DisposeAsync();
                await Task.Delay(200, cancellationToken);
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }
    }

    private static bool UsesTrust(string dataDirectory)
    {
        var hba = Path.Combine(dataDirectory, "pg_hba.conf");
        return File.Exists(hba) && File.ReadLines(hba).Any(line => !line.TrimStart().StartsWith('#') && TrustMethod().IsMatch(line));
    }

    [GeneratedRegex(@"(?<=\s)trust(?=\s|$)")]
    private static partial Regex TrustMethod();

    /// <summary>The cluster's folder: private to the user the server runs as.</summary>
    private static async Task PrepareRootAsync(string rootDirectory, string? runAsUser, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(rootDirectory);
            return;
        }

        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(rootDirectory, Private);
        if (runAsUser is not null)
        {
            // initdb and postgres refuse to run as root: the cluster belongs to an unprivileged user.
            await RunAsync("chown", ["-R", runAsUser, rootDirectory], null, cancellationToken);
        }

        File.SetUnixFileMode(rootDirectory, Private);
    }

    private static async Task WritePasswordFileAsync(string path, string? runAsUser, CancellationToken cancellationToken, string? password = null)
    {
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var writer = new StreamWriter(path, options))
        {
            await writer.WriteLineAsync(password ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        }

        if (runAsUser is not null)
        {
            await RunAsync("chown", [runAsUser, path], null, cancellationToken);
        }
    }

    /// <summary>The postmaster's pid and port from postmaster.pid, when that process is alive.</summary>
    private static (int Pid, int Port)? FindRunningServer(string dataDirectory)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(Path.Combine(dataDirectory, "postmaster.pid"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return lines.Length >= 4
            && int.TryParse(lines[0], CultureInfo.InvariantCulture, out var pid)
            && int.TryParse(lines[3], CultureInfo.InvariantCulture, out var port)
            && IsPostgresAlive(pid)
            ? (pid, port)
            : null;
    }

    /// <summary>Whether postmaster.pid names a process that died but has not been reaped yet (a zombie).</summary>
    private static bool UnreapedPostmaster(string dataDirectory)
    {
        try
        {
            var pid = File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First();
            return ProcessState(int.Parse(pid, CultureInfo.InvariantCulture)) is 'Z' or 'X';
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The state letter of a process (R, S, Z, ...) from /proc, or null when there is no such process or no /proc.</summary>
    private static char? ProcessState(int pid)
    {
        try
        {
            // pid (comm) state ...
            var text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return text[(text.LastIndexOf(')') + 2)..].FirstOrDefault();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>
    /// A killed postmaster leaves postmaster.pid behind, and where nothing reaps it, a zombie: alive means a process with
    /// that pid exists, is a postgres and is not a zombie.
    /// </summary>
    private static bool IsPostgresAlive(int pid)
    {
        var stat = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat";
        if (Directory.Exists("/proc/self"))
        {
            try
            {
                // pid (comm) state ...
                var text = File.ReadAllText(stat);
                var open = text.IndexOf('(', StringComparison.Ordinal);
                var close = text.LastIndexOf(')');
                var name = text[(open + 1)..close];
                var state = text[(close + 2)..].FirstOrDefault();
                return name.StartsWith("postgres", StringComparison.Ordinal) && state is not ('Z' or 'X');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
            {
                return false;
            }
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private string LastLogLines()
    {
        try
        {
            var tail = File.ReadLines(LogFile).TakeLast(5).ToList();
            return tail.Count == 0 ? "" : $"The end of its log ({LogFile}): {string.Join(" | ", tail)}";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

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

    private static Task<int> RunAsync(
        string fileName, IReadOnlyList<string> arguments, string? runAsUser, CancellationToken cancellationToken,
        bool throwOnError = true, IReadOnlyDictionary<string, string>? environment = null) =>
        ClientPrograms.RunAsync(fileName, arguments, environment, cancellationToken, runAsUser, throwOnError);
}
