using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using EvidenceApi.Outcomes;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Submissions;
using EvidenceApi.Synthesis;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;
using Npgsql;

namespace EvidenceApi.Tests.Submissions;

/// <summary>Reports with several patients: stored per patient, the study and its outcomes derived from them when published.</summary>
public sealed class PatientPublishingTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private static JsonNode Unique(JsonNode report, string route)
    {
        var title = $"Patients {Guid.NewGuid():N}";
        report["source"]!["doi"] = $"10.5555/evidence.patients.{Guid.NewGuid():N}";
        report["source"]!["title"] = title;
        report["title"] = title;
        // A product, source and route no seeded study has, so that a synthesis over them sees this report alone.
        report["interventions"]![0]!["product"] = "exosomes";
        report["interventions"]![0]!["cellSource"] = "placenta";
        report["interventions"]![0]!["route"] = route;
        return report;
    }

    private static StringContent Json(JsonNode report) => new(report.ToJsonString(), Encoding.UTF8, "application/json");

    private async Task<(SubmissionView Submission, HttpClient Curator)> SubmitAsync(JsonNode report)
    {
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var response = await contributor.PostAsync("/v1/case-reports", Json(report));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return ((await response.Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json))!, api.CreateClient(await api.CreateKeyAsync("curator")));
    }

    private async Task<StudyDetail> PublishAsync(JsonNode report)
    {
        var (submission, curator) = await SubmitAsync(report);
        var published = await (await curator.PostAsJsonAsync($"/v1/submissions/{submission.Id}/publish", new { reason = "Complete" })).ShouldBeOkAsync<SubmissionView>();
        return await (await api.CreateClient().GetAsync($"/v1/studies/{published.StudyId}")).ShouldBeOkAsync<StudyDetail>();
    }

    /// <summary>What publishing the single-patient example wrote before reports had patients[], field by field.</summary>
    [Fact]
    public async Task Publish_SinglePatientReport_WritesTheSameStudyAsBefore_WithItsOnePatient()
    {
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.legacy.{Guid.NewGuid():N}";

        var study = await PublishAsync(report);

        Assert.Equal((1, 38m, 38m, (decimal?)null, 1, 0, "scalp", "India"),
            (study.Participants!.Value, study.AgeMin!.Value, study.AgeMax!.Value, study.AgeMean, study.MaleCount!.Value, study.FemaleCount!.Value, study.ConditionSubtype, study.Country));
        Assert.Equal("38-year-old male; disease duration 2 years; baseline PSSI 28; prior treatments: topical corticosteroids", study.PopulationDescription);
        var provenance = $"Contributed case report, submission {study.Key["case-report-".Length..]}";
        Assert.Equal(
        [
            ("pssi", "4 weeks", 4m, (decimal?)28m, (decimal?)0m, (int?)1, (int?)1, "Complete regression of scalp plaques (PSSI 28 to 0)", $"{provenance}: Complete regression of scalp plaques (PSSI 28 to 0)"),
            ("clinical_response", "4 weeks", 4m, null, null, 1, 1, "Scales and plaques cleared", $"{provenance}: Scales and plaques cleared"),
            ("relapse_free", "26 weeks", 26m, null, null, 1, 1, "No relapse during follow-up", $"{provenance}: No relapse during follow-up"),
            ("adverse_events", "26 weeks", 26m, null, null, 1, 0, "No adverse events reported", $"{provenance}: No adverse events reported"),
        ], study.Outcomes.Select(o => (o.Measure, o.Timepoint, o.TimepointWeeks!.Value, o.BaselineValue, o.Value, o.Assessed, o.Responders, o.Result, o.Quote)));

        var patient = Assert.Single(study.Patients);
        Assert.Equal((0, 38m, "male", "scalp", 2m), (patient.Position, patient.Age!.Value, patient.Sex, patient.ConditionSubtype, patient.DiseaseDurationYears!.Value));
        Assert.Equal(["topical corticosteroids"], patient.PriorTreatments);
        Assert.Equal(study.Outcomes.Select(o => o.Id).Order(), patient.Outcomes.Select(o => o.OutcomeId).Order());
    }

    [Fact]
    public async Task Publish_TwoPatients_DerivesTheStudyFromThemAndShowsThemInEveryReadEndpoint()
    {
        var report = Unique(PatientsValidationTests.TwoPatients(), "intramuscular");
        report["patients"]![0]!["baselineScores"] = JsonNode.Parse("""[{"measure": "pasi", "value": 20}]""");
        report["patients"]![0]!["outcomes"]!.AsArray().Add(JsonNode.Parse("""{"measure": "pasi", "timepointWeeks": 12, "value": 4}"""));
        report["patients"]![1]!["outcomes"] = JsonNode.Parse("""[{"measure": "pasi", "timepointWeeks": 12, "baselineValue": 30, "value": 15, "result": "PASI halved"}]""");
        // A synonym is stored as its code, for every patient.
        report["patients"]![1]!["conditionSubtype"] = "vulgaris";

        var study = await PublishAsync(report);

        Assert.Equal((2, 26m, 35m, 30.5m, 1, 1), (study.Participants!.Value, study.AgeMin!.Value, study.AgeMax!.Value, study.AgeMean!.Value, study.MaleCount!.Value, study.FemaleCount!.Value));
        Assert.Equal("plaque", study.ConditionSubtype);
        Assert.StartsWith("Patient 1: 35-year-old male; disease duration 12 years", study.PopulationDescription, StringComparison.Ordinal);
        var pasi = Assert.Single(study.Outcomes, o => o.Measure == "pasi");
        Assert.Equal((2, 25m, 9.5m), (pasi.Assessed!.Value, pasi.BaselineValue!.Value, pasi.Value!.Value));
        Assert.Contains("Patient 2: PASI halved", pasi.Result, StringComparison.Ordinal);
        Assert.Contains(study.Outcomes, o => o is { Measure: "clinical_response", Assessed: 1, Responders: 1, TimepointWeeks: 52 });
        Assert.Contains(study.Outcomes, o => o is { Measure: "relapse_free", Assessed: 2, Responders: 2, TimepointWeeks: 208 });
        Assert.Contains(study.Outcomes, o => o is { Measure: "adverse_events", Assessed: 2, Responders: 0 });

        Assert.Equal([0, 1], study.Patients.Select(p => p.Position));
        var second = study.Patients[1];
        Assert.Equal(("Patient 2", 26m, "female", 18m, "plaque"), (second.Label, second.Age!.Value, second.Sex, second.DiseaseDurationYears!.Value, second.ConditionSubtype));
        Assert.Equal("Relapse free for 4 years", second.Relapse.Description);
        var ownPasi = Assert.Single(second.Outcomes, o => o.Measure == "pasi");
        Assert.Equal((pasi.Id, 30m, 15m, 1), (ownPasi.OutcomeId, ownPasi.BaselineValue!.Value, ownPasi.Value!.Value, ownPasi.Assessed));
        Assert.Equal(20m, Assert.Single(study.Patients[0].BaselineScores).Value);
        Assert.Equal(20m, Assert.Single(study.Patients[0].Outcomes, o => o.Measure == "pasi").BaselineValue);

        var listed = await (await api.CreateClient().GetAsync($"/v1/studies?design=case_report&route=intramuscular&product=exosomes")).ShouldBeOkAsync<Page<StudySummary>>();
        Assert.Equal(2, Assert.Single(listed.Items, s => s.Id == study.Id).Participants);
        var outcomes = await (await api.CreateClient().GetAsync($"/v1/outcomes?measure=relapse_free&studyId={study.Id}")).ShouldBeOkAsync<Page<OutcomeListItem>>();
        Assert.Equal((2, 2), (Assert.Single(outcomes.Items).Outcome.Assessed, Assert.Single(outcomes.Items).Outcome.Responders));
        var csv = await api.CreateClient().GetStringAsync($"/v1/studies?id={study.Id}&format=csv");
        Assert.Contains(study.Title, csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_FiftyPatients_SynthesisCountsEachPatientOnce()
    {
        var report = Unique(PatientsValidationTests.Patients(50), "intra_articular");

        var study = await PublishAsync(report);

        Assert.Equal(50, study.Participants);
        Assert.Equal(50, study.Patients.Count);
        var synthesis = await (await api.CreateClient().GetAsync("/v1/synthesis?measure=pasi_75&product=exosomes&cellSource=placenta&route=intra_articular"))
            .ShouldBeOkAsync<SynthesisResult>();
        var row = Assert.Single(synthesis.Rows);
        Assert.Equal((study.Id, 50, 25), (row.StudyId, row.Assessed, row.Responders));
        Assert.Equal((1, 50, 25), (synthesis.Studies, synthesis.Patients, synthesis.Responders));
        Assert.Equal(50, await api.QueryScalarAsync<int>(
            "SELECT count(*) FROM patient_outcomes po JOIN outcomes o ON o.id = po.outcome_id WHERE o.study_id = @Id AND o.measure = 'pasi_75'", new { study.Id }));
    }

    /// <summary>Three patients with PASI 20 to 4 (80 % better), 30 to 15 (50 %) and 40 to 10 (75 %) at 12 weeks.</summary>
    private static JsonNode ThreePatientsWithPasi(string route)
    {
        var report = Unique(PatientsValidationTests.TwoPatients(), route);
        var patients = report["patients"]!.AsArray();
        var third = patients[1]!.DeepClone();
        third["label"] = "Patient 3";
        patients.Add(third);
        patients[0]!["baselineScores"] = JsonNode.Parse("""[{"measure": "pasi", "value": 20}]""");
        patients[0]!["outcomes"]!.AsArray().Add(JsonNode.Parse("""{"measure": "pasi", "timepointWeeks": 12, "value": 4}"""));
        patients[1]!["outcomes"] = JsonNode.Parse("""[{"measure": "pasi", "timepointWeeks": 12, "baselineValue": 30, "value": 15}]""");
        patients[2]!["outcomes"] = JsonNode.Parse("""[{"measure": "pasi", "timepointWeeks": 12, "baselineValue": 40, "value": 10}]""");
        return report;
    }

    private async Task<SynthesisResult> SynthesiseAsync(string query) =>
        await (await api.CreateClient().GetAsync($"/v1/synthesis?{query}")).ShouldBeOkAsync<SynthesisResult>();

    [Fact]
    public async Task Synthesis_SeveralPatientsWithPasiScores_CountsEachPatientsOwnResponse()
    {
        var study = await PublishAsync(ThreePatientsWithPasi("intradermal"));
        // The study's PASI outcome holds the means (30 to 9.67: 68 % better), which say nothing about each patient.
        var pasi = Assert.Single(study.Outcomes, o => o.Measure == "pasi");
        Assert.Equal((3, 30m, 9.67m), (pasi.Assessed!.Value, pasi.BaselineValue!.Value, pasi.Value!.Value));
        const string scope = "product=exosomes&cellSource=placenta&route=intradermal";

        var pasi75 = await SynthesiseAsync($"measure=pasi_75&{scope}");

        var row = Assert.Single(pasi75.Rows);
        Assert.Equal((study.Id, pasi.Id, "pasi", true, 3, 2), (row.StudyId, row.OutcomeId, row.Measure, row.Derived, row.Assessed, row.Responders));
        Assert.Equal((1, 3, 2), (pasi75.Studies, pasi75.Patients, pasi75.Responders));
        Assert.Empty(pasi75.Excluded);

        // The threshold is each patient's: 80 % reaches 80 but not 90; every one reaches 50.
        Assert.Equal((3, 1), Counted(await SynthesiseAsync($"measure=pasi&threshold=80&{scope}")));
        Assert.Equal((3, 0), Counted(await SynthesiseAsync($"measure=pasi_90&{scope}")));
        Assert.Equal((3, 3), Counted(await SynthesiseAsync($"measure=pasi_50&{scope}")));
        Assert.Equal((3, 2), Counted(await SynthesiseAsync($"measure=pasi_75&{scope}&model=random")));
    }

    [Fact]
    public async Task Synthesis_PatientWithoutBaseline_IsNotCountedAsAssessed()
    {
        var report = ThreePatientsWithPasi("intralesional");
        report["patients"]![2]!["outcomes"]![0]!.AsObject().Remove("baselineValue");

        var study = await PublishAsync(report);

        Assert.Equal(3, Assert.Single(study.Outcomes, o => o.Measure == "pasi").Assessed);
        var row = Assert.Single((await SynthesiseAsync("measure=pasi_75&product=exosomes&cellSource=placenta&route=intralesional")).Rows);
        Assert.Equal((true, 2, 1), (row.Derived, row.Assessed, row.Responders));
    }

    [Fact]
    public async Task Synthesis_DirectlyReportedCount_IsPreferredToTheOneDerivedFromPatientsScores()
    {
        // Each patient's PASI-75 as the report states it, at the same 12 weeks: one of three (the scores would say two).
        var report = ThreePatientsWithPasi("other");
        foreach (var (patient, responded) in report["patients"]!.AsArray().Zip(new[] { 1, 0, 0 }))
        {
            patient!["outcomes"]!.AsArray().Add(JsonNode.Parse($$"""{"measure": "pasi_75", "timepointWeeks": 12, "assessed": 1, "responders": {{responded}}}"""));
        }

        var study = await PublishAsync(report);
        const string scope = "product=exosomes&cellSource=placenta&route=other";

        var reported = Assert.Single((await SynthesiseAsync($"measure=pasi_75&{scope}")).Rows);
        Assert.Equal((Assert.Single(study.Outcomes, o => o.Measure == "pasi_75").Id, "pasi_75", false, 3, 1),
            (reported.OutcomeId, reported.Measure, reported.Derived, reported.Assessed, reported.Responders));
        // Without a reported count, the scores answer.
        var derived = Assert.Single((await SynthesiseAsync($"measure=pasi_50&{scope}")).Rows);
        Assert.Equal(("pasi", true, 3, 3), (derived.Measure, derived.Derived, derived.Assessed, derived.Responders));
    }

    [Fact]
    public async Task Synthesis_SeedStudyWithPatients_CountsOnlyPatientsWithBaselineAndValue()
    {
        // Four patients: PASI 20 to 4 (80 %), 30 to 15 (50 %), 24 with no value after treatment, and 6 with no baseline.
        await api.SeedAsync(new Dictionary<string, string>
        {
            ["patient-scores-series.json"] = """
                {
                  "source": { "title": "Synthetic series with patient scores", "authors": ["Score S"], "year": 2021 },
                  "studies": [ {
                    "key": "patient-scores-series", "title": "Synthetic series with patient scores", "design": "case_series",
                    "condition": "patient scores", "participants": 4, "followUpWeeks": 12,
                    "interventions": [ { "key": "uc-iv", "product": "msc_cells", "cellSource": "umbilical_cord", "route": "intravenous" } ],
                    "outcomes": [ { "intervention": "uc-iv", "measure": "pasi", "timepoint": "12 weeks", "timepointWeeks": 12,
                                    "baseline": 24.67, "value": 8.33, "assessed": 4, "quote": "Synthetic: PASI of four patients." } ],
                    "patients": [
                      { "position": 0, "relapse": { "occurred": false }, "outcomes": [ { "outcome": 0, "baseline": 20, "value": 4, "assessed": 1 } ] },
                      { "position": 1, "relapse": { "occurred": false }, "outcomes": [ { "outcome": 0, "baseline": 30, "value": 15, "assessed": 1 } ] },
                      { "position": 2, "relapse": { "occurred": false }, "outcomes": [ { "outcome": 0, "baseline": 24, "value": null, "assessed": 1 } ] },
                      { "position": 3, "relapse": { "occurred": false }, "outcomes": [ { "outcome": 0, "baseline": null, "value": 6, "assessed": 1 } ] }
                    ]
                  } ]
                }
                """,
        });

        var pasi75 = await SynthesiseAsync("measure=pasi_75&condition=patient%20scores");
        var row = Assert.Single(pasi75.Rows);
        Assert.Equal(("patient-scores-series", true, 2, 1), (row.Key, row.Derived, row.Assessed, row.Responders));
        Assert.Equal((2, 2), Counted(await SynthesiseAsync("measure=pasi&threshold=50&condition=patient%20scores")));
    }

    private static (int Patients, int Responders) Counted(SynthesisResult result) => (result.Patients, result.Responders);

    [Fact]
    public async Task Submit_FiftyOnePatients_Is400OnPatients_AndStoresNothing()
    {
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var before = await api.QueryScalarAsync<long>("SELECT count(*) FROM submissions");

        var response = await contributor.PostAsync("/v1/case-reports", Json(Unique(PatientsValidationTests.Patients(51), "subcutaneous")));

        Assert.Contains("At most 50 patients", (await response.ShouldBeFieldErrorAsync("patients"))[0], StringComparison.Ordinal);
        Assert.Equal(before, await api.QueryScalarAsync<long>("SELECT count(*) FROM submissions"));
    }

    [Fact]
    public async Task Submit_ErrorsOfSeveralPatients_AreAllNamedAtOnce()
    {
        var report = Unique(PatientsValidationTests.Patients(3), "subcutaneous");
        report["patients"]![1]!["outcomes"]![0]!["assessed"] = 2;
        report["patients"]![2]!["outcomes"]![0]!["measure"] = "pasi";
        report["patients"]![2]!["outcomes"]![0]!["value"] = 80;
        report["patients"]![2]!["outcomes"]![0]!["responders"] = null;
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));

        var problem = await (await contributor.PostAsync("/v1/case-reports", Json(report))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        var keys = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("patients[1].outcomes[0].assessed", keys);
        Assert.Contains("patients[2].outcomes[0].value", keys);
    }

    [Fact]
    public async Task Submit_TwoPatientsWithIdempotencyKey_ReplaysTheSameSubmission()
    {
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var report = Unique(PatientsValidationTests.TwoPatients(), "subcutaneous");
        var key = Guid.NewGuid().ToString("N");

        async Task<HttpResponseMessage> PostAsync(JsonNode body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/case-reports") { Content = Json(body) };
            request.Headers.Add("Idempotency-Key", key);
            return await contributor.SendAsync(request);
        }

        var first = await (await PostAsync(report)).Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json);
        var again = await PostAsync(report);
        var changed = await PostAsync(CaseReportValidatorTests.With(report.DeepClone(), "patients[1].age", 27));

        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(first!.Id, (await again.Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json))!.Id);
        Assert.Equal(2, first.Report.Patients?.Count);
        await changed.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task Publish_FailingHalfway_WritesNoPatientAndLeavesTheSubmissionWaiting()
    {
        var report = Unique(PatientsValidationTests.TwoPatients(), "subcutaneous");
        var (submission, curator) = await SubmitAsync(report);
        // A source with the same DOI arrives after the submission: publishing fails on it after the study row is written.
        await using (var connection = new NpgsqlConnection(api.ConnectionString))
        {
            await connection.ExecuteAsync("INSERT INTO sources (title, doi) VALUES ('Arrived meanwhile', @Doi)", new { Doi = report["source"]!["doi"]!.GetValue<string>() });
        }

        var patientsBefore = await api.QueryScalarAsync<long>("SELECT count(*) FROM study_patients");
        var response = await curator.PostAsJsonAsync($"/v1/submissions/{submission.Id}/publish", new { reason = "Complete" });

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(patientsBefore, await api.QueryScalarAsync<long>("SELECT count(*) FROM study_patients"));
        Assert.Equal(0, await api.QueryScalarAsync<long>("SELECT count(*) FROM studies WHERE key = @Key", new { Key = $"case-report-{submission.Id}" }));
        Assert.Equal("submitted", await api.QueryScalarAsync<string>("SELECT status FROM submissions WHERE id = @Id", new { submission.Id }));
    }

    [Fact]
    public async Task Database_RefusesAnOutcomeThatIsNotTheSumOfItsPatients()
    {
        var study = await PublishAsync(Unique(PatientsValidationTests.TwoPatients(), "topical"));
        var relapse = Assert.Single(study.Outcomes, o => o.Measure == "relapse_free");
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();

        var overCount = await Assert.ThrowsAsync<PostgresException>(() =>
            connection.ExecuteAsync("UPDATE outcomes SET assessed = 3, responders = 2 WHERE id = @Id", new { relapse.Id }));
        var twice = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "INSERT INTO patient_outcomes (patient_id, outcome_id, measure, assessed) VALUES (@Patient, @Id, 'relapse_free', 1)",
            new { Patient = study.Patients[0].Id, relapse.Id }));
        var perPatient = await Assert.ThrowsAsync<PostgresException>(() =>
            connection.ExecuteAsync("UPDATE patient_outcomes SET assessed = 2 WHERE outcome_id = @Id", new { relapse.Id }));

        Assert.Equal("outcomes_sum_of_patients", overCount.ConstraintName);
        Assert.Equal("patient_outcomes_once_per_outcome", twice.ConstraintName);
        Assert.Equal(PostgresErrorCodes.CheckViolation, perPatient.SqlState);
        Assert.Equal(2, await api.QueryScalarAsync<int>("SELECT assessed FROM outcomes WHERE id = @Id", new { relapse.Id }));
    }
}
