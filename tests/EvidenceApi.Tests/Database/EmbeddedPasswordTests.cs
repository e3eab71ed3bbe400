using System.Diagnostics;
using EvidenceApi.Database;
using Npgsql;

namespace EvidenceApi.Tests.Database;

/// <summary>
/// The embedded cluster requires its generated password (SCRAM-SHA-256), kept in a file only its owner can read: no local
/// user connects without it. A cluster an earlier version made with trust authentication is given one on its next start.
/// </summary>
public sealed class EmbeddedPasswordTests : IAsyncLifetime
{
    private readonly string binaries = EmbeddedPostgres.FindServerBinaries() ?? throw new InvalidOperationException("PostgreSQL server binaries are needed.");
    private readonly string root = Path.Combine(Path.GetTempPath(), "evidence-api-tests-password", Guid.NewGuid().ToString("N")[..8]);

    public Task InitializeAsync() => Task.CompletedTask;

    [Fact]
    public async Task NewCluster_RefusesConnectionsWithoutItsPassword_FromAnyLocalUser()
    {
        await using var server = await EmbeddedPostgres.StartAsync(binaries, root, durable: false, _ => { });

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.PasswordFile));
        }

        Assert.Equal(Environment.IsPrivilegedProcess ? EmbeddedPostgres.ClusterUser : Environment.UserName, await OwnerAsync(server.PasswordFile));
        Assert.DoesNotContain(File.ReadLines(Path.Combine(server.DataDirectory, "pg_hba.conf")), line => !line.StartsWith('#') && line.Contains("trust", StringComparison.Ordinal));
        await AssertPasswordRequiredAsync(server);
    }

    [Fact]
    public async Task TrustClusterOfAnEarlierVersion_GetsAPasswordOnItsNextStart_AndKeepsItsData()
    {
        // What earlier versions made: initdb -A trust, no password.
        var data = Path.Combine(root, "pgdata");
        Directory.CreateDirectory(root);
        if (EmbeddedPostgres.ClusterUser is { } user)
        {
            await RunAsync("chown", ["-R", user, root]);
        }

        await RunAsync(Path.Combine(binaries, "initdb"), ["-D", data, "-U", EmbeddedPostgres.UserName, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], EmbeddedPostgres.ClusterUser);
        await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\n");
        await using (var first = await EmbeddedPostgres.StartAsync(binaries, root, durable: false, _ => { }))
        {
            await using var connection = new NpgsqlConnection(first.ConnectionString());
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')", connection);
            await create.ExecuteNonQueryAsync();
        }

        // Simulate the earlier version's cluster exactly: trust again, no password file.
        var hba = Path.Combine(data, "pg_hba.conf");
        await File.WriteAllTextAsync(hba, (await File.ReadAllTextAsync(hba)).Replace("scram-sha-256", "trust", StringComparison.Ordinal));
        File.Delete(Path.Combine(root, EmbeddedPostgres.PasswordFileName));

        var messages = new List<string>();
        await using var server = await EmbeddedPostgres.StartAsync(binaries, root, durable: false, messages.Add);

        Assert.Contains(messages, m => m.Contains("now requires", StringComparison.Ordinal));
        Assert.True(File.Exists(server.PasswordFile));
        await AssertPasswordRequiredAsync(server);
        await using var check = new NpgsqlConnection(server.ConnectionString());
        await check.OpenAsync();
        await using var read = new NpgsqlCommand("SELECT v FROM kept", check);
        Assert.Equal("still here", await read.ExecuteScalarAsync());
    }

    public async Task DisposeAsync()
    {
        await EmbeddedPostgres.StopClusterAsync(binaries, root);
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A temporary folder; harmless if left.
        }
    }

    private async Task AssertPasswordRequiredAsync(EmbeddedPostgres server)
    {
        // Without the password, with a wrong one: refused. The configuration reload after an upgrade takes a moment.
        var withoutPassword = new NpgsqlConnectionStringBuilder(server.ConnectionString()) { Password = null, Pooling = false }.ConnectionString;
        var wrongPassword = new NpgsqlConnectionStringBuilder(server.ConnectionString()) { Password = "guess", Pooling = false }.ConnectionString;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await ConnectsAsync(withoutPassword) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.False(await ConnectsAsync(withoutPassword), "Connected without the password.");
        Assert.False(await ConnectsAsync(wrongPassword), "Connected with a wrong password.");
        Assert.True(await ConnectsAsync(server.ConnectionString()), "Did not connect with the password.");

        // Another local user, with psql: the takeover the issue describes.
        var psqlUser = Environment.IsPrivilegedProcess ? "nobody" : null;
        var (exitCode, output) = await RunAsync(
            Path.Combine(binaries, "psql"),
            ["-h", "127.0.0.1", "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", EmbeddedPostgres.UserName, "-d", EmbeddedPostgres.DatabaseName, "-w", "-c", "SELECT 1"],
            psqlUser, throwOnError: false);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("password", output, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<bool> ConnectsAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    private static async Task<string> OwnerAsync(string path) => (await RunAsync("stat", ["-c", "%U", path])).Output.Trim();

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, IReadOnlyList<string> arguments, string? runAsUser = null, bool throwOnError = true)
    {
        var start = new ProcessStartInfo(runAsUser is null ? program : "runuser") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        foreach (var argument in (runAsUser is null ? [] : new[] { "-u", runAsUser, "--", program }).Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(!throwOnError || process.ExitCode == 0, $"{program} failed: {output}");
        return (process.ExitCode, output);
    }
}
