using System.Diagnostics;

namespace EvidenceApi.Database;

/// <summary>Runs PostgreSQL's programs (initdb, pg_ctl, pg_dump, ...) and reports their errors in their own words.</summary>
internal static class ClientPrograms
{
    /// <summary>
    /// Runs a program, as <c>runAsUser</c> when given (with runuser), and returns its exit code; with <c>throwOnError</c>, a
    /// failure is an <see cref="InvalidOperationException"/> holding the program's output.
    /// </summary>
    public static async Task<int> RunAsync(
        string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken,
        string? runAsUser = null, bool throwOnError = true)
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

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (throwOnError && process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(fileName)} exited with code {process.ExitCode}: {(await stderr).Trim()} {(await stdout).Trim()}".Trim());
        }

        return process.ExitCode;
    }
}
