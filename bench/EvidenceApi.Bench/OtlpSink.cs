using System.Collections.Concurrent;

namespace EvidenceApi.Bench;

/// <summary>
/// A stand-in OpenTelemetry collector for the observability run: takes OTLP over HTTP (protobuf) and throws it away,
/// counting exports and bytes per signal (GET /counts), so the run can show that traces really left the API.
/// </summary>
public static class OtlpSink
{
    public static async Task<int> RunAsync(string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var counts = new ConcurrentDictionary<string, (long Exports, long Bytes)>(StringComparer.Ordinal);

        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request, HttpResponse response) =>
        {
            var buffer = new byte[16 * 1024];
            long bytes = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer)) > 0)
            {
                bytes += read;
            }

            counts.AddOrUpdate(signal, (1, bytes), (_, seen) => (seen.Exports + 1, seen.Bytes + bytes));
            response.ContentType = "application/x-protobuf";
        });
        app.MapGet("/counts", () => string.Join(' ', counts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value.Exports} exports/{c.Value.Bytes} bytes")));
        await app.RunAsync();
        return 0;
    }
}
