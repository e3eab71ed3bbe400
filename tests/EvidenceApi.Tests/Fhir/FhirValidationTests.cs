using System.Net;
using System.Net.Http.Json;
using System.Text;
using EvidenceApi.Submissions;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;
using Hl7.Fhir.Model;
using Xunit.Abstractions;
using Task = System.Threading.Tasks.Task;

namespace EvidenceApi.Tests.Fhir;

/// <summary>
/// Every kind of resource the facade serves, for all seeded data and for a published case report, validated with Firely's
/// validator against the R4 core specification: no errors, and every warning one of those explained below.
/// </summary>
[Collection(nameof(FhirValidationTests))]
public sealed class FhirValidationTests(EvidenceApiFactory api, ITestOutputHelper output) : IClassFixture<EvidenceApiFactory>
{
    /// <summary>The warnings the validator gives for our resources, and why each is acceptable.</summary>
    private static readonly (string Pattern, string Why)[] ExplainedWarnings =
    [
        ("cannot find codesystem 'urn:ietf:bcp:13'",
            "CapabilityStatement.format holds MIME types (application/fhir+json, and FHIR's shorthand json); the offline specification " +
            "does not contain the MIME type code system, so the validator cannot look them up and says so instead of failing."),
    ];

    private readonly HttpClient client = api.CreateClient();

    [Fact]
    public async Task EveryServedResource_ForTheSeedsAndAPublishedCaseReport_ValidatesWithoutErrors()
    {
        var published = await PublishCaseReportAsync();
        var resources = new List<(string Where, Resource Resource)>
        {
            ("metadata", await GetAsync<CapabilityStatement>("/fhir/metadata")),
        };

        var studyIds = new List<string>();
        for (var url = "/fhir/ResearchStudy?_count=4"; url is not null;)
        {
            var bundle = await GetAsync<Bundle>(url);
            resources.Add((url, bundle));
            studyIds.AddRange(bundle.Entry.Select(e => e.Resource!.Id!));
            url = bundle.NextLink?.PathAndQuery;
        }

        Assert.Contains(published.ToString(System.Globalization.CultureInfo.InvariantCulture), studyIds);
        Assert.True(studyIds.Count >= 10, $"Expected every seeded study and the case report, got {studyIds.Count}");
        // Every study is in the searchsets above; a read returns the same resource, so one read is validated as such.
        resources.Add(($"ResearchStudy/{published}", await GetAsync<ResearchStudy>($"/fhir/ResearchStudy/{published}")));
        foreach (var id in studyIds)
        {
            resources.Add(($"Group/{id}", await GetAsync<Group>($"/fhir/Group/{id}")));
            resources.Add(($"Observation?focus=ResearchStudy/{id}", await GetAsync<Bundle>($"/fhir/Observation?focus=ResearchStudy/{id}&_count=200")));
        }

        var anyObservation = (await GetAsync<Bundle>("/fhir/Observation?_count=1")).Entry.Single().Resource!.Id;
        resources.Add(($"Observation/{anyObservation}", await GetAsync<Observation>($"/fhir/Observation/{anyObservation}")));

        foreach (var type in new[] { "EvidenceVariable", "CodeSystem" })
        {
            var bundle = await GetAsync<Bundle>($"/fhir/{type}");
            resources.Add((type, bundle));
            var first = bundle.Entry[0].Resource!.Id;
            resources.Add(($"{type}/{first}", await GetAsync<Resource>($"/fhir/{type}/{first}")));
        }

        foreach (var query in new[]
        {
            "measure=clinical_response&review=paganelli-2020-msc-psoriasis-review",
            "measure=pasi_75&condition=psoriasis&cellSource=umbilical_cord&route=intravenous",
            "measure=clinical_response&condition=psoriasis&design=case_report,case_series",
            "measure=pasi&threshold=50",
            "measure=relapse_free&condition=nothing-like-this",
        })
        {
            resources.Add(($"RiskEvidenceSynthesis?{query}", await GetAsync<Bundle>($"/fhir/RiskEvidenceSynthesis?{query}")));
        }

        resources.Add(("unsupported parameter", await GetAsync<OperationOutcome>("/fhir/ResearchStudy?status=active", HttpStatusCode.BadRequest)));
        resources.Add(("unknown study", await GetAsync<OperationOutcome>("/fhir/ResearchStudy/987654321", HttpStatusCode.NotFound)));

        var errors = new List<string>();
        var warnings = new List<string>();
        foreach (var (where, resource) in resources)
        {
            foreach (var issue in FhirValidation.Validate(resource))
            {
                var text = $"{where}: {issue.Severity} {string.Join(",", issue.Expression)}: {issue.Details?.Text ?? issue.Diagnostics}";
                (issue.Severity == OperationOutcome.IssueSeverity.Warning ? warnings : errors).Add(text);
            }
        }

        output.WriteLine($"Validated {resources.Count} answers ({resources.Sum(r => r.Resource is Bundle b ? b.Entry.Count : 1)} resources).");
        foreach (var group in warnings.GroupBy(w => w[(w.IndexOf(": ", StringComparison.Ordinal) + 2)..]))
        {
            var explanation = ExplainedWarnings.FirstOrDefault(e => group.Key.Contains(e.Pattern, StringComparison.Ordinal)).Why;
            output.WriteLine($"warning x{group.Count()}: {group.Key} (e.g. {group.First()[..group.First().IndexOf(": ", StringComparison.Ordinal)]}) - {explanation ?? "NOT EXPLAINED"}");
        }

        foreach (var error in errors.Take(50))
        {
            output.WriteLine(error);
        }

        Assert.Empty(errors);
        Assert.All(warnings, w => Assert.Contains(ExplainedWarnings, e => w.Contains(e.Pattern, StringComparison.Ordinal)));
    }

    private Task<T> GetAsync<T>(string url, HttpStatusCode status = HttpStatusCode.OK) where T : Resource => client.GetResourceAsync<T>(url, status);

    /// <summary>A contributor's case report, published by a curator: it becomes a study like any other.</summary>
    private async Task<long> PublishCaseReportAsync()
    {
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.fhir.{Guid.NewGuid():N}";
        var title = $"FHIR validation case {Guid.NewGuid():N}";
        report["title"] = title;
        report["source"]!["title"] = title;
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var curator = api.CreateClient(await api.CreateKeyAsync("curator"));
        var submitted = await contributor.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var submission = (await submitted.Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json))!;
        var published = await (await curator.PostAsJsonAsync($"/v1/submissions/{submission.Id}/publish", new { reason = "FHIR check" })).ShouldBeOkAsync<SubmissionView>();
        return published.StudyId!.Value;
    }
}

/// <summary>Validation is CPU-heavy for about a minute: it runs alone, so that it cannot starve tests that time their own work.</summary>
[CollectionDefinition(nameof(FhirValidationTests), DisableParallelization = true)]
public sealed class FhirValidationRunsAlone;
