using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using EvidenceApi.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace EvidenceApi.Tests.Observability;

/// <summary>
/// The server spans, set up as the API sets them up (OTLP on, the default sampling rule or a standard sampler), with the
/// finished spans collected in memory. What a request sees as <c>Activity.Current</c> shows whether anything was made for it.
/// </summary>
public sealed class RequestTracingTests
{
    private sealed class Collect(List<Activity> finished) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            lock (finished)
            {
                finished.Add(data);
            }
        }
    }

    private sealed record Seen(string? Activity, string? TraceId, bool Recorded);

    private sealed class TracedApp : IAsyncDisposable
    {
        private readonly WebApplication app;
        private readonly List<Activity> finished;

        private TracedApp(WebApplication app, List<Activity> finished)
        {
            this.app = app;
            this.finished = finished;
            Client = app.GetTestClient();
        }

        public HttpClient Client { get; }

        /// <summary>
        /// The server spans finished so far. (The tracer listens to Npgsql's activities too, which other tests' databases make
        /// in the same process: those are not this app's.)
        /// </summary>
        public IReadOnlyList<Activity> Finished
        {
            get
            {
                lock (finished)
                {
                    return [.. finished.Where(span => span.Source.Name == RequestTracing.SourceName)];
                }
            }
        }

        public static async Task<TracedApp> StartAsync(Dictionary<string, string?> settings)
        {
            var builder = WebApplication.CreateBuilder();
            builder.WebHost.UseTestServer();
            builder.Logging.ClearProviders();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                // Nothing listens there: the spans are read from the collecting processor, not from an export.
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9",
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["Observability:Metrics:Enabled"] = "false",
            }.Concat(settings));
            builder.AddEvidenceObservability();
            var finished = new List<Activity>();
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(new Collect(finished)));

            var app = builder.Build();
            app.UseEvidenceTracing();
            app.UseExceptionHandler(failed => failed.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                return Task.CompletedTask;
            }));
            app.MapGet("/studies/{id}", (string id) =>
                new Seen(Activity.Current?.Id, Activity.Current?.TraceId.ToString(), Activity.Current?.Recorded == true));
            app.MapGet("/broken", string () => throw new InvalidOperationException("The study could not be read."));
            app.MapGet("/health/ready", () => new Seen(Activity.Current?.Id, null, false));
            await app.StartAsync();
            return new TracedApp(app, finished);
        }

        /// <summary>A span is handed over when its request's activity stops, which may be just after the answer arrived.</summary>
        public async Task WaitForSpansAsync(int count)
        {
            for (var waited = 0; Finished.Count < count && waited < 5000; waited += 20)
            {
                await Task.Delay(20);
            }

            Assert.True(Finished.Count == count, $"{Finished.Count} spans, not {count}: {string.Join(", ", Finished.Select(s => $"{s.Source.Name} {s.DisplayName} {s.TraceId}"))}");
        }

        public async Task<Seen> GetAsync(string path, string? traceparent = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (traceparent is not null)
            {
                request.Headers.Add("traceparent", traceparent);
            }

            using var response = await Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<Seen>())!;
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await app.DisposeAsync();
        }
    }

    private const string CallerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string CallerSpan = "00f067aa0ba902b7";

    [Fact]
    public async Task RequestsNotTraced_MakeNoActivityAtAll()
    {
        await using var api = await TracedApp.StartAsync(new() { ["Observability:Tracing:NewTracesPerSecond"] = "0" });

        for (var i = 0; i < 20; i++)
        {
            Assert.Null((await api.GetAsync($"/studies/{i}")).Activity);
        }

        // A caller's trace that it did not sample is not sampled here either, and costs nothing more.
        Assert.Null((await api.GetAsync("/studies/1", $"00-{CallerTrace}-{CallerSpan}-00")).Activity);
        Assert.Empty(api.Finished);
    }

    [Fact]
    public async Task ACallersSampledTrace_IsContinued_AsAServerSpanNamedByItsRoute()
    {
        await using var api = await TracedApp.StartAsync(new() { ["Observability:Tracing:NewTracesPerSecond"] = "0" });

        var seen = await api.GetAsync("/studies/7", $"00-{CallerTrace}-{CallerSpan}-01");

        Assert.Equal(CallerTrace, seen.TraceId);
        Assert.True(seen.Recorded);
        await api.WaitForSpansAsync(1);
        var span = Assert.Single(api.Finished);
        Assert.Equal(RequestTracing.SourceName, span.Source.Name);
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal(CallerTrace, span.TraceId.ToString());
        Assert.Equal(CallerSpan, span.ParentSpanId.ToString());
        Assert.True(span.HasRemoteParent);
        Assert.Equal("GET /studies/{id}", span.DisplayName);
        Assert.Equal("GET", span.GetTagItem("http.request.method"));
        Assert.Equal("/studies/{id}", span.GetTagItem("http.route"));
        Assert.Equal("/studies/7", span.GetTagItem("url.path"));
        Assert.Equal("http", span.GetTagItem("url.scheme"));
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public async Task NewTraces_StartAtTheConfiguredRate()
    {
        await using var api = await TracedApp.StartAsync(new() { ["Observability:Tracing:NewTracesPerSecond"] = "1" });

        var seen = new List<Seen>();
        for (var i = 0; i < 10; i++)
        {
            seen.Add(await api.GetAsync($"/studies/{i}"));
        }

        // One a second, a second's worth at once: the first request starts a trace of its own (a root), the next nine
        // (well within that second on any machine) make nothing.
        var traced = Assert.Single(seen, s => s.Activity is not null);
        Assert.Same(traced, seen[0]);
        Assert.True(traced.Recorded);
        await api.WaitForSpansAsync(1);
        var span = Assert.Single(api.Finished);
        Assert.Equal(default, span.ParentSpanId);
        Assert.Equal(traced.TraceId, span.TraceId.ToString());
    }

    [Fact]
    public void UnderTheDefaultRule_OnlyTheServerSpansStartedForRequestsBeginTraces()
    {
        var sampler = new ParentBasedSampler(new RequestTracing.StartedSpansSampler());
        SamplingDecision Decide(ActivityContext parent, ActivityKind kind) =>
            sampler.ShouldSample(new SamplingParameters(parent, ActivityTraceId.CreateRandom(), "span", kind)).Decision;

        Assert.Equal(SamplingDecision.RecordAndSample, Decide(default, ActivityKind.Server));
        Assert.Equal(SamplingDecision.Drop, Decide(default, ActivityKind.Client));

        // A database command inside a recorded request is recorded with it; inside anything else, it is not.
        var recorded = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var notRecorded = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None);
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(recorded, ActivityKind.Client));
        Assert.Equal(SamplingDecision.Drop, Decide(notRecorded, ActivityKind.Client));
    }

    [Fact]
    public async Task ProbesAreNeverTraced()
    {
        await using var api = await TracedApp.StartAsync(new() { ["OTEL_TRACES_SAMPLER"] = "parentbased_always_on" });

        Assert.Null((await api.GetAsync("/health/ready", $"00-{CallerTrace}-{CallerSpan}-01")).Activity);
        Assert.Empty(api.Finished);
    }

    [Fact]
    public async Task AFailedRequest_IsMarkedAsAnError_WithItsException()
    {
        await using var api = await TracedApp.StartAsync(new() { ["OTEL_TRACES_SAMPLER"] = "parentbased_always_on" });

        using var response = await api.Client.GetAsync("/broken");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        await api.WaitForSpansAsync(1);
        var span = Assert.Single(api.Finished);
        Assert.Equal("GET /broken", span.DisplayName);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(500, span.GetTagItem("http.response.status_code"));
        Assert.Equal(typeof(InvalidOperationException).FullName, span.GetTagItem("error.type"));
        Assert.Contains(span.Events, e => e.Name == "exception");
    }

    [Fact]
    public async Task AStandardSampler_DecidesForEveryRequest()
    {
        await using (var always = await TracedApp.StartAsync(new() { ["OTEL_TRACES_SAMPLER"] = "parentbased_always_on" }))
        {
            for (var i = 0; i < 5; i++)
            {
                Assert.True((await always.GetAsync($"/studies/{i}")).Recorded);
            }

            await always.WaitForSpansAsync(5);
            Assert.Equal(5, always.Finished.Select(s => s.TraceId).Distinct().Count());
        }

        // As OpenTelemetry does it: a request the sampler drops still carries a trace context, but records nothing.
        await using var never = await TracedApp.StartAsync(new() { ["OTEL_TRACES_SAMPLER"] = "always_off" });
        var seen = await never.GetAsync("/studies/1");
        Assert.NotNull(seen.Activity);
        Assert.False(seen.Recorded);
        Assert.Empty(never.Finished);
    }
}
