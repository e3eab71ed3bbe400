using System.Text.Json;
using System.Text.Json.Nodes;
using EvidenceApi.CaseReports;
using EvidenceApi.Http;

namespace EvidenceApi.Tests.CaseReports;

/// <summary>Every rule of a submitted case report, one broken field at a time, on the complete example report.</summary>
public sealed class CaseReportValidatorTests
{
    private static readonly DateTimeOffset Today = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    static CaseReportValidatorTests() => ValidationRules.UseJsonPropertyNames();

    /// <summary>Shape errors (unknown properties, wrong JSON types) and then rule errors, keyed by JSON path.</summary>
    internal static IDictionary<string, string[]> Errors(JsonNode report)
    {
        using var document = JsonDocument.Parse(report.ToJsonString());
        var shape = JsonShape.Check<CaseReport>(document.RootElement);
        if (shape.Count > 0)
        {
            return shape;
        }

        var parsed = document.RootElement.Deserialize<CaseReport>(CaseReportJson.Options)!;
        return new CaseReportValidator(new FixedClock(Today)).Validate(parsed).ToDictionary();
    }

    internal static JsonNode Example() => JsonNode.Parse(CaseReportExample.Json)!;

    /// <summary>Sets (or with null value, nulls) the field at a simple path like <c>outcomes[1].value</c>.</summary>
    internal static JsonNode With(JsonNode report, string path, JsonNode? value)
    {
        var segments = path.Split('.');
        JsonNode node = report;
        foreach (var segment in segments[..^1])
        {
            node = Step(node, segment);
        }

        var last = segments[^1];
        var bracket = last.IndexOf('[', StringComparison.Ordinal);
        if (bracket >= 0)
        {
            var array = node[last[..bracket]]!.AsArray();
            array[int.Parse(last[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture)] = value;
        }
        else
        {
            node[last] = value;
        }

        return report;
    }

    private static JsonNode Step(JsonNode node, string segment)
    {
        var bracket = segment.IndexOf('[', StringComparison.Ordinal);
        return bracket < 0
            ? node[segment]!
            : node[segment[..bracket]]![int.Parse(segment[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture)]!;
    }

    [Fact]
    public void ExampleReport_IsValid() => Assert.Empty(Errors(Example()));

    [Fact]
    public void MinimalUnpublishedReport_IsValid()
    {
        var report = JsonNode.Parse("""
            {
              "title": "Unpublished case of plaque psoriasis treated with umbilical cord MSC infusions",
              "patient": { "age": 51, "sex": "female", "condition": "psoriasis" },
              "interventions": [ { "product": "msc_cells", "route": "intravenous" } ],
              "outcomes": [ { "measure": "pasi", "timepointWeeks": 12, "baselineValue": 18.4, "value": 3.2 } ],
              "followUpWeeks": 24,
              "relapse": { "occurred": true, "atWeeks": 20 },
              "adverseEvents": { "noneReported": false, "events": [ { "description": "Low-grade fever after infusion", "severity": "mild" } ] },
              "informedConsent": true,
              "contributor": { "name": "A. Clinician", "email": "a.clinician@example.org" }
            }
            """)!;
        Assert.Empty(Errors(report));
    }

    [Theory]
    [InlineData("patient.age", "130", "patient.age")]
    [InlineData("patient.age", "-1", "patient.age")]
    [InlineData("patient.age", "null", "patient.age")]
    [InlineData("patient.sex", "\"boy\"", "patient.sex")]
    [InlineData("patient.condition", "\"\"", "patient.condition")]
    [InlineData("patient.diseaseDurationYears", "50", "patient.diseaseDurationYears")]
    [InlineData("patient.baselineScores[0].value", "80", "patient.baselineScores[0].value")]
    [InlineData("patient.baselineScores[0].measure", "\"clinical_response\"", "patient.baselineScores[0].measure")]
    [InlineData("outcomes[0].value", "73", "outcomes[0].value")]
    [InlineData("outcomes[0].baselineValue", "-2", "outcomes[0].baselineValue")]
    [InlineData("outcomes[0].measure", "\"pasi75\"", "outcomes[0].measure")]
    [InlineData("outcomes[0].timepointWeeks", "-1", "outcomes[0].timepointWeeks")]
    [InlineData("outcomes[0].timepointWeeks", "null", "outcomes[0].timepointWeeks")]
    [InlineData("outcomes[0].intervention", "3", "outcomes[0].intervention")]
    [InlineData("outcomes[1].responders", "2", "outcomes[1].responders")]
    [InlineData("outcomes[1].responders", "null", "outcomes[1].responders")]
    [InlineData("outcomes[1].assessed", "-1", "outcomes[1].assessed")]
    [InlineData("followUpWeeks", "2", "followUpWeeks")]
    [InlineData("followUpWeeks", "null", "followUpWeeks")]
    [InlineData("source.doi", "\"https://doi.org/10.5555/x\"", "source.doi")]
    [InlineData("source.pmid", "\"12a34\"", "source.pmid")]
    [InlineData("source.url", "\"ftp://example.org/x\"", "source.url")]
    [InlineData("source.publishedOn", "\"2027-01-01\"", "source.publishedOn")]
    [InlineData("source.year", "2024", "source.year")]
    [InlineData("source.year", "2030", "source.year")]
    [InlineData("interventions[0].startedOn", "\"2026-12-24\"", "interventions[0].startedOn")]
    [InlineData("interventions[0].route", "\"oral\"", "interventions[0].route")]
    [InlineData("interventions[0].product", "\"stem cells\"", "interventions[0].product")]
    [InlineData("interventions[0].cellSource", "\"liver\"", "interventions[0].cellSource")]
    [InlineData("interventions[0].donor", "\"sibling\"", "interventions[0].donor")]
    [InlineData("interventions[0].doseValue", "2000000", "interventions[0].doseUnit")]
    [InlineData("interventions[0].doseValue", "0", "interventions[0].doseValue")]
    [InlineData("interventions[0].administrations", "0", "interventions[0].administrations")]
    [InlineData("interventions", "[]", "interventions")]
    [InlineData("outcomes", "[]", "outcomes")]
    [InlineData("patient", "null", "patient")]
    [InlineData("relapse", "null", "relapse")]
    [InlineData("relapse.occurred", "null", "relapse.occurred")]
    [InlineData("relapse.atWeeks", "30", "relapse.atWeeks")]
    [InlineData("adverseEvents", "null", "adverseEvents")]
    [InlineData("adverseEvents.noneReported", "null", "adverseEvents.noneReported")]
    [InlineData("adverseEvents.events", "[{\"description\": \"rash\"}]", "adverseEvents.events")]
    [InlineData("informedConsent", "false", "informedConsent")]
    [InlineData("informedConsent", "null", "informedConsent")]
    [InlineData("contributor", "null", "contributor")]
    [InlineData("contributor.email", "\"not-an-email\"", "contributor.email")]
    [InlineData("contributor.name", "\"\"", "contributor.name")]
    [InlineData("contributor.orcid", "\"1234\"", "contributor.orcid")]
    public void BrokenField_FailsWithItsPath(string path, string json, string expectedKey)
    {
        var errors = Errors(With(Example(), path, JsonNode.Parse(json)));

        Assert.True(errors.ContainsKey(expectedKey), $"Expected an error at {expectedKey}, got: {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}");
        Assert.All(errors[expectedKey], message => Assert.False(string.IsNullOrWhiteSpace(message)));
    }

    [Theory]
    [InlineData("pasi", 72.5, null, true)]
    [InlineData("pasi", 72, null, false)]
    [InlineData("bsa", 100.1, null, true)]
    [InlineData("bsa", 100, null, false)]
    [InlineData("dlqi", 31, null, true)]
    [InlineData("dlqi", 30, null, false)]
    [InlineData("pssi", 73, null, true)]
    [InlineData("pga", 3, null, true)]
    [InlineData("pga", 5, 4.0, true)]
    [InlineData("pga", 4, 4.0, false)]
    [InlineData("iga", 2, 5.0, false)]
    public void InstrumentRanges_AreEnforced(string measure, double value, double? scaleMax, bool fails)
    {
        var report = Example();
        report["outcomes"]![0]!["measure"] = measure;
        report["outcomes"]![0]!["value"] = value;
        report["outcomes"]![0]!["baselineValue"] = null;
        report["outcomes"]![0]!["scaleMax"] = scaleMax;

        Assert.Equal(fails, Errors(report).ContainsKey("outcomes[0].value"));
    }

    [Fact]
    public void UnknownVocabularyValue_ListsTheAllowedValues()
    {
        var errors = Errors(With(Example(), "interventions[0].route", "oral"));
        Assert.Contains(errors["interventions[0].route"], m => m.Contains("intravenous", StringComparison.Ordinal) && m.Contains("topical", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("title", 501)]
    [InlineData("summary", 5001)]
    [InlineData("patient.condition", 201)]
    [InlineData("outcomes[0].result", 2001)]
    public void OverlongText_FailsWithItsPath(string path, int length)
    {
        Assert.True(Errors(With(Example(), path, new string('x', length))).ContainsKey(path));
    }

    [Fact]
    public void TooManyListItems_Fail()
    {
        var report = Example();
        report["patient"]!["priorTreatments"] = new JsonArray(Enumerable.Range(0, 51).Select(i => (JsonNode?)JsonValue.Create($"treatment {i}")).ToArray());
        report["interventions"] = new JsonArray(Enumerable.Range(0, 21).Select(_ => Example()["interventions"]![0]!.DeepClone()).ToArray());

        var errors = Errors(report);
        Assert.Contains("patient.priorTreatments", errors.Keys);
        Assert.Contains("interventions", errors.Keys);
    }

    [Fact]
    public void UnknownPropertiesAndWrongTypes_AreAllReportedAtOnce()
    {
        var report = Example();
        report["patient"]!["colour"] = "blue";
        report["patient"]!["age"] = "thirty-eight";
        report["outcomes"]![0]!["assessed"] = 1.5;
        report["source"]!["publishedOn"] = "14/03/2025";
        report["informedConsent"] = "yes";
        report["extra"] = 1;

        var errors = Errors(report);

        string[] expected = ["extra", "informedConsent", "outcomes[0].assessed", "patient.age", "patient.colour", "source.publishedOn"];
        Assert.Equal(expected, errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("Unknown property", errors["patient.colour"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void SeveralBrokenRules_AreAllReportedAtOnce()
    {
        var report = Example();
        report["patient"]!["age"] = 200;
        report["outcomes"]![1]!["responders"] = 5;
        report["informedConsent"] = false;
        report["interventions"]![0]!["route"] = "oral";

        var errors = Errors(report);

        Assert.Superset(
            new HashSet<string> { "patient.age", "outcomes[1].responders", "informedConsent", "interventions[0].route" },
            errors.Keys.ToHashSet());
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
