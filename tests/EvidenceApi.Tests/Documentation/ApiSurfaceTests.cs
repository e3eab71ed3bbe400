using System.Net;
using System.Text.Json;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Documentation;

public sealed class ApiSurfaceTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private readonly HttpClient client = api.CreateClient();

    [Fact]
    public async Task OpenApiDocument_DescribesEveryEndpointAndParameter()
    {
        var document = await (await client.GetAsync("/swagger/v1/swagger.json")).ShouldBeOkAsync<JsonElement>();
        var paths = document.GetProperty("paths");

        foreach (var path in new[] { "/v1/studies", "/v1/studies/{id}", "/v1/interventions", "/v1/outcomes", "/v1/vocabularies", "/v1/synthesis", "/v1/stats", "/v1/case-reports", "/v1/submissions" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is not documented");
        }

        foreach (var path in paths.EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var where = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                Assert.False(string.IsNullOrWhiteSpace(operation.Value.GetProperty("summary").GetString()), $"{where} has no summary");
                Assert.True(operation.Value.GetProperty("responses").EnumerateObject().Any(r => r.Name.StartsWith('2')), $"{where} documents no success");
                if (operation.Value.TryGetProperty("parameters", out var parameters))
                {
                    foreach (var parameter in parameters.EnumerateArray())
                    {
                        var name = parameter.GetProperty("name").GetString();
                        Assert.True(parameter.TryGetProperty("description", out var description) && description.GetString()?.Length > 5,
                            $"{where} parameter {name} has no description");
                    }
                }
            }
        }

        var synthesisParameters = paths.GetProperty("/v1/synthesis").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal("clinical_response", synthesisParameters["measure"].GetProperty("example").GetString());
        Assert.True(synthesisParameters["threshold"].TryGetProperty("example", out _));

        var studyParameters = paths.GetProperty("/v1/studies").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Superset(
            new HashSet<string> { "condition", "subtype", "design", "product", "cellSource", "route", "measure", "yearFrom", "yearTo", "q", "sort", "limit", "cursor", "offset" },
            studyParameters.Keys.ToHashSet());
        Assert.Contains("umbilical_cord", studyParameters["cellSource"].GetProperty("description").GetString(), StringComparison.Ordinal);
        foreach (var (name, example) in new[] { ("condition", "psoriasis"), ("design", "case_report,case_series"), ("cellSource", "umbilical_cord"), ("q", "secretome"), ("sort", "-year"), ("fields", "id,title,year") })
        {
            Assert.Equal(example, studyParameters[name].GetProperty("example").GetString());
        }

        Assert.Contains("StudySummary", document.GetProperty("components").GetProperty("schemas").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task SwaggerUi_IsServed()
    {
        var response = await client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Health_LiveAndReady_AreHealthyWithTheDatabaseUp()
    {
        Assert.Equal("Healthy", await (await client.GetAsync("/health/live")).Content.ReadAsStringAsync());
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Vocabularies_ListAllowedValuesWithScoreRanges()
    {
        var vocabularies = await (await client.GetAsync("/v1/vocabularies")).ShouldBeOkAsync<JsonElement>();

        var pasi = vocabularies.GetProperty("measures").EnumerateArray().Single(m => m.GetProperty("code").GetString() == "pasi");
        Assert.Equal(72, pasi.GetProperty("maxValue").GetDecimal());
        Assert.Contains(vocabularies.GetProperty("products").EnumerateArray(), p => p.GetProperty("code").GetString() == "exosomes");
    }
}
