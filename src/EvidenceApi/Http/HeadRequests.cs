using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace EvidenceApi.Http;

/// <summary>
/// HEAD is answered as the GET of the same resource (RFC 9110 §9.3.2), without the body: the request runs as a GET
/// through routing, validation, the read cache and the handler, so status, ETag, caching headers and Content-Length
/// (where the GET has one) are those of the GET, and whatever the GET would write is dropped.
/// </summary>
public static class HeadRequests
{
    /// <summary>Put before routing, and before anything that writes a body (compression included).</summary>
    public static IApplicationBuilder UseHeadAsGet(this IApplicationBuilder app) => app.Use((context, next) =>
        HttpMethods.IsHead(context.Request.Method) ? AnswerAsync(context, next) : next(context));

    private static async Task AnswerAsync(HttpContext context, RequestDelegate next)
    {
        var body = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        context.Request.Method = HttpMethods.Get;
        context.Features.Set<IHttpResponseBodyFeature>(new DiscardedBody(body));
        try
        {
            await next(context);
        }
        finally
        {
            context.Features.Set(body);
            context.Request.Method = HttpMethods.Head;
        }
    }

    /// <summary>The response body of a HEAD: the headers go out as usual, the bytes nowhere.</summary>
    private sealed class DiscardedBody(IHttpResponseBodyFeature inner) : IHttpResponseBodyFeature
    {
        private PipeWriter? writer;

        public Stream Stream => Stream.Null;

        public PipeWriter Writer => writer ??= PipeWriter.Create(Stream.Null);

        public void DisableBuffering() => inner.DisableBuffering();

        public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task CompleteAsync() => inner.StartAsync();
    }
}
