using System.Net;
using System.Net.Http.Json;
using System.Text;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Submissions;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EvidenceApi.Tests.Resilience;

/// <summary>Two instances on one database: a write through one is seen by the other's cache at once; keys never reach the logs.</summary>
public sealed class ScaleOutTests(EvidenceApiFactory first) : IClassFixture<EvidenceApiFactory>
{
    [Fact]
    public async Task PublishThroughOneInstance_IsVisibleThroughAnother()
    {
        await using var second = TestApi.For(first.ConnectionString);
        var reader = second.CreateClient();
        var title = $"Two instances {Guid.NewGuid():N}";

        // The second instance must really serve this answer from memory before the publish, or a broken invalidation
        // would go unnoticed (its first read would simply query the database).
        using var probe = new CacheProbe(second.Services);
        var before = await (await probe.WaitUntilServedFromCacheAsync(reader, "/v1/studies?design=case_report&limit=200")).ShouldBeOkAsync<Page<StudySummary>>();
        Assert.DoesNotContain(before.Items, s => s.Title == title);

        var contributor = first.CreateClient(await first.CreateKeyAsync("contributor"));
        var curator = first.CreateClient(await first.CreateKeyAsync("curator"));
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.scaleout.{Guid.NewGuid():N}";
        report["title"] = title;
        var submitted = await (await contributor.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json")))
            .Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json);
        (await curator.PostAsJsonAsync($"/v1/submissions/{submitted!.Id}/publish", new { reason = "ok" })).EnsureSuccessStatusCode();

        var timer = System.Diagnostics.Stopwatch.StartNew();
        await DatabaseOutageTests.EventuallyAsync(async () =>
            (await (await reader.GetAsync("/v1/studies?design=case_report&limit=200")).ShouldBeOkAsync<Page<StudySummary>>()).Items.Any(s => s.Title == title),
            TimeSpan.FromSeconds(2));
        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task ApiKeys_NeverAppearInLogs()
    {
        var logs = new CapturingLoggerProvider();
        await using var app = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:Evidence", first.ConnectionString);
            builder.UseSetting("Database:SeedOnStartup", "false");
            builder.UseSetting("Logging:LogLevel:Default", "Trace");
            builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(logs));
        });
        var key = await first.CreateKeyAsync("contributor");
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);

        await client.GetAsync("/v1/submissions");
        await client.PostAsync("/v1/case-reports", new StringContent("{ broken", Encoding.UTF8, "application/json"));
        var wrong = app.CreateClient();
        wrong.DefaultRequestHeaders.Add("X-Api-Key", key + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/v1/submissions")).StatusCode);

        Assert.NotEmpty(logs.Messages);
        Assert.DoesNotContain(logs.Messages, m => m.Contains(key, StringComparison.Ordinal));
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(Messages);

        public void Dispose()
        {
        }

        private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception) + exception);
        }
    }
}
