using System.Text.Json;
using System.Text.RegularExpressions;
using EvidenceApi.Tests.Infrastructure;
using EvidenceApi.Vocabularies;

namespace EvidenceApi.Tests.Contract;

/// <summary>The document states what the server enforces and answers.</summary>
public sealed class OpenApiDocumentTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private static readonly string[] EvidenceFilters = ["condition", "subtype", "design", "product", "cellSource", "route", "donor", "country", "yearFrom", "yearTo"];

    private async Task<JsonElement> DocumentAsync() =>
        await (await api.CreateClient().GetAsync("/swagger/v1/swagger.json")).ShouldBeOkAsync<JsonElement>();

    private static JsonElement Schema(JsonElement document, string name) => document.GetProperty("components").GetProperty("schemas").GetProperty(name);

    private static string[] Types(JsonElement schema) => schema.TryGetProperty("type", out var type)
        ? type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray() : [type.GetString()!]
        : [];

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? "null" : v.ToString()).ToArray();

    [Fact]
    public async Task Document_IsOpenApi31_WithServersAndContact()
    {
        var document = await DocumentAsync();

        Assert.StartsWith("3.1", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.Equal("http://localhost", document.GetProperty("servers")[0].GetProperty("url").GetString());
        Assert.False(string.IsNullOrWhiteSpace(document.GetProperty("info").GetProperty("contact").GetProperty("name").GetString()));
        Assert.Contains("HEAD", document.GetProperty("info").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CaseReportSchema_CarriesWhatTheValidatorEnforces()
    {
        var document = await DocumentAsync();
        var report = Schema(document, "CaseReport");
        // patient, outcomes and relapse are required only of a single-patient report; patients[] replaces them.
        var required = Strings(report.GetProperty("required")).ToHashSet();
        Assert.Superset(new HashSet<string> { "interventions", "followUpWeeks", "adverseEvents", "informedConsent", "contributor" }, required);
        Assert.Empty(required.Intersect(["patient", "patients", "outcomes", "relapse"]));
        var properties = report.GetProperty("properties");
        Assert.Equal(50, properties.GetProperty("patients").GetProperty("maxItems").GetInt32());
        var patientData = Schema(document, "CaseReportPatientData");
        Assert.Contains("relapse", Strings(patientData.GetProperty("required")));
        Assert.Equal((0, 120), (patientData.GetProperty("properties").GetProperty("age").GetProperty("minimum").GetDecimal(),
            patientData.GetProperty("properties").GetProperty("age").GetProperty("maximum").GetDecimal()));
        Assert.Equal(50, patientData.GetProperty("properties").GetProperty("outcomes").GetProperty("maxItems").GetInt32());
        var example = document.GetProperty("paths").GetProperty("/v1/case-reports").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("example");
        Assert.Equal(2, example.GetProperty("patients").GetArrayLength());
        Assert.Equal(["true"], Strings(properties.GetProperty("informedConsent").GetProperty("enum")).Select(v => v.ToLowerInvariant()));
        Assert.DoesNotContain("null", Types(properties.GetProperty("followUpWeeks")));
        Assert.Equal(5200, properties.GetProperty("followUpWeeks").GetProperty("maximum").GetDecimal());
        Assert.Equal(1, properties.GetProperty("interventions").GetProperty("minItems").GetInt32());
        Assert.Equal(20, properties.GetProperty("interventions").GetProperty("maxItems").GetInt32());
        Assert.Contains("null", Types(properties.GetProperty("summary")));
        Assert.Equal(5000, properties.GetProperty("summary").GetProperty("maxLength").GetInt32());

        var patient = Schema(document, "CaseReportPatient").GetProperty("properties");
        Assert.Equal((0, 120), (patient.GetProperty("age").GetProperty("minimum").GetDecimal(), patient.GetProperty("age").GetProperty("maximum").GetDecimal()));
        Assert.Equal(["female", "male", "other", "unknown"], Strings(patient.GetProperty("sex").GetProperty("enum")));
        Assert.Equal(Vocabulary.SubtypeCodes.Append("null"), Strings(patient.GetProperty("conditionSubtype").GetProperty("enum")));

        var outcome = Schema(document, "CaseReportOutcome").GetProperty("properties");
        Assert.Contains("pasi_40", Strings(outcome.GetProperty("measure").GetProperty("enum")));
        Assert.Equal(Vocabulary.Measures, Strings(outcome.GetProperty("measure").GetProperty("enum")));
        Assert.DoesNotContain("null", Types(outcome.GetProperty("measure")));
        Assert.Equal(1, outcome.GetProperty("assessed").GetProperty("maximum").GetInt32());

        var intervention = Schema(document, "CaseReportIntervention").GetProperty("properties");
        Assert.Equal((1, 10000), (intervention.GetProperty("administrations").GetProperty("minimum").GetInt32(), intervention.GetProperty("administrations").GetProperty("maximum").GetInt32()));
        Assert.Equal(Vocabulary.CellSources.Append("null"), Strings(intervention.GetProperty("cellSource").GetProperty("enum")));

        var source = Schema(document, "CaseReportSource").GetProperty("properties");
        Assert.Equal(100, source.GetProperty("authors").GetProperty("maxItems").GetInt32());
        Assert.Equal(200, source.GetProperty("authors").GetProperty("items").GetProperty("maxLength").GetInt32());
        Assert.Equal("email", Schema(document, "CaseReportContributor").GetProperty("properties").GetProperty("email").GetProperty("format").GetString());
    }

    [Fact]
    public async Task EvidenceFilters_AreDescribedTheSameWayByEveryOperationThatTakesThem()
    {
        var paths = (await DocumentAsync()).GetProperty("paths");
        var operations = new[] { "/v1/studies", "/v1/interventions", "/v1/outcomes", "/v1/synthesis" }
            .Select(path => paths.GetProperty(path).GetProperty("get").GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!))
            .ToList();

        foreach (var name in EvidenceFilters)
        {
            var definitions = operations.Select(parameters => parameters[name].GetRawText()).Distinct().ToList();
            Assert.True(definitions.Count == 1, $"{name} is described {definitions.Count} ways:\n{string.Join("\n", definitions)}");
        }

        var studies = operations[0];
        Assert.Equal(Vocabulary.SubtypeCodes, Strings(studies["subtype"].GetProperty("schema").GetProperty("enum")));
        Assert.Contains("vulgaris", studies["subtype"].GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal((1800, 2200), (studies["yearFrom"].GetProperty("schema").GetProperty("minimum").GetInt32(), studies["yearFrom"].GetProperty("schema").GetProperty("maximum").GetInt32()));
        Assert.Equal((1, 200), (studies["limit"].GetProperty("schema").GetProperty("minimum").GetInt32(), studies["limit"].GetProperty("schema").GetProperty("maximum").GetInt32()));
    }

    [Fact]
    public async Task SingleValueParameters_ListTheirValuesAsAnEnum()
    {
        var synthesis = (await DocumentAsync()).GetProperty("paths").GetProperty("/v1/synthesis").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);

        Assert.True(synthesis["measure"].GetProperty("required").GetBoolean());
        Assert.Equal(EvidenceApi.Synthesis.SynthesisQuery.ResponderMeasures.Concat(EvidenceApi.Synthesis.SynthesisQuery.ScoreMeasures),
            Strings(synthesis["measure"].GetProperty("schema").GetProperty("enum")));
        Assert.Equal(["last", "first"], Strings(synthesis["timepoint"].GetProperty("schema").GetProperty("enum")));
    }

    [Theory]
    [InlineData("design", "case_report", true)]
    [InlineData("design", "case_report,case_series", true)]
    [InlineData("design", "case_report, case_series", true)]
    [InlineData("design", "case_report,oral", false)]
    [InlineData("design", "Case_Report", false)]
    [InlineData("route", "intravenous,topical", true)]
    [InlineData("product", "pills", false)]
    public async Task CommaSeparatedFilters_HaveAPatternAcceptingExactlyWhatTheServerAccepts(string name, string value, bool accepted)
    {
        var parameters = (await DocumentAsync()).GetProperty("paths").GetProperty("/v1/studies").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        var pattern = parameters[name].GetProperty("schema").GetProperty("pattern").GetString()!;

        var status = (await api.CreateClient().GetAsync($"/v1/studies?{name}={Uri.EscapeDataString(value)}&limit=1")).StatusCode;

        Assert.Equal(accepted, Regex.IsMatch(value, pattern));
        Assert.Equal(accepted, status == System.Net.HttpStatusCode.OK);
    }

    [Fact]
    public async Task Responses_DeclareCsvTheFieldsSelectionAndNullableInterventions()
    {
        var document = await DocumentAsync();
        foreach (var path in new[] { "/v1/studies", "/v1/interventions", "/v1/outcomes" })
        {
            var content = document.GetProperty("paths").GetProperty(path).GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content");
            Assert.Equal(["string"], Types(content.GetProperty("text/csv").GetProperty("schema")));
        }

        Assert.False(Schema(document, "StudySummary").TryGetProperty("required", out _));
        var intervention = Schema(document, "OutcomeListItem").GetProperty("properties").GetProperty("intervention");
        Assert.Contains(intervention.GetProperty("oneOf").EnumerateArray(), option => Types(option).SequenceEqual(["null"]));
    }
}
