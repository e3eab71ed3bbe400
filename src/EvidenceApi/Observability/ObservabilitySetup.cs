using System.Diagnostics;
using Microsoft.Extensions.Logging.Console;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace EvidenceApi.Observability;

/// <summary>
/// OpenTelemetry for ASP.NET Core, Npgsql, the .NET runtime and our own meter. Metrics are collected while something reads
/// them: the Prometheus endpoint (<c>/metrics</c>, on by default) or OTLP. Traces are made only when OTLP export is
/// configured (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>): without it no request starts a trace activity, so reads pay nothing for them.
/// </summary>
public static class ObservabilitySetup
{
    public const string ServiceName = "EvidenceApi";

    /// <summary>New traces (requests without a sampled <c>traceparent</c>) started per second at most, unless OTEL_TRACES_SAMPLER says otherwise.</summary>
    public const double DefaultNewTracesPerSecond = 10;

    private const string NewTracesPerSecondSetting = "Observability:Tracing:NewTracesPerSecond";

    public static WebApplicationBuilder AddEvidenceObservability(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddSingleton<EvidenceMetrics>();

        // JSON log lines carry the trace and span ids of the request they were written in (the logger adds them as a
        // scope), and a UTC timestamp, unless the formatter's own settings say otherwise.
        builder.Services.Configure<JsonConsoleFormatterOptions>(options =>
        {
            var formatter = configuration.GetSection("Logging:Console:FormatterOptions");
            options.IncludeScopes = formatter.GetValue("IncludeScopes", true);
            options.UseUtcTimestamp = formatter.GetValue("UseUtcTimestamp", true);
            options.TimestampFormat ??= "yyyy-MM-ddTHH:mm:ss.fffzzz";
        });

        var scrape = (configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions()).Enabled;
        var otlpMetrics = OtlpConfigured(configuration, "METRICS");
        var otlpTraces = OtlpConfigured(configuration, "TRACES");
        var otlpLogs = OtlpConfigured(configuration, "LOGS");
        if (!scrape && !otlpMetrics && !otlpTraces && !otlpLogs)
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(ServiceName, serviceVersion: typeof(ObservabilitySetup).Assembly.GetName().Version?.ToString())
                .AddEnvironmentVariableDetector());

        if (scrape || otlpMetrics)
        {
            telemetry.WithMetrics(metrics =>
            {
                metrics.AddMeter(EvidenceMetrics.MeterName)
                    .AddAspNetCoreInstrumentation()
                    .AddNpgsqlInstrumentation()
                    .AddRuntimeInstrumentation();
                if (scrape)
                {
                    metrics.AddPrometheusExporter();
                }

                if (otlpMetrics)
                {
                    metrics.AddOtlpExporter();
                }
            });
        }

        if (otlpTraces)
        {
            // W3C trace context only, unless OTEL_PROPAGATORS names others: the default adds baggage, which nothing here
            // uses, and would have the ASP.NET Core instrumentation read three headers of every request a second time.
            if (string.IsNullOrWhiteSpace(configuration["OTEL_PROPAGATORS"]))
            {
                Sdk.SetDefaultTextMapPropagator(new TraceContextPropagator());
            }

            // A caller's sampled trace is always continued; new traces start at a bounded rate (0 or less: none), decided
            // before a request makes any activity (see RequestTracing). A standard OTEL_TRACES_SAMPLER replaces that rule.
            Sampler? decideFirst = null;
            if (string.IsNullOrWhiteSpace(configuration["OTEL_TRACES_SAMPLER"]))
            {
                var perSecond = configuration.GetValue(NewTracesPerSecondSetting, DefaultNewTracesPerSecond);
                decideFirst = new ParentBasedSampler(perSecond > 0 ? new RateLimitingSampler(perSecond, TimeProvider.System) : new AlwaysOffSampler());
            }

            builder.Services.AddSingleton(new RequestTracing.Decision(decideFirst));
            telemetry.WithTracing(tracing =>
            {
                tracing
                    .AddSource(RequestTracing.SourceName)
                    .AddNpgsql()
                    .AddOtlpExporter();

                if (decideFirst is not null)
                {
                    tracing.SetSampler(new ParentBasedSampler(new RequestTracing.StartedSpansSampler()));
                }
            });
        }

        if (otlpLogs)
        {
            telemetry.WithLogging(logging => logging.AddOtlpExporter(), options => options.IncludeScopes = true);
        }

        return builder;
    }

    /// <summary>Starts the server span of traced requests, first in the pipeline; nothing when traces are not exported.</summary>
    public static WebApplication UseEvidenceTracing(this WebApplication app)
    {
        if (app.Services.GetService<RequestTracing.Decision>() is not null)
        {
            app.UseMiddleware<RequestTracing>();
        }

        return app;
    }

    /// <summary>
    /// Database commands are traced as part of a request (or other traced operation), not on their own: the data version
    /// heartbeat and the title search worker's polls would otherwise each start a trace of one span.
    /// </summary>
    public static void TraceCommandsWithinOperations(NpgsqlTracingOptionsBuilder tracing) => tracing
        .ConfigureCommandFilter(_ => Activity.Current is not null)
        .ConfigureBatchFilter(_ => Activity.Current is not null);

    /// <summary>Whether the standard variables name an OTLP endpoint for <paramref name="signal"/> (or for all signals).</summary>
    private static bool OtlpConfigured(ConfigurationManager configuration, string signal) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"]);
}
