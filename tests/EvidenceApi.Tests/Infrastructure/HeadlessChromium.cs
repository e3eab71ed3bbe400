using System.Diagnostics;

namespace EvidenceApi.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium, headless, as a test's eyes: it renders a file and saves a screenshot. Never downloads a browser:
/// it uses CHROMIUM_PATH, /usr/bin/chromium or chromium on PATH (<c>apt-get install chromium</c>; .ci/run installs it).
/// </summary>
public static class HeadlessChromium
{
    public static string Executable =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } configured ? configured
        : File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium"
        : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(directory => Path.Combine(directory, "chromium")).FirstOrDefault(File.Exists)
          ?? throw new InvalidOperationException("Chromium was not found: install it (apt-get install chromium) or set CHROMIUM_PATH.");

    /// <summary>Where tests keep what they render for people to look at (TestResults/artifacts, or EVIDENCE_TEST_ARTIFACTS).</summary>
    public static string ArtifactsDirectory
    {
        get
        {
            var directory = Environment.GetEnvironmentVariable("EVIDENCE_TEST_ARTIFACTS") is { Length: > 0 } configured
                ? configured
                : Path.Combine(ProjectDirectory(), "TestResults", "artifacts");
            Directory.CreateDirectory(directory);
            return directory;
        }
    }

    /// <summary>Renders <paramref name="file"/> in a <paramref name="width"/> × <paramref name="height"/> window and saves it as PNG.</summary>
    public static async Task ScreenshotAsync(string file, int width, int height, string png, double scale = 1)
    {
        var profile = Directory.CreateTempSubdirectory("evidence-chromium-");
        try
        {
            var start = new ProcessStartInfo(Executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                $"--user-data-dir={profile.FullName}", $"--force-device-scale-factor={scale.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
                $"--window-size={width},{height}", $"--screenshot={png}", new Uri(file).AbsoluteUri,
            })
            {
                start.ArgumentList.Add(argument);
            }

            File.Delete(png);
            using var process = Process.Start(start) ?? throw new InvalidOperationException("Chromium did not start.");
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("Chromium took more than two minutes to take a screenshot.");
            }

            if (!File.Exists(png))
            {
                throw new InvalidOperationException($"Chromium saved no screenshot (exit {process.ExitCode}): {await output} {await errors}");
            }
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    private static string ProjectDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EvidenceApi.Tests.csproj")))
            {
                return directory.FullName;
            }
        }

        return AppContext.BaseDirectory;
    }
}
