using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Trace;

namespace EvidenceApi.Observability;

/// <summary>
/// The server span of a traced request, named and tagged after the OpenTelemetry HTTP conventions
/// (<c>GET /v1/studies/{id}</c>, method, route, path, status code, error type). Whether a request is traced is decided
/// before any activity exists, so a request that is not traced costs nothing but that decision. (ASP.NET Core's own
/// tracing, with its OpenTelemetry instrumentation, makes an activity for every request, traced or not, to carry its trace
/// context: that alone cost the cached reads about a tenth of their throughput.) With a standard
/// <c>OTEL_TRACES_SAMPLER</c> every request starts an activity and that sampler decides, as OpenTelemetry does.
/// </summary>
public sealed class RequestTracing(RequestDelegate next, RequestTracing.Decision decision)
{
    public const string SourceName = "EvidenceApi.Http";

    private static readonly ActivitySource Source = new(SourceName, typeof(RequestTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Which requests start a span: <paramref name="Sampler"/> decides first, or null to let the tracer's sampler decide.</summary>
    public sealed record Decision(Sampler? Sampler);

    /// <summary>
    /// The tracer's sampler behind a <see cref="Decision"/> (as the root of a parent-based one): a server span was started
    /// only for a request chosen to be traced, so it is recorded; any other activity without a parent (a database command
    /// outside a request) starts no trace.
    /// </summary>
    public sealed class StartedSpansSampler : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
            new(samplingParameters.Kind == ActivityKind.Server ? SamplingDecision.RecordAndSample : SamplingDecision.Drop);
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments("/health") || request.Path.StartsWithSegments(MetricsEndpoint.Path))
        {
            await next(context);
            return;
        }

        var parent = Propagators.DefaultTextMapPropagator.Extract(default, request.Headers, static (headers, name) =>
            headers.TryGetValue(name, out var values) ? values : Enumerable.Empty<string>());
        var method = KnownMethod(request.Method);
        if (decision.Sampler is { } sampler
            && sampler.ShouldSample(new SamplingParameters(parent.ActivityContext, parent.ActivityContext.TraceId, method, ActivityKind.Server)).Decision
               != SamplingDecision.RecordAndSample)
        {
            await next(context);
            return;
        }

        // Without a caller's trace the span starts one, even where ASP.NET Core made an activity of its own for its request log.
        var frameworkActivity = Activity.Current;
        if (parent.ActivityContext.TraceId == default)
        {
            Activity.Current = null;
        }

        using var activity = Source.StartActivity(ActivityKind.Server, parent.ActivityContext, name: method);
        if (activity is null)
        {
            Activity.Current = frameworkActivity;
            await next(context);
            return;
        }

        if (parent.Baggage.Count > 0)
        {
            Baggage.Current = parent.Baggage;
        }

        if (activity.IsAllDataRequested)
        {
            StartTags(activity, request, method);
        }

        try
        {
            await next(context);
        }
        catch (Exception ex)
        {
            activity.SetTag("error.type", ex.GetType().FullName);
            activity.SetStatus(ActivityStatusCode.Error, ex.Message);
            activity.AddException(ex);
            throw;
        }
        finally
        {
            if (activity.IsAllDataRequested)
            {
                EndTags(activity, context, method);
            }
        }
    }

    private static void StartTags(Activity activity, HttpRequest request, string method)
    {
        activity.SetTag("http.request.method", method);
        if (method == "_OTHER")
        {
            activity.SetTag("http.request.method_original", request.Method);
        }

        activity.SetTag("url.scheme", request.Scheme);
        activity.SetTag("url.path", (request.PathBase + request.Path).ToString());
        if (request.Host.HasValue)
        {
            activity.SetTag("server.address", request.Host.Host);
            activity.SetTag("server.port", request.Host.Port ?? (request.IsHttps ? 443 : 80));
        }

        activity.SetTag("network.protocol.version", request.Protocol switch
        {
            "HTTP/1.0" => "1.0",
            "HTTP/1.1" => "1.1",
            "HTTP/2" => "2",
            "HTTP/3" => "3",
            var other => other,
        });
        if (request.Headers.UserAgent is { Count: > 0 } userAgent)
        {
            activity.SetTag("user_agent.original", userAgent.ToString());
        }
    }

    private static void EndTags(Activity activity, HttpContext context, string method)
    {
        var status = context.Response.StatusCode;
        activity.SetTag("http.response.status_code", status);
        var handled = context.Features.Get<IExceptionHandlerFeature>();
        if (handled?.Error is { } error)
        {
            activity.SetTag("error.type", error.GetType().FullName);
            activity.AddException(error);
        }

        if (status >= 500)
        {
            activity.SetTag("error.type", activity.GetTagItem("error.type") ?? status.ToString(CultureInfo.InvariantCulture));
            activity.SetStatus(ActivityStatusCode.Error);
        }

        // The exception handler clears the endpoint before it answers; the one that failed is kept in its feature.
        var endpoint = context.GetEndpoint() ?? handled?.Endpoint;
        if (endpoint?.Metadata.GetMetadata<IRouteDiagnosticsMetadata>()?.Route is { } route)
        {
            activity.SetTag("http.route", route);
            activity.DisplayName = $"{method} {route}";
        }
    }

    /// <summary>The method as the conventions name it: one of the standard ones, or <c>_OTHER</c>.</summary>
    private static string KnownMethod(string method) =>
        HttpMethods.IsGet(method) ? HttpMethods.Get
        : HttpMethods.IsHead(method) ? HttpMethods.Head
        : HttpMethods.IsPost(method) ? HttpMethods.Post
        : HttpMethods.IsPut(method) ? HttpMethods.Put
        : HttpMethods.IsDelete(method) ? HttpMethods.Delete
        : HttpMethods.IsPatch(method) ? HttpMethods.Patch
        : HttpMethods.IsOptions(method) ? HttpMethods.Options
        : HttpMethods.IsTrace(method) ? HttpMethods.Trace
        : HttpMethods.IsConnect(method) ? HttpMethods.Connect
        : "_OTHER";
}
