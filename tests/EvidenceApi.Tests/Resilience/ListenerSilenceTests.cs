using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Dapper;
using EvidenceApi.Caching;
using EvidenceApi.Studies;
using EvidenceApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EvidenceApi.Tests.Resilience;

/// <summary>
/// A connection to the database that hangs instead of closing (here: its server process stopped with SIGSTOP) is
/// noticed within the silence limit: from then on nothing is served from cache, until the database is heard again.
/// </summary>
public sealed class ListenerSilenceTests(ITestOutputHelper output) : DedicatedClusterTests
{
    private const string Cheng = "cheng-2022-umsc-psoriasis-phase-1-2a";
    private const string StudyPath = $"/v1/studies/{Cheng}";

    // The stated bound (DataVersion.SilenceLimit plus one watchdog tick is 2.75 s), with a second for a busy machine.
    private static readonly TimeSpan Bound = DataVersion.SilenceLimit + TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task ApiServerProcessesStopped_OldAnswerIsNotServedPastTheSilenceLimit_AndCachingResumesAfter()
    {
        var client = Api.CreateClient();
        using var probe = new CacheProbe(Api.Services);
        var original = await (await probe.WaitUntilServedFromCacheAsync(client, StudyPath)).ShouldBeOkAsync<StudyDetail>();

        await using var control = await ServerProcesses.OpenControlAsync(Database.ConnectionString);
        await using var frozen = new ServerProcesses();
        var backends = await ServerProcesses.ClientBackendsAsync(control);
        Assert.Contains(await ServerProcesses.ListenerBackendAsync(control), backends);

        var stoppedAt = Stopwatch.StartNew();
        await frozen.StopAsync(backends);
        await control.ExecuteAsync("UPDATE studies SET title = 'Changed while the API could not hear' WHERE key = @Key", new { Key = Cheng });

        // Read on for a while: the old title may come from memory only within the bound.
        var oldAnswers = new List<TimeSpan>();
        while (stoppedAt.Elapsed < Bound + TimeSpan.FromSeconds(2))
        {
            var sentAt = stoppedAt.Elapsed;
            using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            try
            {
                var response = await client.GetAsync(StudyPath, giveUp.Token);
                if (response.StatusCode == HttpStatusCode.OK
                    && (await response.Content.ReadFromJsonAsync<StudyDetail>(HttpAssertions.Json))!.Title == original.Title)
                {
                    oldAnswers.Add(sentAt);
                }
            }
            catch (OperationCanceledException)
            {
                // The database hangs and the cache is off: no answer is the right answer.
            }

            await Task.Delay(100);
        }

        output.WriteLine($"Old answers at: {string.Join(", ", oldAnswers.Select(t => $"{t.TotalSeconds:F2} s"))}");
        Assert.All(oldAnswers, at => Assert.True(at < Bound, $"The old study was served from cache {at.TotalSeconds:F2} s after the server processes stopped"));

        await frozen.ContinueAllAsync();
        await DatabaseOutageTests.EventuallyAsync(
            async () => (await (await client.GetAsync(StudyPath)).ShouldBeOkAsync<StudyDetail>()).Title == "Changed while the API could not hear",
            TimeSpan.FromSeconds(30));
        await probe.WaitUntilServedFromCacheAsync(client, StudyPath);
    }

    [Fact]
    public async Task ListenerCutOff_AChangeIsSeenWithinTheSilenceLimit_ThoughItsNotificationCannotArrive()
    {
        var client = Api.CreateClient();
        using var probe = new CacheProbe(Api.Services);
        await probe.WaitUntilServedFromCacheAsync(client, StudyPath);

        // Only the listener's server process stops: queries still work, notifications no longer arrive.
        await using var control = await ServerProcesses.OpenControlAsync(Database.ConnectionString);
        await using var frozen = new ServerProcesses();
        var timer = Stopwatch.StartNew();
        await frozen.StopAsync([await ServerProcesses.ListenerBackendAsync(control)]);
        await control.ExecuteAsync("UPDATE studies SET title = 'Changed unheard' WHERE key = @Key", new { Key = Cheng });

        await DatabaseOutageTests.EventuallyAsync(
            async () => (await (await client.GetAsync(StudyPath)).ShouldBeOkAsync<StudyDetail>()).Title == "Changed unheard", Bound + TimeSpan.FromSeconds(5));
        output.WriteLine($"Seen after {timer.Elapsed.TotalSeconds:F2} s");
        Assert.True(timer.Elapsed < Bound, $"The change was seen only after {timer.Elapsed.TotalSeconds:F2} s");

        await frozen.ContinueAllAsync();
        await probe.WaitUntilServedFromCacheAsync(client, StudyPath);
    }
}
