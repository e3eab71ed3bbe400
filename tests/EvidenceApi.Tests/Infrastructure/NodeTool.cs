using System.Diagnostics;
using System.Security.Cryptography;

namespace EvidenceApi.Tests.Infrastructure;

/// <summary>
/// An npm tool pinned by the package.json and package-lock.json in a folder of the test output, installed once per
/// machine into a cache folder named after the lock file's hash (npm ci; later runs reuse it without the network).
/// </summary>
public static class NodeTool
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    /// <summary>The tool's node_modules/.bin folder, installing it first if needed.</summary>
    public static async Task<string> InstallAsync(string name)
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Tools", name);
        var lockFile = Path.Combine(source, "package-lock.json");
        var hash = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(lockFile)))[..16];
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        var target = Path.Combine(cache, "evidence-api-tests", $"{name}-{hash}");
        var bin = Path.Combine(target, "node_modules", ".bin");
        var done = Path.Combine(target, ".installed");

        await InstallLock.WaitAsync();
        try
        {
            if (File.Exists(done))
            {
                return bin;
            }

            Directory.CreateDirectory(target);
            File.Copy(Path.Combine(source, "package.json"), Path.Combine(target, "package.json"), overwrite: true);
            File.Copy(lockFile, Path.Combine(target, "package-lock.json"), overwrite: true);
            var (exit, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], target, TimeSpan.FromMinutes(10));
            Assert.True(exit == 0, $"npm ci for {name} failed ({exit}):\n{output}");
            await File.WriteAllTextAsync(done, DateTime.UtcNow.ToString("O"));
            return bin;
        }
        finally
        {
            InstallLock.Release();
        }
    }

    /// <summary>Runs a program to its end (or kills it after <paramref name="timeout"/>); its exit code and all it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string program, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, $"{program} took longer than {timeout}:\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, $"{await stdout}\n{await stderr}".Trim());
    }
}
