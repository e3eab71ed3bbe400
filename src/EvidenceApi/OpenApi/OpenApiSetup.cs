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
                    Errors are RFC 9457 problem details; a 400 names the parameter or field at fault in `errors`, and a query
                    parameter an operation does not take is a 400 too, listing the ones it takes.
                    Every GET also answers HEAD: the same status and headers (ETag, Cache-Control, Content-Length where the
                    GET has one), without the body. Public reads carry a strong ETag; If-None-Match with it answers 304.
                    """,
                License = new OpenApiLicense { Name = "MIT" },
                Contact = new OpenApiContact { Name = "EvidenceApi maintainers" },
            });
            options.DocumentFilter<TagDescriptionsFilter>();
            options.IncludeXmlComments(typeof(OpenApiSetup).Assembly, includeControllerXmlComments: true);
            options.ParameterFilter<ValidatorParameterFilter>();
            options.SchemaFilter<ValidatorSchemaFilter>();
            options.SchemaFilter<NullableReferenceSchemaFilter>();
            options.OperationFilter<JsonRequestBodyOperationFilter>();
            options.OperationFilter<ServedResponsesOperationFilter>();
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
        app.UseSwagger(swagger =>
        {
            swagger.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            // The server is where the document was fetched from, so that clients generated from it call the same API.
            swagger.PreSerializeFilters.Add((document, request) =>
                document.Servers = [new OpenApiServer { Url = $"{request.Scheme}://{request.Host}{request.PathBase}", Description = "This API" }]);
        });
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

/// <summary>A complete case report that passes validation (two patients), as the request example of the submit operation.</summary>
internal sealed class CaseReportExampleFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().Any(m => m.EndpointName == "SubmitCaseReport")
            && operation.RequestBody?.Content?.TryGetValue("application/json", out var media) == true
            && media is OpenApiMediaType editable)
        {
            editable.Example = System.Text.Json.Nodes.JsonNode.Parse(CaseReports.CaseReportExample.TwoPatientsJson);
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

/// <summary>Every tag the operations use, described once at the top of the document.</summary>
internal sealed class TagDescriptionsFilter : IDocumentFilter
{
    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        ["Studies"] = "Studies of any design, searched, filtered and paged; one study with everything known about it.",
        ["Interventions"] = "What was given: product, cell source, donor, route, dose and schedule.",
        ["Outcomes"] = "What was measured, each result with its source quote.",
        ["Vocabularies"] = "The allowed values of every coded field.",
        ["Synthesis"] = "Pooled proportions of responders with confidence intervals.",
        ["Statistics"] = "Counts of studies and patients for dashboards.",
        ["Case reports"] = "Submitting a case report for curation (contributor key).",
        ["Submissions"] = "Moderating submitted case reports (curator key); contributors see their own.",
        ["Keys"] = "Contributor keys issued, listed and revoked by curators (curator key), with the audit trail of every change.",
    };

    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        var used = swaggerDoc.Paths.Values
            .SelectMany(path => path.Operations?.Values.AsEnumerable() ?? [])
            .SelectMany(operation => operation.Tags ?? new HashSet<OpenApiTagReference>())
            .Select(tag => tag.Name)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        swaggerDoc.Tags = new HashSet<OpenApiTag>(used.Select(name => new OpenApiTag
        {
            Name = name,
            Description = Descriptions.GetValueOrDefault(name, name),
        }));
    }
}
