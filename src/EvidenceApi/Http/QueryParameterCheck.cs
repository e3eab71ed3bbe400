using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Reflection;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace EvidenceApi.Http;

/// <summary>
/// A query parameter the endpoint does not take is a 400 naming it and listing the ones it takes, instead of being
/// ignored (<c>/v1/outcomes?study=8</c> would otherwise answer every outcome). What an endpoint takes is what it binds
/// from the query, as ASP.NET Core's API description reports it (the same description the OpenAPI document is made
/// from), read once per endpoint. Names compare without regard to case, as binding does.
/// </summary>
public sealed class QueryParameterCheck(RequestDelegate next, IApiDescriptionGroupCollectionProvider descriptions, IProblemDetailsService problems)
{
    /// <summary>Where the check applies; other prefixes (health checks, Swagger, a FHIR facade) answer in their own way.</summary>
    public static readonly PathString Scope = "/v1";

    private readonly ConcurrentDictionary<Endpoint, FrozenSet<string>?> accepted = new();
    private readonly Lazy<ILookup<MethodInfo, ApiDescription>> byHandler = new(() => descriptions.ApiDescriptionGroups.Items
        .SelectMany(group => group.Items)
        .Where(d => d.ActionDescriptor.EndpointMetadata.OfType<MethodInfo>().Any())
        .ToLookup(d => d.ActionDescriptor.EndpointMetadata.OfType<MethodInfo>().First()));

    // Not async: nearly every request passes, and needs no state machine of its own here.
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!request.QueryString.HasValue || context.GetEndpoint() is not { } endpoint || !request.Path.StartsWithSegments(Scope))
        {
            return next(context);
        }

        var names = accepted.GetOrAdd(endpoint, Describe);
        if (names is null)
        {
            return next(context);
        }

        List<string>? unknown = null;
        foreach (var key in request.Query.Keys)
        {
            if (!names.Contains(key))
            {
                (unknown ??= []).Add(key);
            }
        }

        return unknown is null ? next(context) : RejectAsync(context, unknown, names);
    }

    /// <summary>The query parameters <paramref name="endpoint"/> binds; null for an endpoint without an API description.</summary>
    private FrozenSet<string>? Describe(Endpoint endpoint)
    {
        if (endpoint.Metadata.GetMetadata<MethodInfo>() is not { } handler)
        {
            return null;
        }

        var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [];
        var described = byHandler.Value[handler]
            .Where(d => d.HttpMethod is null || methods.Count == 0 || methods.Contains(d.HttpMethod, StringComparer.OrdinalIgnoreCase))
            .ToList();
        return described.Count == 0
            ? null
            : described.SelectMany(d => d.ParameterDescriptions)
                .Where(p => p.Source == BindingSource.Query)
                .Select(p => p.Name)
                .ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    private Task RejectAsync(HttpContext context, List<string> unknown, FrozenSet<string> names)
    {
        var takes = names.Count == 0
            ? "This endpoint takes no query parameters."
            : $"This endpoint takes: {string.Join(", ", names.Order(StringComparer.Ordinal))}.";
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new HttpValidationProblemDetails(unknown.ToDictionary(name => name, _ => new[] { $"Unknown query parameter. {takes}" }))
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request is not valid.",
                Detail = "See errors: each key names the parameter or field at fault.",
            },
        }).AsTask();
    }
}
