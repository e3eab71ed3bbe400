using System.Diagnostics;
using Dapper;
using EvidenceApi.Database;
using Npgsql;

namespace EvidenceApi.Tests.Resilience;

/// <summary>
/// Freezes PostgreSQL server processes (SIGSTOP) and thaws them (SIGCONT): a stopped process keeps its sockets open,
/// so its clients see a connection that hangs instead of one that closes, as in a network partition.
/// </summary>
public sealed class ServerProcesses : IAsyncDisposable
{
    private readonly List<int> stopped = [];

    /// <summary>The server processes of the client sessions in the database of <paramref name="control"/>, other than its own.</summary>
    public static async Task<int[]> ClientBackendsAsync(NpgsqlConnection control, bool includeListener = true) =>
        (await control.QueryAsync<int>("""
            SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
              AND (@IncludeListener OR application_name <> @Listener)
            """, new { IncludeListener = includeListener, Listener = ListenerDataSource.ApplicationName })).ToArray();

    /// <summary>The server process of the API's change listener (there must be exactly one).</summary>
    public static async Task<int> ListenerBackendAsync(NpgsqlConnection control) =>
        await control.QuerySingleAsync<int>(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = @Listener",
            new { Listener = ListenerDataSource.ApplicationName });

    /// <summary>The postmaster of the cluster in <paramref name="dataDirectory"/>: while it is stopped, new connections hang.</summary>
    public static int Postmaster(string dataDirectory) =>
        int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A control connection outside any pool, which the test keeps while it stops the others.</summary>
    public static async Task<NpgsqlConnection> OpenControlAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task StopAsync(IEnumerable<int> pids)
    {
        var list = pids.ToList();
        await SignalAsync("STOP", list);
        stopped.AddRange(list);
    }

    public async Task ContinueAllAsync()
    {
        await SignalAsync("CONT", stopped);
        stopped.Clear();
    }

    public ValueTask DisposeAsync() => new(ContinueAllAsync());

    private static async Task SignalAsync(string signal, List<int> pids)
    {
        if (pids.Count == 0)
        {
            return;
        }

        var start = new ProcessStartInfo("kill") { RedirectStandardError = true };
        start.ArgumentList.Add($"-{signal}");
        foreach (var pid in pids)
        {
            start.ArgumentList.Add(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var kill = Process.Start(start) ?? throw new InvalidOperationException("kill did not start");
        await kill.WaitForExitAsync();
        Assert.True(kill.ExitCode == 0, $"kill -{signal} failed: {await kill.StandardError.ReadToEndAsync()}");
    }
}
