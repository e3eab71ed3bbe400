using System.Diagnostics;
using System.Net;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Hosting;

/// <summary>
/// Commands and other instances share the embedded server of a running API: they never stop a server they did not start,
/// and a server that dies under a running API is started again by it.
/// </summary>
[Collection(EmbeddedApiGroup.Name)]
public sealed class SharedEmbeddedServerTests(EmbeddedApi embedded)
{
    [Fact]
    public async Task Command_WhileTheApiServes_UsesItsServerAndLeavesItRunning()
    {
        var postmaster = embedded.PostmasterPid;

        var (exitCode, output) = await embedded.RunAsync("create-key", "--role", "contributor", "--name", "While serving");

        Assert.True(exitCode == 0, output);
        Assert.Contains("left running", output, StringComparison.Ordinal);
        Assert.Equal(postmaster, embedded.PostmasterPid);
        await AssertServingAsync(embedded.Api.Client);
    }

    [Fact]
    public async Task SecondInstance_ThatStops_LeavesTheServerOfTheFirstRunning()
    {
        var postmaster = embedded.PostmasterPid;
        using (var second = ApiProcess.Start(null, environment: embedded.Environment))
        {
            await second.WaitUntilReadyAsync();
            Assert.Equal(HttpStatusCode.OK, (await second.Client.GetAsync("/v1/studies?limit=1")).StatusCode);
            Assert.Equal(0, second.Stop());
        }

        Assert.Equal(postmaster, embedded.PostmasterPid);
        await AssertServingAsync(embedded.Api.Client);
    }

    [Fact]
    public async Task EmbeddedServerKilled_IsStartedAgainByTheRunningApi()
    {
        var client = embedded.Api.Client;
        await AssertServingAsync(client);
        var postmaster = embedded.PostmasterPid;

        using (var kill = Process.Start("kill", ["-KILL", postmaster.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        // A killed postmaster stays a zombie until something reaps it, and PostgreSQL will not start while it does:
        // the bound is generous, the usual case is seconds.
        var timer = Stopwatch.StartNew();
        while (!(RunningPostmaster() is { } restarted && restarted != postmaster && await ServesAsync(client)))
        {
            Assert.True(timer.Elapsed < TimeSpan.FromMinutes(2), $"Not serving again after {timer.Elapsed}:\n{string.Join('\n', embedded.Api.Output.TakeLast(30))}");
            await Task.Delay(250);
        }

        Assert.NotEqual(postmaster, embedded.PostmasterPid);
        Assert.Contains(embedded.Api.Output, line => line.Contains("stopped; starting it again", StringComparison.Ordinal));
        await AssertServingAsync(client);
    }

    private int? RunningPostmaster()
    {
        try
        {
            return embedded.PostmasterPid;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static async Task<bool> ServesAsync(HttpClient client)
    {
        try
        {
            return (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK
                && (await client.GetAsync("/v1/studies?limit=1&includeTotal=false")).StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>Ready, and reads answered, for a couple of seconds (long enough for a stopped server to show).</summary>
    private static async Task AssertServingAsync(HttpClient client)
    {
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/studies?limit=1&offset={i}")).StatusCode);
            await Task.Delay(250);
        }
    }
}
