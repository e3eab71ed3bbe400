using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace EvidenceApi.Querying;

/// <summary>
/// What every list endpoint does with its page: an RFC 8288 <c>Link: rel="next"</c> header, and <c>fields</c>
/// to keep only chosen fields of each item (unknown field names are a 400 naming <c>fields</c>).
/// </summary>
public sealed class ListResponseFilter<TItem>(IOptions<JsonOptions> jsonOptions) : IEndpointFilter
{
    private static readonly Lazy<HashSet<string>> FieldNames = new(() =>
        typeof(TItem).GetProperties().Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)).ToHashSet(StringComparer.Ordinal));

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        var fields = Paging.SplitList(request.Query["fields"].ToString());
        if (fields?.Where(f => !FieldNames.Value.Contains(f)).ToList() is { Count: > 0 } unknown)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]>
                {
                    ["fields"] = [$"Unknown field(s): {string.Join(", ", unknown)}. Allowed: {string.Join(", ", FieldNames.Value)}."],
                },
                title: "The request is not valid.");
        }

        var result = await next(context);
        var inner = result is INestedHttpResult nested ? nested.Result : result;
        if (inner is not Ok<Page<TItem>> { Value: { } page })
        {
            return result;
        }

        if (page.Next is not null)
        {
            var query = request.Query
                .Where(p => p.Key is not "cursor" and not "offset")
                .Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value.ToString())}")
                .Append($"cursor={Uri.EscapeDataString(page.Next)}");
            context.HttpContext.Response.Headers.Append("Link", $"<{request.PathBase}{request.Path}?{string.Join('&', query)}>; rel=\"next\"");
        }

        if (fields is null)
        {
            return result;
        }

        var options = jsonOptions.Value.SerializerOptions;
        var trimmed = page.Items.Select(item =>
        {
            var json = JsonSerializer.SerializeToNode(item, options)!.AsObject();
            foreach (var name in json.Select(p => p.Key).Where(name => !fields.Contains(name)).ToList())
            {
                json.Remove(name);
            }

            return json;
        }).ToList();
        return TypedResults.Ok(new Page<JsonObject>(trimmed, page.Total, page.Limit, page.Next, page.SearchedFor));
    }
}

public static class ListResponseFilterExtensions
{
    /// <summary>Adds the Link header and <c>fields</c> selection to a list endpoint of <typeparamref name="TItem"/>.</summary>
    public static RouteHandlerBuilder ListOf<TItem>(this RouteHandlerBuilder builder, bool csv = true) =>
        builder.AddEndpointFilterFactory((factory, next) =>
            {
                var filter = new ListResponseFilter<TItem>(factory.ApplicationServices.GetRequiredService<IOptions<JsonOptions>>());
                return context => filter.InvokeAsync(context, next);
            })
            .WithMetadata(new OpenApi.ListItemsMetadata(typeof(TItem)))
            .Produces<Page<TItem>>(StatusCodes.Status200OK, "application/json", csv ? [CsvResult.ContentType] : []);
}
