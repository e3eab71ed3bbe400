using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace EvidenceApi.Tests.Infrastructure;

/// <summary>
/// The served OpenAPI document, read with Microsoft.OpenApi's reader, against which answers are checked: the
/// operation exists, the status is declared, the content type is declared, and the body matches the declared schema
/// (JSON Schema 2020-12, the dialect of OpenAPI 3.1, evaluated by JsonSchema.Net).
/// </summary>
public sealed partial class OpenApiContract
{
    private const string ComponentsBase = "https://contract.evidence.test/components";
    private readonly JsonNode raw;
    private readonly SchemaRegistry registry = new();
    private readonly Dictionary<string, JsonSchema> schemas = new(StringComparer.Ordinal);
    private readonly List<(Regex Pattern, string Template, int Parameters)> paths;

    private OpenApiContract(OpenApiDocument document, JsonNode raw)
    {
        Document = document;
        this.raw = raw;
        paths = document.Paths.Keys
            .Select(template => (new Regex("^" + PathParameter().Replace(Regex.Escape(template).Replace("\\{", "{", StringComparison.Ordinal), "[^/]+") + "$"), template, template.Count(c => c == '{')))
            .ToList();

        // Every component schema, reachable as one JSON Schema resource whose $defs they are.
        var components = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = ComponentsBase,
            ["$defs"] = Rebase(raw["components"]?["schemas"]?.DeepClone() ?? new JsonObject()),
        };
        JsonSchema.FromText(components.ToJsonString(), new BuildOptions { SchemaRegistry = registry });
    }

    public OpenApiDocument Document { get; }

    /// <summary>Reads the document served at <paramref name="url"/>; fails on any error the reader reports.</summary>
    public static async Task<OpenApiContract> LoadAsync(HttpClient client, string url = "/swagger/v1/swagger.json")
    {
        var text = await client.GetStringAsync(url);
        var result = OpenApiDocument.Parse(text, "json", new OpenApiReaderSettings());
        Assert.True(result.Diagnostic?.Errors is null or { Count: 0 },
            "The OpenAPI reader reports errors: " + string.Join("; ", result.Diagnostic?.Errors.Select(e => $"{e.Pointer}: {e.Message}") ?? []));
        Assert.NotNull(result.Document);
        return new OpenApiContract(result.Document, JsonNode.Parse(text)!);
    }

    /// <summary>Every operation: method and path template.</summary>
    public IEnumerable<(string Method, string Path, OpenApiOperation Operation)> Operations() =>
        Document.Paths.SelectMany(path => (path.Value.Operations ?? []).Select(op => (op.Key.Method.ToUpperInvariant(), path.Key, op.Value)));

    /// <summary>The path template <paramref name="path"/> matches, the most literal first.</summary>
    public string? Template(string path) =>
        paths.Where(p => p.Pattern.IsMatch(path)).OrderBy(p => p.Parameters).Select(p => p.Template).FirstOrDefault();

    /// <summary>The problems of one answer against the document; none when it conforms.</summary>
    public async Task<List<string>> CheckAsync(HttpRequestMessage request, HttpResponseMessage response, string? body = null)
    {
        var problems = new List<string>();
        var method = request.Method.Method == "HEAD" ? "GET" : request.Method.Method;
        var where = $"{request.Method} {request.RequestUri?.PathAndQuery} -> {(int)response.StatusCode}";
        var path = request.RequestUri!.IsAbsoluteUri ? request.RequestUri.AbsolutePath : request.RequestUri.OriginalString.Split('?')[0];
        if (Template(path) is not { } template)
        {
            problems.Add($"{where}: no path of the document matches");
            return problems;
        }

        var operation = Operations().FirstOrDefault(o => o.Method == method && o.Path == template).Operation;
        if (operation is null)
        {
            problems.Add($"{where}: {template} has no {method} operation");
            return problems;
        }

        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses?.TryGetValue(status, out var declared) != true
            && operation.Responses?.TryGetValue(status[0] + "XX", out declared) != true
            && operation.Responses?.TryGetValue("default", out declared) != true)
        {
            problems.Add($"{where}: status {status} is not declared (declared: {string.Join(", ", operation.Responses?.Keys.AsEnumerable() ?? [])})");
            return problems;
        }

        body ??= await response.Content.ReadAsStringAsync();
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (request.Method == HttpMethod.Head || response.StatusCode == System.Net.HttpStatusCode.NotModified)
        {
            if (body.Length > 0)
            {
                problems.Add($"{where}: a body was sent ({body.Length} characters)");
            }

            return problems;
        }

        if (declared!.Content is not { Count: > 0 } content)
        {
            if (body.Length > 0)
            {
                problems.Add($"{where}: no content is declared, but {mediaType} was sent");
            }

            return problems;
        }

        if (mediaType is null || !content.ContainsKey(mediaType))
        {
            problems.Add($"{where}: content type {mediaType ?? "(none)"} is not declared (declared: {string.Join(", ", content.Keys)})");
            return problems;
        }

        var schema = Schema(template, method, status, mediaType);
        if (schema is null)
        {
            problems.Add($"{where}: {mediaType} has no schema");
            return problems;
        }

        JsonElement instance;
        if (mediaType.EndsWith("json", StringComparison.Ordinal))
        {
            try
            {
                instance = JsonDocument.Parse(body).RootElement;
            }
            catch (JsonException ex)
            {
                problems.Add($"{where}: the body is not JSON: {ex.Message}");
                return problems;
            }
        }
        else
        {
            instance = JsonSerializer.SerializeToElement(body);
        }

        var result = schema.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (!result.IsValid)
        {
            var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Value}"))
                .Distinct()
                .Take(10);
            problems.Add($"{where}: the body does not match the schema of {status} {mediaType}: {string.Join("; ", errors)}");
        }

        return problems;
    }

    /// <summary>The declared schema of one response content, built once.</summary>
    private JsonSchema? Schema(string template, string method, string status, string mediaType)
    {
        var key = $"{method} {template} {status} {mediaType}";
        if (schemas.TryGetValue(key, out var built))
        {
            return built;
        }

        var node = raw["paths"]?[template]?[method.ToLowerInvariant()]?["responses"]?[status]?["content"]?[mediaType]?["schema"];
        if (node is null)
        {
            return null;
        }

        var root = Rebase(node.DeepClone());
        if (root is JsonObject rootObject)
        {
            rootObject["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        }

        built = JsonSchema.FromText(root.ToJsonString(), new BuildOptions { SchemaRegistry = registry }, new Uri($"https://contract.evidence.test/responses/{schemas.Count}"));
        schemas[key] = built;
        return built;
    }

    /// <summary>Points the document's component references at the components resource.</summary>
    private static JsonNode Rebase(JsonNode node)
    {
        var text = node.ToJsonString().Replace("\"#/components/schemas/", $"\"{ComponentsBase}#/$defs/", StringComparison.Ordinal);
        return JsonNode.Parse(text)!;
    }

    [GeneratedRegex(@"\{[^}/]+\}")]
    private static partial Regex PathParameter();
}
