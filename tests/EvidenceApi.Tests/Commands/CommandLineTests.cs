using System.Net;
using System.Text.RegularExpressions;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Commands;

/// <summary>The commands, run as an operator runs them, beside a running API on the same embedded server.</summary>
[Collection(EmbeddedApiGroup.Name)]
public sealed partial class CommandLineTests(EmbeddedApi embedded)
{
    [Fact]
    public async Task Keys_CreatedListedAndRevokedOnTheCommandLine_AreHonouredByTheRunningApi()
    {
        var (exitCode, output) = await embedded.RunAsync("create-key", "--role", "contributor", "--name", "Dr. Command Line", "--expires-in", "90d");
        Assert.True(exitCode == 0, output);
        var key = KeyPattern().Match(output).Value;
        var id = IdPattern().Match(output).Groups[1].Value;
        Assert.NotEmpty(key);
        Assert.Contains("valid until", output, StringComparison.Ordinal);
        var client = embedded.Api.Client;
        Assert.Equal(HttpStatusCode.OK, (await Send(client, key)).StatusCode);

        (exitCode, output) = await embedded.RunAsync("list-keys");
        Assert.True(exitCode == 0, output);
        var line = output.Split('\n').Single(l => l.Contains("Dr. Command Line", StringComparison.Ordinal));
        Assert.Contains("contributor", line, StringComparison.Ordinal);
        Assert.Contains("active", line, StringComparison.Ordinal);
        Assert.Contains(DateTime.UtcNow.AddDays(90).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), line, StringComparison.Ordinal);
        Assert.DoesNotContain(key, output, StringComparison.Ordinal);
        Assert.Contains("LAST USED", output, StringComparison.Ordinal);

        (exitCode, output) = await embedded.RunAsync("revoke-key", id, "--reason", "Rotated");
        Assert.True(exitCode == 0, output);
        var refused = await Send(client, key);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("revoked", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A leaked key can be revoked by the key itself.
        (exitCode, output) = await embedded.RunAsync("create-key", "--role", "contributor", "--name", "Leaked");
        var leaked = KeyPattern().Match(output).Value;
        (exitCode, output) = await embedded.RunAsync("revoke-key", leaked);
        Assert.True(exitCode == 0, output);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(client, leaked)).StatusCode);

        (exitCode, output) = await embedded.RunAsync("revoke-key", "999999");
        Assert.Equal(1, exitCode);
        Assert.Contains("No key matches", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportSeedsAndBackup_WhileTheApiServes_WriteTheirFilesAndLeaveItServing()
    {
        var folder = Directory.CreateTempSubdirectory("evidence-commands-");
        try
        {
            var (exitCode, output) = await embedded.RunAsync("export-seeds", Path.Combine(folder.FullName, "seeds"));
            Assert.True(exitCode == 0, output);
            Assert.Contains($"Wrote {Directory.GetFiles(TestPostgres.SeedDirectory, "*.json").Length} seed files", output, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(folder.FullName, "seeds", "2022-cheng-umsc-phase-1-2a.json")));

            (exitCode, output) = await embedded.RunAsync("backup", Path.Combine(folder.FullName, "evidence.dump"));
            Assert.True(exitCode == 0, output);
            Assert.True(new FileInfo(Path.Combine(folder.FullName, "evidence.dump")).Length > 10_000);

            Assert.Equal(HttpStatusCode.OK, (await embedded.Api.Client.GetAsync("/health/ready")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await embedded.Api.Client.GetAsync("/v1/studies?limit=1")).StatusCode);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ReadmeCommand_RunFromAnotherFolder_TakesRelativePathsFromThatFolder()
    {
        // README command 1 form (dotnet run --project), with a relative path as an operator types it.
        var checkout = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(checkout.FullName, "EvidenceApi.sln")))
        {
            checkout = checkout.Parent ?? throw new InvalidOperationException("The tests run outside the checkout.");
        }

        var folder = Directory.CreateTempSubdirectory("evidence-relative-");
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("dotnet",
                ["run", "--no-build", "--project", Path.Combine(checkout.FullName, "src", "EvidenceApi"), "--", "backup", "relative.dump"])
            {
                WorkingDirectory = folder.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var (name, value) in embedded.Environment)
            {
                start.Environment[name] = value;
            }

            using var process = System.Diagnostics.Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, await output + await errors);
            Assert.True(File.Exists(Path.Combine(folder.FullName, "relative.dump")), await output);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(new[] { "create-key", "--role", "admin" }, "admin")]
    [InlineData(new[] { "create-key", "--name", "No role" }, "--role")]
    [InlineData(new[] { "create-key", "--role", "contributor", "--expires-in", "soon" }, "90d")]
    [InlineData(new[] { "create-kye" }, "not a command")]
    [InlineData(new[] { "revoke-key" }, "key")]
    [InlineData(new[] { "backup" }, "file")]
    public async Task Mistakes_AreExplained_WithExitCode2(string[] arguments, string explanation)
    {
        var (exitCode, output) = await embedded.RunAsync(arguments);
        Assert.True(exitCode == 2, output);
        Assert.Contains(explanation, output, StringComparison.Ordinal);
        Assert.Contains("--help", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsEveryCommand()
    {
        var (exitCode, output) = await embedded.RunAsync("--help");
        Assert.Equal(0, exitCode);
        foreach (var command in new[] { "seed", "create-key", "list-keys", "revoke-key", "export-seeds", "backup", "restore" })
        {
            Assert.Contains(command, output, StringComparison.Ordinal);
        }
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/submissions");
        request.Headers.Add("X-Api-Key", key);
        return client.SendAsync(request);
    }

    [GeneratedRegex(@"ek_con_[A-Za-z0-9_-]{20,}")]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"Created contributor key (\d+)")]
    private static partial Regex IdPattern();
}
