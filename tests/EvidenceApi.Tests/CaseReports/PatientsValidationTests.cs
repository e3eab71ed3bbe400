using System.Text.Json.Nodes;
using EvidenceApi.CaseReports;

namespace EvidenceApi.Tests.CaseReports;

/// <summary>The rules of a report that describes its patients in <c>patients</c>: each error names the patient and field.</summary>
public sealed class PatientsValidationTests
{
    internal static JsonNode TwoPatients() => JsonNode.Parse(CaseReportExample.TwoPatientsJson)!;

    /// <summary>A report of <paramref name="count"/> patients, each with a PASI-75 result at 12 weeks (every other one responding).</summary>
    internal static JsonNode Patients(int count)
    {
        var report = TwoPatients();
        var patients = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            patients.Add(JsonNode.Parse($$"""
                {
                  "label": "Patient {{i + 1}}", "age": {{30 + i % 40}}, "sex": "{{(i % 2 == 0 ? "male" : "female")}}", "condition": "psoriasis",
                  "diseaseDurationYears": 5, "baselineScores": [ { "measure": "pasi", "value": 20 } ],
                  "outcomes": [ { "measure": "pasi_75", "timepointWeeks": 12, "assessed": 1, "responders": {{(i % 2 == 0 ? 1 : 0)}} } ],
                  "relapse": { "occurred": false }
                }
                """));
        }

        report["patients"] = patients;
        return report;
    }

    [Fact]
    public void TwoPatientExample_IsValid() => Assert.Empty(CaseReportValidatorTests.Errors(TwoPatients()));

    [Fact]
    public void FiftyPatients_AreValid_FiftyOneAreRefusedOnPatients()
    {
        Assert.Empty(CaseReportValidatorTests.Errors(Patients(50)));

        var errors = CaseReportValidatorTests.Errors(Patients(51));

        Assert.Equal(["patients"], errors.Keys);
        Assert.Contains("At most 50 patients", errors["patients"][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("patients[1].outcomes[0].value", "80", "patients[1].outcomes[0].value")]
    [InlineData("patients[1].outcomes[0].assessed", "2", "patients[1].outcomes[0].assessed")]
    [InlineData("patients[1].outcomes[0].responders", "3", "patients[1].outcomes[0].responders")]
    [InlineData("patients[1].outcomes[0].intervention", "1", "patients[1].outcomes[0].intervention")]
    [InlineData("patients[1].age", "null", "patients[1].age")]
    [InlineData("patients[0].sex", "\"x\"", "patients[0].sex")]
    [InlineData("patients[1].relapse", "null", "patients[1].relapse")]
    [InlineData("patients[1].relapse.atWeeks", "4", "patients[1].relapse.atWeeks")]
    [InlineData("patients[1].condition", "\"lupus\"", "patients[1].condition")]
    [InlineData("patients[1].baselineScores", "[{\"measure\": \"dlqi\", \"value\": 31}]", "patients[1].baselineScores[0].value")]
    [InlineData("patients[0].outcomes[0].colour", "\"red\"", "patients[0].outcomes[0].colour")]
    [InlineData("patients[1].colour", "\"red\"", "patients[1].colour")]
    [InlineData("patients", "[]", "patients")]
    [InlineData("patient", "{\"age\": 30, \"condition\": \"psoriasis\"}", "patient")]
    [InlineData("outcomes", "[]", "outcomes")]
    [InlineData("relapse", "{\"occurred\": false}", "relapse")]
    [InlineData("followUpWeeks", "8", "followUpWeeks")]
    public void BrokenField_IsReportedAtItsPath(string path, string json, string expectedKey)
    {
        var report = Patients(2);
        report["patients"]![1]!["outcomes"]![0]!["measure"] = "pasi";
        report["patients"]![1]!["outcomes"]![0]!["value"] = 4;
        report["patients"]![1]!["outcomes"]![0]!["responders"] = null;
        var broken = CaseReportValidatorTests.With(report, path, JsonNode.Parse(json));

        var errors = CaseReportValidatorTests.Errors(broken);

        Assert.Contains(expectedKey, errors.Keys);
    }

    [Fact]
    public void AssessedAboveOne_NamesThePatientsDescribed()
    {
        var report = CaseReportValidatorTests.With(TwoPatients(), "patients[0].outcomes[0].assessed", 2);

        var message = Assert.Single(CaseReportValidatorTests.Errors(report)["patients[0].outcomes[0].assessed"]);

        Assert.Contains("patients the report describes", message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoOutcomeForAnyPatient_IsRefusedOnPatients()
    {
        var report = CaseReportValidatorTests.With(TwoPatients(), "patients[0].outcomes", new JsonArray());

        Assert.Contains("at least one measured outcome", CaseReportValidatorTests.Errors(report)["patients"][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "adverseEvents.events[0].patient")]
    [InlineData(2, "adverseEvents.events[0].patient")]
    [InlineData(1, null)]
    public void AdverseEvent_InAReportWithPatients_NamesItsPatient(int? patient, string? expectedKey)
    {
        var report = TwoPatients();
        var adverseEvent = new JsonObject { ["description"] = "Transient fever after infusion", ["severity"] = "mild" };
        if (patient is not null)
        {
            adverseEvent["patient"] = patient;
        }

        report["adverseEvents"] = new JsonObject { ["noneReported"] = false, ["events"] = new JsonArray(adverseEvent) };

        var errors = CaseReportValidatorTests.Errors(report);

        if (expectedKey is null)
        {
            Assert.Empty(errors);
        }
        else
        {
            Assert.Equal([expectedKey], errors.Keys);
        }
    }

    [Fact]
    public void SinglePatientReport_StaysValid_AndAnEventMayNotNameAnotherPatient()
    {
        Assert.Empty(CaseReportValidatorTests.Errors(CaseReportValidatorTests.Example()));
        var report = CaseReportValidatorTests.Example();
        report["adverseEvents"] = JsonNode.Parse("""{"noneReported": false, "events": [{"description": "Itching", "patient": 1}]}""");

        Assert.Equal(["adverseEvents.events[0].patient"], CaseReportValidatorTests.Errors(report).Keys);
    }
}
