using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using EvidenceApi.Tests.Infrastructure;
using EvidenceApi.Tests.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace EvidenceApi.Tests.Observability;

/// <summary>JSON logs carry the request's trace id; OTLP export is switched on by the standard variable alone.</summary>
public sealed class LogsAndTracesTests
{
    private const string Study = "/v1/studies/cheng-2022-umsc-psoriasis-phase-1-2a";

    private static HttpRequestMessage Traced(string path, string traceId)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");
        return request;
    }

    private static string NewTraceId() => Guid.NewGuid().ToString("N");

    private static bool IsHex(string? text, int length) => text?.Length == length && text.All(Uri.IsHexDigit) && text.Any(c => c != '0');

    /// <summary>The trace and span id a JSON log line carries (in its scopes, where the logger puts them), or nulls.</summary>
    private static (string? TraceId, string? SpanId) Ids(JsonElement line)
    {
        if (line.TryGetProperty("Scopes", out var scopes))
        {
            foreach (var scope in scopes.EnumerateArray())
            {
                if (scope.ValueKind == JsonValueKind.Object && scope.TryGetProperty("TraceId", out var traceId))
                {
                    return (traceId.GetString(), scope.TryGetProperty("SpanId", out var spanId) ? spanId.GetString() : null);
                }
            }
        }

        return (null, null);
    }

    [Fact]
    public async Task JsonLogs_AreOneObjectPerLine_AndRequestLogsCarryTheTraceId()
    {
        var connectionString = await TestPostgres.CreateSeededDatabaseAsync();
        using var api = ApiProcess.Start(connectionString, environment: new Dictionary<string, string>
        {
            ["Logging__Console__FormatterName"] = "json",
            ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
        });
        await api.WaitUntilReadyAsync();
        var traceId = NewTraceId();

        Assert.Equal(HttpStatusCode.OK, (await api.Client.SendAsync(Traced(Study, traceId))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.Client.GetAsync("/v1/vocabularies")).StatusCode);
        await DatabaseOutageTests.EventuallyAsync(
            () => Task.FromResult(api.Output.Count(line => line.Contains("Request finished", StringComparison.Ordinal) && line.Contains("/v1/", StringComparison.Ordinal)) >= 2),
            TimeSpan.FromSeconds(10));
        api.Kill();

        var lines = api.Output.Where(line => line.Length > 0).ToList();
        var parsed = lines.Select(line =>
        {
            try
            {
                return JsonDocument.Parse(line).RootElement;
            }
            catch (JsonException)
            {
                Assert.Fail($"Not a JSON object: {line}");
                throw;
            }
        }).ToList();
        Assert.All(parsed, line => Assert.True(line.TryGetProperty("Timestamp", out _) && line.TryGetProperty("LogLevel", out _) && line.TryGetProperty("Message", out _), line.GetRawText()));
        Assert.Contains(parsed, line => line.GetProperty("Message").GetString()!.StartsWith("EvidenceApi is serving on", StringComparison.Ordinal));

        var requestLogs = parsed.Where(line => line.GetProperty("Category").GetString() == "Microsoft.AspNetCore.Hosting.Diagnostics"
                                               && line.GetProperty("Message").GetString()!.Contains("/v1/", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, requestLogs.Count);
        Assert.All(requestLogs, line =>
        {
            var (trace, span) = Ids(line);
            Assert.True(IsHex(trace, 32), $"no trace id: {line.GetRawText()}");
            Assert.True(IsHex(span, 16), $"no span id: {line.GetRawText()}");
        });
        var ofTracedRequest = requestLogs.Where(line => line.GetProperty("Message").GetString()!.Contains(Study, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, ofTracedRequest.Count);
        Assert.All(ofTracedRequest, line => Assert.Equal(traceId, Ids(line).TraceId));
        Assert.DoesNotContain(requestLogs.Except(ofTracedRequest), line => Ids(line).TraceId == traceId);
    }

    [Fact]
    public async Task OtlpEndpointVariable_SwitchesOnExportOfTracesMetricsAndLogs()
    {
        await using var collector = await OtlpCollector.StartAsync();
        var connectionString = await TestPostgres.CreateSeededDatabaseAsync();
        using var api = ApiProcess.Start(connectionString, environment: new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Address,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });
        await api.WaitUntilReadyAsync();
        var traceId = NewTraceId();

        // The API has just started, so its read cache is empty: the answer comes from the database and Npgsql traces its
        // command too. (A made-up query parameter would be a 400: the API takes none it does not know.)
        Assert.Equal(HttpStatusCode.OK, (await api.Client.SendAsync(Traced(Study, traceId))).StatusCode);

        var traceBytes = Convert.FromHexString(traceId);
        await collector.WaitForAsync("/v1/traces", "the request's span", body => body.AsSpan().IndexOf(traceBytes) >= 0 && Contains(body, "GET /v1/studies/{id}"));
        await collector.WaitForAsync("/v1/traces", "the request's database commands", body => body.AsSpan().IndexOf(traceBytes) >= 0 && Contains(body, "WHERE s.id = @Id"));
        await collector.WaitForAsync("/v1/metrics", "our meter and the HTTP server's",
            body => Contains(body, "evidence.data_version") && Contains(body, "http.server.request.duration"));
        await collector.WaitForAsync("/v1/logs", "the start-up log", body => Contains(body, "EvidenceApi is serving on"));

        // Probes make no traces, nor does background work (the title search worker looked for pending searches at start).
        Assert.DoesNotContain(collector.Bodies("/v1/traces"), body => Contains(body, "/health/ready"));
        Assert.DoesNotContain(collector.Bodies("/v1/traces"), body => Contains(body, "title_check = 'pending'"));
    }

    private static bool Contains(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    /// <summary>A stand-in OpenTelemetry collector: takes OTLP over HTTP (protobuf) and keeps what it was sent.</summary>
    private sealed class OtlpCollector : IAsyncDisposable
    {
        private readonly WebApplication app;
        private readonly ConcurrentQueue<(string Path, byte[] Body)> received = new();

        private OtlpCollector(WebApplication app) => this.app = app;

        public string Address => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        public static async Task<OtlpCollector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var collector = new OtlpCollector(app);
            app.MapPost("/v1/{signal}", async (HttpContext context) =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                collector.received.Enqueue((context.Request.Path, body.ToArray()));
                context.Response.ContentType = "application/x-protobuf";
            });
            await app.StartAsync();
            return collector;
        }

        public IEnumerable<byte[]> Bodies(string path) => received.Where(r => r.Path == path).Select(r => r.Body);

        public async Task WaitForAsync(string path, string what, Func<byte[], bool> match)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!Bodies(path).Any(match) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.True(Bodies(path).Any(match), $"No {path} export with {what} within 30 s; received: {string.Join(", ", received.Select(r => $"{r.Path} ({r.Body.Length} bytes)"))}");
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
