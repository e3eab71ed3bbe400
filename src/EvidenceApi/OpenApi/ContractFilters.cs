using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvidenceApi.Http;
using EvidenceApi.Querying;
using FluentValidation;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace EvidenceApi.OpenApi;

/// <summary>The endpoint reads a JSON body of <see cref="Type"/> itself (see <see cref="JsonBody"/>); documented as its request body.</summary>
public sealed record JsonRequestBodyMetadata(Type Type, bool Optional);

/// <summary>The endpoint is a list of <see cref="ItemType"/> with <c>fields</c> selection.</summary>
public sealed record ListItemsMetadata(Type ItemType);

public static class ContractMetadataExtensions
{
    /// <summary>
    /// Documents the JSON body the handler reads. Unlike <c>Accepts</c>, it does not make routing answer other content
    /// types with a bare 415 before the handler: the handler's own 415 says what to send.
    /// </summary>
    public static RouteHandlerBuilder AcceptsJson<T>(this RouteHandlerBuilder builder, bool optional = false) =>
        builder.WithMetadata(new JsonRequestBodyMetadata(typeof(T), optional));
}

/// <summary>
/// States in each request schema what its validator enforces whatever the rest of the report says: required fields,
/// ranges, lengths, list sizes, allowed values and patterns; null is allowed only where a field may be left out.
/// </summary>
internal sealed class ValidatorSchemaFilter(IServiceProvider services) : ISchemaFilter
{
    private readonly Lazy<IReadOnlyDictionary<Type, IValidator>> validators = new(() =>
    {
        using var scope = services.CreateScope();
        var bodyTypes = services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(endpoint => endpoint.Metadata.GetMetadata<JsonRequestBodyMetadata>()?.Type)
            .OfType<Type>()
            .Distinct();
        var roots = bodyTypes
            .Select(type => scope.ServiceProvider.GetService(typeof(IValidator<>).MakeGenericType(type)) as IValidator)
            .OfType<IValidator>();
        return FieldRules.Reachable(roots);
    });

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema editable || editable.Properties is null || !validators.Value.TryGetValue(context.Type, out var validator))
        {
            return;
        }

        var rules = FieldRules.Of(validator);
        foreach (var (name, property) in editable.Properties)
        {
            if (!rules.TryGetValue(name, out var rule))
            {
                continue;
            }

            if (rule.Required)
            {
                editable.Required ??= new HashSet<string>(StringComparer.Ordinal);
                editable.Required.Add(name);
            }

            // A reference (an object field) carries nothing beside it; its own schema states its rules.
            if (property is OpenApiSchema target)
            {
                if (rule.Required)
                {
                    target.Type &= ~JsonSchemaType.Null;
                }

                ContractSchemas.ApplyRule(target, rule);

                if (rule.Items is { } items && target.Items is OpenApiSchema itemSchema)
                {
                    itemSchema.Type &= ~JsonSchemaType.Null;
                    ContractSchemas.ApplyRule(itemSchema, items);
                }
            }
        }
    }
}

/// <summary>
/// Query parameters state what their validators enforce: allowed values as an enum (one value) or a pattern and the
/// list in the description (comma-separated values), ranges and lengths.
/// </summary>
internal sealed class ValidatorParameterFilter(IServiceProvider services) : IParameterFilter
{
    public void Apply(IOpenApiParameter parameter, ParameterFilterContext context)
    {
        if (parameter is not OpenApiParameter editable || parameter.In != ParameterLocation.Query
            || context.PropertyInfo is not { DeclaringType: { } declaring } property
            || editable.Schema is not OpenApiSchema schema)
        {
            return;
        }

        using var scope = services.CreateScope();
        var validator = ValidatorFor(scope.ServiceProvider, context.PropertyInfo.ReflectedType ?? declaring) ?? ValidatorFor(scope.ServiceProvider, declaring);
        if (validator is null || !FieldRules.Of(validator).TryGetValue(JsonNamingPolicy.CamelCase.ConvertName(property.Name), out var rule))
        {
            return;
        }

        ContractSchemas.ApplyRule(schema, rule);
        if (rule.Required)
        {
            editable.Required = true;
        }

        if (rule.Allowed is { } allowed && rule.IsList)
        {
            editable.Description = $"{editable.Description} Comma-separated; allowed values: {string.Join(", ", allowed)}.".Trim();
        }
    }

    private static IValidator? ValidatorFor(IServiceProvider provider, Type type) =>
        provider.GetService(typeof(IValidator<>).MakeGenericType(type)) as IValidator;
}

internal static class ContractSchemas
{
    /// <summary>Writes <paramref name="rule"/> into <paramref name="schema"/>.</summary>
    public static void ApplyRule(OpenApiSchema schema, FieldRule rule)
    {
        if (rule.Minimum is { } minimum)
        {
            if (rule.ExclusiveMinimum)
            {
                schema.ExclusiveMinimum = Number(minimum);
            }
            else
            {
                schema.Minimum = Number(minimum);
            }
        }

        if (rule.Maximum is { } maximum)
        {
            if (rule.ExclusiveMaximum)
            {
                schema.ExclusiveMaximum = Number(maximum);
            }
            else
            {
                schema.Maximum = Number(maximum);
            }
        }

        schema.MinLength = rule.MinLength ?? schema.MinLength;
        schema.MaxLength = rule.MaxLength ?? schema.MaxLength;
        schema.MinItems = rule.MinItems ?? schema.MinItems;
        schema.MaxItems = rule.MaxItems ?? schema.MaxItems;
        if (rule.Pattern is { } pattern)
        {
            schema.Pattern = pattern;
        }

        if (rule.Email)
        {
            schema.Format = "email";
        }

        if (rule.Allowed is { } allowed)
        {
            if (rule.IsList)
            {
                // "a,b": each item one of the values, separated by commas (spaces around them are trimmed).
                var choice = string.Join('|', allowed.Select(System.Text.RegularExpressions.Regex.Escape));
                schema.Pattern = $"^ *({choice}) *(, *({choice}) *)*,?$";
            }
            else
            {
                schema.Enum = allowed.Select(value => (JsonNode)JsonValue.Create(value)).ToList();
                if ((schema.Type & JsonSchemaType.Null) != 0)
                {
                    schema.Enum.Add(null!);
                }
            }
        }

        if (rule.Const is bool flag)
        {
            schema.Enum = [JsonValue.Create(flag)];
        }
    }

    private static string Number(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The request body of endpoints that read JSON themselves (<see cref="JsonRequestBodyMetadata"/>).</summary>
internal sealed class JsonRequestBodyOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<JsonRequestBodyMetadata>().FirstOrDefault() is not { } body)
        {
            return;
        }

        operation.RequestBody = new OpenApiRequestBody
        {
            Required = !body.Optional,
            Description = body.Optional ? "Optional." : null,
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                ["application/json"] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(body.Type, context.SchemaRepository) },
            },
        };
    }
}

/// <summary>
/// Responses as they are served: CSV as text, list items whose properties <c>fields</c> may leave out, the 304 of a
/// conditional GET and the 400 that any unknown query parameter gets.
/// </summary>
internal sealed class ServedResponsesOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var isGet = string.Equals(context.ApiDescription.HttpMethod, "GET", StringComparison.OrdinalIgnoreCase);
        operation.Responses ??= [];
        foreach (var response in operation.Responses.Values.OfType<OpenApiResponse>())
        {
            if (response.Content?.TryGetValue(CsvResult.ContentType, out var csv) == true && csv is OpenApiMediaType csvMedia)
            {
                csvMedia.Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "RFC 4180 CSV with a header row (columns named like the JSON fields; lists joined with \"; \").",
                };
            }
        }

        if (metadata.OfType<ListItemsMetadata>().FirstOrDefault() is { } list
            && context.SchemaRepository.Schemas.TryGetValue(list.ItemType.Name, out var itemSchema) && itemSchema is OpenApiSchema item)
        {
            // fields=... answers only the chosen properties of each item, so none of them can be promised.
            item.Required = null;
            if (item.Description?.Contains("fields", StringComparison.Ordinal) != true)
            {
                item.Description = $"{item.Description} Every property is present unless the request's `fields` selects some.".Trim();
            }
        }

        if (!(context.ApiDescription.RelativePath?.StartsWith("v1", StringComparison.Ordinal) ?? false))
        {
            return;
        }

        if (!operation.Responses.ContainsKey("400"))
        {
            operation.Responses["400"] = new OpenApiResponse
            {
                Description = "Bad Request: an unknown query parameter (errors names it and lists the accepted ones).",
                Content = new Dictionary<string, IOpenApiMediaType>
                {
                    ["application/problem+json"] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(typeof(HttpValidationProblemDetails), context.SchemaRepository) },
                },
            };
        }

        // Public reads carry an ETag; answers about keys and submissions are private and never stored.
        var isPublic = !metadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any();
        if (isGet && isPublic && !operation.Responses.ContainsKey("304"))
        {
            operation.Responses["304"] = new OpenApiResponse { Description = "Not Modified: the ETag sent in If-None-Match is current." };
        }
    }
}

/// <summary>
/// A property of a class type that may be null (<c>InterventionItem?</c>) is a reference that cannot carry "or null"
/// beside it: it becomes <c>oneOf: [reference, null]</c>.
/// </summary>
internal sealed class NullableReferenceSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema editable || editable.Properties is null || context.Type.IsPrimitive)
        {
            return;
        }

        // One per call: a NullabilityInfoContext caches what it reads without locking, and documents are made on
        // request, several at once.
        var nullability = new NullabilityInfoContext();
        foreach (var property in context.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            if (editable.Properties.TryGetValue(name, out var propertySchema) && propertySchema is OpenApiSchemaReference reference
                && nullability.Create(property).ReadState == NullabilityState.Nullable)
            {
                editable.Properties[name] = new OpenApiSchema
                {
                    OneOf = [reference, new OpenApiSchema { Type = JsonSchemaType.Null }],
                    Description = reference.Description,
                };
            }
        }
    }
}
