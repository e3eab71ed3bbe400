using Microsoft.AspNetCore.Http.Metadata;

namespace EvidenceApi.Http;

/// <summary>Which representation an Accept header asks for, where an endpoint offers more than JSON.</summary>
public static class ContentNegotiation
{
    public const string Svg = "image/svg+xml";

    /// <summary>
    /// True when Accept names image/svg+xml and ranks it at least as high as application/json (an &lt;img&gt; tag's
    /// Accept does; curl's */* and a browser page's do not).
    /// </summary>
    public static bool PrefersSvg(HttpRequest request)
    {
        var accept = request.Headers.Accept.ToString();
        if (!accept.Contains(Svg, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        double svg = 0, json = 0;
        foreach (var value in request.GetTypedHeaders().Accept)
        {
            var quality = value.Quality ?? 1;
            if (value.MediaType.Equals(Svg, StringComparison.OrdinalIgnoreCase))
            {
                svg = Math.Max(svg, quality);
            }
            else if (value.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            {
                json = Math.Max(json, quality);
            }
        }

        return svg > 0 && svg >= json;
    }
}

/// <summary>An SVG document as the answer (image/svg+xml, UTF-8), documented as such in OpenAPI.</summary>
public sealed class SvgResult(string svg) : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public string Svg { get; } = svg;

    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => ContentNegotiation.Svg + "; charset=utf-8";

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = ContentType;
        return httpContext.Response.WriteAsync(Svg, httpContext.RequestAborted);
    }

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), [ContentNegotiation.Svg]));
}
