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

        foreach (var path in new[] { "/v1/studies", "/v1/studies/{id}", "/v1/interventions", "/v1/outcomes", "/v1/vocabularies" })
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is not documented");
            var get = item.GetProperty("get");
            Assert.False(string.IsNullOrWhiteSpace(get.GetProperty("summary").GetString()), $"{path} has no summary");
            if (get.TryGetProperty("parameters", out var parameters))
            {
                foreach (var parameter in parameters.EnumerateArray())
                {
                    var name = parameter.GetProperty("name").GetString();
                    Assert.True(parameter.TryGetProperty("description", out var description) && description.GetString()?.Length > 5,
                        $"{path} parameter {name} has no description");
                }
            }
        }

        var studyParameters = paths.GetProperty("/v1/studies").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Superset(
            new HashSet<string> { "condition", "subtype", "design", "product", "cellSource", "route", "measure", "yearFrom", "yearTo", "q", "sort", "limit", "cursor", "offset" },
            studyParameters.Keys.ToHashSet());
        Assert.Contains("umbilical_cord", studyParameters["cellSource"].GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("psoriasis", studyParameters["condition"].GetProperty("example").GetString());
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
