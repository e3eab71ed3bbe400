using EvidenceApi.Vocabularies;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace EvidenceApi.OpenApi;

public static class OpenApiSetup
{
    public static IServiceCollection AddEvidenceOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "EvidenceApi",
                Version = "v1",
                Description = """
                    Structured clinical evidence as JSON: studies (reviews, trials, case series, case reports), the
                    interventions they tested and the outcomes they measured, each traceable to its source by a quote.
                    The first body of evidence is mesenchymal stem cell (MSC) based therapy for psoriasis.
                    Errors are RFC 9457 problem details; a 400 names the parameter or field at fault in `errors`.
                    """,
                License = new OpenApiLicense { Name = "MIT" },
            });
            options.IncludeXmlComments(typeof(OpenApiSetup).Assembly, includeControllerXmlComments: true);
            options.ParameterFilter<VocabularyParameterFilter>();
            options.AddSecurityDefinition(ApiKeys.ApiKeyDefaults.Scheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeys.ApiKeyDefaults.HeaderName,
                Description = "An API key: contributors submit case reports, curators also moderate them. " +
                              "Reads are public. The first curator key is made on the server: " +
                              "dotnet run --project src/EvidenceApi -- create-key --role curator --name \"Your name\"",
            });
            options.OperationFilter<ApiKeyOperationFilter>();
            options.OperationFilter<CaseReportExampleFilter>();
            options.OperationFilter<RepresentationsFilter>();
            options.SupportNonNullableReferenceTypes();
        });
        return services;
    }

    public static IApplicationBuilder UseEvidenceOpenApi(this IApplicationBuilder app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint("/swagger/v1/swagger.json", "EvidenceApi v1");
            options.DocumentTitle = "EvidenceApi";
            options.DisplayRequestDuration();
            options.EnableTryItOutByDefault();
        });
        return app;
    }
}

/// <summary>Lists the allowed values of each coded query parameter in its description.</summary>
internal sealed class VocabularyParameterFilter : IParameterFilter
{
    private static readonly Dictionary<string, IReadOnlyList<string>> Vocabularies = new(StringComparer.Ordinal)
    {
        ["design"] = Vocabulary.Designs,
        ["product"] = Vocabulary.Products,
        ["cellSource"] = Vocabulary.CellSources,
        ["route"] = Vocabulary.Routes,
        ["donor"] = Vocabulary.Donors,
        ["measure"] = Vocabulary.Measures,
        ["evidence"] = Vocabulary.EvidenceLevels,
    };

    public void Apply(IOpenApiParameter parameter, ParameterFilterContext context)
    {
        if (parameter is OpenApiParameter editable && parameter.In == ParameterLocation.Query
            && parameter.Name is { } name && Vocabularies.TryGetValue(name, out var allowed))
        {
            editable.Description = $"{editable.Description} Allowed values: {string.Join(", ", allowed)}.".Trim();
        }
    }
}

/// <summary>Marks the operations that need a key, so Swagger UI's Authorize button applies to them.</summary>
internal sealed class ApiKeyOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any())
        {
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeys.ApiKeyDefaults.Scheme, context.Document)] = [] },
            ];
        }
    }
}

/// <summary>A complete case report that passes validation, as the request example of the submit operation.</summary>
internal sealed class CaseReportExampleFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().Any(m => m.EndpointName == "SubmitCaseReport")
            && operation.RequestBody?.Content?.TryGetValue("application/json", out var media) == true
            && media is OpenApiMediaType editable)
        {
            editable.Example = System.Text.Json.Nodes.JsonNode.Parse(CaseReports.CaseReportExample.Json);
        }
    }
}

/// <summary>
/// An answer offered in several representations (JSON, or the forest plot's SVG on the same URL) lists each with its own
/// schema; left alone, the last one declared would replace the others. SVG gets a short example.
/// </summary>
internal sealed class RepresentationsFilter : IOperationFilter
{
    private const string SvgExample =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<svg width=\"960\" height=\"452\" viewBox=\"0 0 960 452\" role=\"img\" " +
        "aria-labelledby=\"forest-title forest-desc\" xmlns=\"http://www.w3.org/2000/svg\">\n  <title id=\"forest-title\">Forest plot of the " +
        "proportion of responders: ...</title>\n  <desc id=\"forest-desc\">4 studies with 5 patients. Pooled random-effects proportion ...</desc>\n  ...\n</svg>";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var declared = context.ApiDescription.ActionDescriptor.EndpointMetadata
            .OfType<Microsoft.AspNetCore.Http.Metadata.IProducesResponseTypeMetadata>()
            .Where(m => m.Type is not null && m.Type != typeof(void) && m.StatusCode == StatusCodes.Status200OK)
            .ToList();
        if (declared.Count == 0 || operation.Responses?.TryGetValue("200", out var found) != true || found is not OpenApiResponse response)
        {
            return;
        }

        response.Content ??= new Dictionary<string, IOpenApiMediaType>();
        foreach (var metadata in declared)
        {
            foreach (var contentType in metadata.ContentTypes)
            {
                if (!response.Content.ContainsKey(contentType))
                {
                    response.Content[contentType] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(metadata.Type!, context.SchemaRepository) };
                }
            }
        }

        if (response.Content.TryGetValue(Http.ContentNegotiation.Svg, out var svg) && svg is OpenApiMediaType editable)
        {
            editable.Example = System.Text.Json.Nodes.JsonValue.Create(SvgExample);
        }
    }
}
