using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace EvidenceApi.Tests.Infrastructure;

/// <summary>The built API run as its own process, as it is deployed, with its console output kept.</summary>
public sealed class ApiProcess : IDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();

    private ApiProcess(Process process, int port)
    {
        this.process = process;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        process.OutputDataReceived += (_, line) => Keep(line.Data);
        process.ErrorDataReceived += (_, line) => Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public HttpClient Client { get; }

    /// <summary>Resident memory of the API process now, in bytes (Linux).</summary>
    public long ResidentBytes
    {
        get
        {
            var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
    }

    /// <summary>What the API wrote to stdout and stderr so far.</summary>
    public IReadOnlyList<string> Output => output.ToList();

    /// <summary>Starts the API on a free port.</summary>
    /// <param name="connectionString">The database it serves; null for the embedded server (then it seeds as a newcomer's first run does).</param>
    /// <param name="workingDirectory">Where it is started from (default: beside the binary).</param>
    /// <param name="environment">Settings, as environment variables.</param>
    public static ApiProcess Start(string? connectionString, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = FreePort();
        var start = StartInfo(["--urls", $"http://127.0.0.1:{port}"], workingDirectory, environment, connectionString);
        return new ApiProcess(Process.Start(start) ?? throw new InvalidOperationException("The API did not start."), port);
    }

    /// <summary>Runs a command of the API (create-key, list-keys, ...) to its end; returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunCommandAsync(
        IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null, string? connectionString = null)
    {
        using var process = Process.Start(StartInfo(arguments, workingDirectory, environment, connectionString))
            ?? throw new InvalidOperationException("The command did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Stops the API as a service manager does (SIGTERM) and waits until it has exited; returns its exit code.</summary>
    public int Stop()
    {
        if (!process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                Kill();
            }
        }

        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Waits until the API exits by itself (a start-up that fails); returns its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        process.WaitForExit();
        return process.ExitCode;
    }

    private static ProcessStartInfo StartInfo(
        IReadOnlyList<string> arguments, string? workingDirectory, IReadOnlyDictionary<string, string>? environment, string? connectionString)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "EvidenceApi.dll"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        start.Environment["ConnectionStrings__Evidence"] = connectionString ?? "";
        if (connectionString is not null)
        {
            start.Environment["Database__SeedOnStartup"] = "false";
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return start;
    }

    /// <summary>
    /// Starts the API over a database of its own, copied from the seeded template, waits until it is ready and makes a
    /// key of <paramref name="role"/> in that database.
    /// </summary>
    public static async Task<(ApiProcess Api, string ConnectionString, string Key)> StartSeededAsync(string role)
    {
        var connectionString = await TestPostgres.CreateSeededDatabaseAsync();
        var api = Start(connectionString);
        await api.WaitUntilReadyAsync();
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(connectionString);
        return (api, connectionString, await EvidenceApi.ApiKeys.ApiKeyStore.CreateAsync(dataSource, role, $"test {role}"));
    }

    /// <summary>Waits until the API answers its readiness check (60 s unless told).</summary>
    public async Task WaitUntilReadyAsync(TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, $"The API exited early:\n{string.Join('\n', Output)}");
            try
            {
                if ((await Client.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        Assert.Fail($"The API was not ready within {(within ?? TimeSpan.FromSeconds(60)).TotalSeconds} s:\n{string.Join('\n', Output)}");
    }

    /// <summary>Kills the API at once (as kill -9 would) and waits until all its output has been read.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            Kill();
        }

        Client.Dispose();
        process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            output.Enqueue(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
