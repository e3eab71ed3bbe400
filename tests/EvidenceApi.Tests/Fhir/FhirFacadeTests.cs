using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EvidenceApi.Outcomes;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Synthesis;
using EvidenceApi.Tests.Infrastructure;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace EvidenceApi.Tests.Fhir;

/// <summary>The FHIR facade over the seeds: round trips against /v1, search, errors, caching and bulk export.</summary>
public sealed class FhirFacadeTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private const string Cheng = "cheng-2022-umsc-psoriasis-phase-1-2a";
    private readonly HttpClient client = api.CreateClient();

    private Task<T> FhirAsync<T>(string url, HttpStatusCode status = HttpStatusCode.OK) where T : Resource => client.GetResourceAsync<T>(url, status);

    private async Task<T> V1Async<T>(string url) => await (await client.GetAsync(url)).ShouldBeOkAsync<T>();

    [Fact]
    public async Task ResearchStudies_ParsedBack_MatchV1StudyByStudy()
    {
        var v1 = await V1Async<Page<StudySummary>>("/v1/studies?limit=200&sort=id");
        var studies = new List<ResearchStudy>();
        for (var url = "/fhir/ResearchStudy?_count=3"; url is not null;)
        {
            var bundle = await FhirAsync<Bundle>(url);
            Assert.Equal(Bundle.BundleType.Searchset, bundle.Type);
            Assert.Equal(v1.Total, bundle.Total);
            studies.AddRange(bundle.Entry.Select(e => Assert.IsType<ResearchStudy>(e.Resource)));
            url = bundle.NextLink?.PathAndQuery;
        }

        Assert.Equal(v1.Items.Select(s => s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), studies.Select(s => s.Id));
        foreach (var summary in v1.Items)
        {
            var detail = await V1Async<StudyDetail>($"/v1/studies/{summary.Id}");
            var study = studies.Single(s => s.Id == summary.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(detail.Title, study.Title);
            Assert.Equal(detail.Key, study.Identifier.Single(i => i.System == "https://evidence-api.org/fhir/identifier/study-key").Value);
            Assert.Equal(detail.Source?.Doi, study.Identifier.SingleOrDefault(i => i.System == "https://doi.org")?.Value);
            Assert.Equal(detail.Source?.Pmid, study.Identifier.SingleOrDefault(i => i.System == "https://pubmed.ncbi.nlm.nih.gov")?.Value);
            Assert.Equal(detail.Design, study.Category.Single().Coding.Single().Code);
            Assert.Equal(detail.Interventions.Select(i => i.Key), study.Arm.Select(a => a.Name));
            Assert.Contains(detail.Condition, study.Condition.Single().Text, StringComparison.Ordinal);
            Assert.Equal(detail.IncludedStudies.Count, study.RelatedArtifact.Count(a => a.Type == RelatedArtifact.RelatedArtifactType.ComposedOf));

            var group = await FhirAsync<Group>($"/fhir/Group/{summary.Id}");
            Assert.Equal(detail.Participants, group.Quantity);
            Assert.Equal($"Group/{summary.Id}", study.Enrollment.Single().Reference);
        }

        var cheng = studies.Single(s => s.Identifier.Any(i => i.Value == Cheng));
        Assert.Equal("9014002", cheng.Condition.Single().Coding.Single(c => c.System == "http://snomed.info/sct").Code);
        Assert.Contains("https://doi.org/10.1038/s41392-022-01059-y", cheng.RelatedArtifact.Select(a => a.Url));
        Assert.Equal(ResearchStudy.ResearchStudyStatus.Active, studies.Single(s => s.Identifier.Any(i => i.Value == "NCT03745417")).Status);
    }

    [Fact]
    public async Task Observations_OfAStudy_CarryV1sNumbersAndQuotes()
    {
        var study = await V1Async<StudyDetail>($"/v1/studies/{Cheng}");
        var outcomes = await V1Async<Page<OutcomeListItem>>($"/v1/outcomes?studyId={study.Id}&limit=200");
        var bundle = await FhirAsync<Bundle>($"/fhir/Observation?focus=ResearchStudy/{study.Id}");

        Assert.Equal(outcomes.Total, bundle.Total);
        var observations = bundle.Entry.Select(e => Assert.IsType<Observation>(e.Resource)).ToList();
        foreach (var item in outcomes.Items)
        {
            var outcome = item.Outcome;
            var observation = observations.Single(o => o.Id == outcome.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(ObservationStatus.Final, observation.Status);
            Assert.Equal(outcome.Measure, observation.Code.Coding.Single().Code);
            Assert.Equal($"ResearchStudy/{study.Id}", observation.Focus.Single().Reference);
            Assert.Equal($"Group/{study.Id}", observation.Subject!.Reference);
            Assert.Equal(outcome.Quote, observation.Note[0].Text);
            if (outcome is { Responders: { } responders, Assessed: { } assessed })
            {
                var ratio = Assert.IsType<Ratio>(observation.Value);
                Assert.Equal((responders, assessed), ((int)ratio.Numerator!.Value!.Value, (int)ratio.Denominator!.Value!.Value));
            }
            else if (outcome.Value is { } value)
            {
                Assert.Equal(value, Assert.IsType<Quantity>(observation.Value).Value);
            }

            if (outcome.TimepointWeeks is { } weeks)
            {
                var timepoint = observation.Component.Single(c => c.Code.Coding.Single().Code == "timepoint");
                Assert.Equal(weeks, Assert.IsType<Quantity>(timepoint.Value).Value);
            }
        }

        var pasi40 = await FhirAsync<Bundle>($"/fhir/Observation?focus=ResearchStudy/{study.Id}&code=https://evidence-api.org/fhir/CodeSystem/measure|pasi_40");
        Assert.All(pasi40.Entry, e => Assert.Equal("pasi_40", ((Observation)e.Resource!).Code.Coding[0].Code));
        Assert.Equal(outcomes.Items.Count(o => o.Outcome.Measure == "pasi_40"), pasi40.Total);
    }

    [Fact]
    public async Task Synthesis_SixOfSix_HasV1sCountsAndBothIntervals()
    {
        const string Query = "measure=clinical_response&review=paganelli-2020-msc-psoriasis-review";
        var v1 = await V1Async<SynthesisResult>($"/v1/synthesis?{Query}");
        var bundle = await FhirAsync<Bundle>($"/fhir/RiskEvidenceSynthesis?{Query}");

        var synthesis = Assert.IsType<RiskEvidenceSynthesis>(Assert.Single(bundle.Entry).Resource);
        Assert.Equal((1, 6), (synthesis.SampleSize!.NumberOfStudies, synthesis.SampleSize.NumberOfParticipants));
        Assert.Equal((6, 6), (synthesis.RiskEstimate!.NumeratorCount, synthesis.RiskEstimate.DenominatorCount));
        Assert.Equal(1m, synthesis.RiskEstimate.Value);
        var (wilson, clopperPearson) = (synthesis.RiskEstimate.PrecisionEstimate[0], synthesis.RiskEstimate.PrecisionEstimate[1]);
        Assert.Contains("Wilson", wilson.Type!.Text, StringComparison.Ordinal);
        Assert.Contains("Clopper-Pearson", clopperPearson.Type!.Text, StringComparison.Ordinal);
        Assert.All(synthesis.RiskEstimate.PrecisionEstimate, p => Assert.Equal(0.95m, p.Level));
        Assert.Equal(v1.Wilson!.Lower, (double)wilson.From!.Value, 12);
        Assert.Equal(v1.Wilson.Upper, (double)wilson.To!.Value, 12);
        Assert.Equal(v1.ClopperPearson!.Lower, (double)clopperPearson.From!.Value, 12);
        Assert.Equal(0.6097, (double)wilson.From.Value, 4);
        Assert.Equal(0.5407, (double)clopperPearson.From.Value, 4);
        Assert.Contains(synthesis.Note, n => n.Text!.Contains("Clopper-Pearson", StringComparison.Ordinal));
        Assert.Single(synthesis.RelatedArtifact);
        Assert.Equal(["population", "exposure", "outcome"], synthesis.Contained.Select(c => c.Id));
    }

    [Theory]
    [InlineData("/fhir/ResearchStudy?identifier=https://doi.org|10.1038/S41392-022-01059-Y", "/v1/studies?identifier=10.1038/s41392-022-01059-y", 1)]
    [InlineData("/fhir/ResearchStudy?identifier=32386432", "/v1/studies?identifier=32386432", 1)]
    [InlineData("/fhir/ResearchStudy?identifier=https://clinicaltrials.gov|NCT03745417", "/v1/studies?identifier=NCT03745417", 1)]
    [InlineData("/fhir/ResearchStudy?identifier=http://example.org/other|32386432", null, 0)]
    [InlineData("/fhir/ResearchStudy?condition=http://snomed.info/sct|9014002&design=case_report", "/v1/studies?condition=psoriasis&design=case_report", null)]
    [InlineData("/fhir/ResearchStudy?condition=psoriasis&product=exosomes", "/v1/studies?condition=psoriasis&product=exosomes", null)]
    [InlineData("/fhir/ResearchStudy?condition=http://snomed.info/sct|24079001", null, 0)]
    [InlineData("/fhir/ResearchStudy?title=stem%20cell%20SECRETOME", "/v1/studies?title=Stem%20cell%20secretome", 1)]
    [InlineData("/fhir/ResearchStudy?_id=1,2", "/v1/studies?id=1,2", 2)]
    public async Task ResearchStudySearch_FindsWhatV1Finds_ByIdentifierConditionTitleAndId(string url, string? v1Url, int? expected)
    {
        var bundle = await FhirAsync<Bundle>(url + "&_count=200");
        if (v1Url is not null)
        {
            var v1 = await V1Async<Page<StudySummary>>(v1Url + "&limit=200");
            Assert.Equal(v1.Total, bundle.Total);
            Assert.Equal(v1.Items.Select(s => s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(), bundle.Entry.Select(e => e.Resource!.Id).Order());
            Assert.True(v1.Total > 0, $"{v1Url} should find something");
        }

        if (expected is not null)
        {
            Assert.Equal(expected, bundle.Total);
        }

        Assert.Equal(bundle.Total, bundle.Entry.Count);
    }

    [Theory]
    [InlineData("/fhir/ResearchStudy?status=active", HttpStatusCode.BadRequest, "status")]
    [InlineData("/fhir/ResearchStudy?title:contains=psoriasis", HttpStatusCode.BadRequest, "title:contains")]
    [InlineData("/fhir/ResearchStudy?_count=0", HttpStatusCode.BadRequest, "_count")]
    [InlineData("/fhir/ResearchStudy?design=cohort", HttpStatusCode.BadRequest, "design")]
    [InlineData("/fhir/ResearchStudy?_cursor=garbage", HttpStatusCode.BadRequest, "_cursor")]
    [InlineData("/fhir/RiskEvidenceSynthesis?measure=pasi_75&route=oral", HttpStatusCode.BadRequest, "route")]
    [InlineData("/fhir/RiskEvidenceSynthesis?measure=pasi_75&yearFrom=soon", HttpStatusCode.BadRequest, "yearFrom")]
    [InlineData("/fhir/RiskEvidenceSynthesis?cellSource=adipose", HttpStatusCode.BadRequest, "measure")]
    [InlineData("/fhir/Observation?focus=Patient/1", HttpStatusCode.BadRequest, "focus")]
    [InlineData("/fhir/ResearchStudy?_format=xml", HttpStatusCode.NotAcceptable, "_format")]
    public async Task BadSearch_IsAnOperationOutcomeNamingTheParameter(string url, HttpStatusCode status, string parameter)
    {
        var outcome = await FhirAsync<OperationOutcome>(url, status);
        Assert.Contains(outcome.Issue, i => i.Severity == OperationOutcome.IssueSeverity.Error && i.Expression.Contains(parameter));
    }

    [Theory]
    [InlineData("/fhir/Patient", HttpStatusCode.NotFound)]
    [InlineData("/fhir/Patient/1", HttpStatusCode.NotFound)]
    [InlineData("/fhir/ResearchStudy/987654", HttpStatusCode.NotFound)]
    [InlineData("/fhir/ResearchStudy/cheng-2022-umsc-psoriasis-phase-1-2a", HttpStatusCode.NotFound)]
    [InlineData("/fhir/EvidenceVariable/pasi_75", HttpStatusCode.NotFound)]
    [InlineData("/fhir/RiskEvidenceSynthesis/1", HttpStatusCode.MethodNotAllowed)]
    [InlineData("/fhir/Group", HttpStatusCode.MethodNotAllowed)]
    [InlineData("/fhir/ResearchStudy/1/_history", HttpStatusCode.NotFound)]
    [InlineData("/fhir/RiskEvidenceSynthesis?measure=pasi_75&review=no-such-review", HttpStatusCode.NotFound)]
    public async Task UnknownTypesIdsAndInteractions_AreRefusedWithAnOperationOutcome(string url, HttpStatusCode status)
    {
        var outcome = await FhirAsync<OperationOutcome>(url, status);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Issue.Single().Diagnostics));
    }

    [Fact]
    public async Task EveryCodeInAResource_ResolvesToAServedCodeSystem()
    {
        var codeSystems = (await FhirAsync<Bundle>("/fhir/CodeSystem")).Entry.Select(e => (CodeSystem)e.Resource!).ToList();
        var study = await FhirAsync<ResearchStudy>("/fhir/ResearchStudy/1");
        var observations = await FhirAsync<Bundle>("/fhir/Observation?_count=200");
        var codings = study.Category.Concat(study.Condition).SelectMany(c => c.Coding)
            .Concat(observations.Entry.SelectMany(e => ((Observation)e.Resource!).Code.Coding.Concat(((Observation)e.Resource!).Component.SelectMany(c => c.Code.Coding))))
            .Where(c => c.System?.StartsWith("https://evidence-api.org/", StringComparison.Ordinal) == true)
            .ToList();

        Assert.NotEmpty(codings);
        foreach (var coding in codings)
        {
            var codeSystem = codeSystems.SingleOrDefault(c => c.Url == coding.System);
            Assert.True(codeSystem is not null, $"{coding.System} is not served");
            Assert.Contains(codeSystem.Concept, c => c.Code == coding.Code);
            var byUrl = await FhirAsync<Bundle>($"/fhir/CodeSystem?url={Uri.EscapeDataString(coding.System!)}");
            Assert.Equal(1, byUrl.Total);
        }

        var pasi75 = await FhirAsync<EvidenceVariable>("/fhir/EvidenceVariable/pasi-75");
        Assert.Contains("at least 75 % improvement of PASI from baseline", pasi75.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_CarriesTheDataVersion_AsVersionIdAndWeakETag_AndMovesWithTheData()
    {
        var version = await api.QueryScalarAsync<long>("SELECT version FROM data_version");
        await WaitForVersionAsync(version);
        var response = await client.GetAsync("/fhir/ResearchStudy/1");
        var study = FhirValidation.Parse<ResearchStudy>(await response.Content.ReadAsStringAsync());
        Assert.Equal(version.ToString(System.Globalization.CultureInfo.InvariantCulture), study.Meta!.VersionId);
        Assert.Equal($"W/\"{version}\"", response.Headers.ETag?.ToString());

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/fhir/ResearchStudy/1");
        conditional.Headers.TryAddWithoutValidation("If-None-Match", $"W/\"{version}\"");
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(conditional)).StatusCode);

        // Changed behind the cache (triggers off): the cached answer stays until the version moves, then the change shows.
        await Caching.ReadCacheTests.ChangeBehindTheCacheAsync(api.ConnectionString, "changed for FHIR");
        var chengId = await api.QueryScalarAsync<long>("SELECT id FROM studies WHERE key = @Key", new { Key = Cheng });
        var before = await FhirAsync<ResearchStudy>($"/fhir/ResearchStudy/{chengId}");
        var bumped = await api.QueryScalarAsync<long>("SELECT bump_data_version()");
        await WaitForVersionAsync(bumped);
        var after = await FhirAsync<ResearchStudy>($"/fhir/ResearchStudy/{chengId}");
        Assert.Equal(bumped.ToString(System.Globalization.CultureInfo.InvariantCulture), after.Meta!.VersionId);
        Assert.Equal("changed for FHIR", after.Description);
        Assert.NotEqual(after.Meta.VersionId, before.Meta!.VersionId);
    }

    [Fact]
    public async Task BulkExport_KickOffPollManifestFiles_MatchTheEvidence_AndDeleteCancels()
    {
        await (await client.GetAsync("/fhir/$export")).Content.ReadAsStringAsync();
        var noPrefer = await client.GetAsync("/fhir/$export");
        Assert.Equal(HttpStatusCode.BadRequest, noPrefer.StatusCode);

        var (manifest, statusPath) = await ExportAsync("/fhir/$export");
        var studies = await api.QueryScalarAsync<long>("SELECT count(*) FROM studies");
        var outcomes = await api.QueryScalarAsync<long>("SELECT count(*) FROM outcomes");
        var files = manifest.GetProperty("output").EnumerateArray().ToDictionary(o => o.GetProperty("type").GetString()!, o => o);
        Assert.Equal(["ResearchStudy", "Group", "Observation", "EvidenceVariable", "CodeSystem"], files.Keys);
        Assert.Equal(studies, files["ResearchStudy"].GetProperty("count").GetInt64());
        Assert.Equal(outcomes, files["Observation"].GetProperty("count").GetInt64());

        var lines = await DownloadAsync(files["Observation"].GetProperty("url").GetString()!, gzip: false);
        Assert.Equal(outcomes, lines.Count);
        Assert.All(lines, line => Assert.IsType<Observation>(FhirValidation.Parse<Resource>(line)));
        var gzipped = await DownloadAsync(files["ResearchStudy"].GetProperty("url").GetString()!, gzip: true);
        Assert.Equal(studies, gzipped.Select(l => FhirValidation.Parse<ResearchStudy>(l).Id).Distinct().Count());

        // _type and _since: only studies changed after the instant, of the types asked for.
        var since = DateTimeOffset.UtcNow;
        await api.QueryScalarAsync<long>("UPDATE studies SET summary = summary || ' (revised)' WHERE key = @Key RETURNING id", new { Key = Cheng });
        var (changed, _) = await ExportAsync($"/fhir/$export?_type=ResearchStudy,Observation&_since={Uri.EscapeDataString(since.ToString("O"))}");
        var changedFiles = changed.GetProperty("output").EnumerateArray().ToDictionary(o => o.GetProperty("type").GetString()!, o => o.GetProperty("count").GetInt64());
        Assert.Equal(1, changedFiles["ResearchStudy"]);
        Assert.Equal(3, changedFiles["Observation"]);
        Assert.Equal(["ResearchStudy", "Observation"], changedFiles.Keys);

        Assert.Contains("_since", changed.GetProperty("request").GetString()!, StringComparison.Ordinal);

        // A finished export is deleted with its files: its status and files are gone at once (never served from a cache).
        Assert.Equal(HttpStatusCode.Accepted, (await client.DeleteAsync(statusPath)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(statusPath)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri(files["Observation"].GetProperty("url").GetString()!).PathAndQuery)).StatusCode);

        using var kickOff = new HttpRequestMessage(HttpMethod.Get, "/fhir/$export?_type=CodeSystem");
        kickOff.Headers.Add("Prefer", "respond-async");
        var accepted = await client.SendAsync(kickOff);
        var location = accepted.Content.Headers.ContentLocation ?? accepted.Headers.GetValues("Content-Location").Select(v => new Uri(v)).Single();
        Assert.Equal(HttpStatusCode.Accepted, (await client.DeleteAsync(location.PathAndQuery)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(location.PathAndQuery)).StatusCode);
    }

    [Theory]
    [InlineData("/fhir/$export?_type=Patient", "_type")]
    [InlineData("/fhir/$export?_since=yesterday", "_since")]
    [InlineData("/fhir/$export?_outputFormat=text/csv", "_outputFormat")]
    [InlineData("/fhir/$export?_typeFilter=x", "_typeFilter")]
    public async Task BulkExport_WithBadParameters_IsRefused(string url, string parameter)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("Prefer", "respond-async");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var outcome = FhirValidation.Parse<OperationOutcome>(await response.Content.ReadAsStringAsync());
        Assert.Contains(outcome.Issue, i => i.Expression.Contains(parameter));
    }

    /// <summary>Kicks off an export and polls its status until the manifest (202 with X-Progress meanwhile).</summary>
    private async Task<(JsonElement Manifest, string StatusPath)> ExportAsync(string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("Prefer", "respond-async");
        request.Headers.Add("Accept", "application/fhir+json");
        var accepted = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var status = new Uri(accepted.Content.Headers.ContentLocation?.ToString() ?? accepted.Headers.GetValues("Content-Location").Single()).PathAndQuery;
        for (var attempt = 0; attempt < 600; attempt++)
        {
            var poll = await client.GetAsync(status);
            if (poll.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("no-store", poll.Headers.CacheControl?.ToString());
                return (await poll.Content.ReadFromJsonAsync<JsonElement>(), status);
            }

            Assert.Equal(HttpStatusCode.Accepted, poll.StatusCode);
            Assert.True(poll.Headers.Contains("X-Progress"));
            await Task.Delay(100);
        }

        throw new TimeoutException($"The export {status} did not complete in a minute.");
    }

    private async Task<List<string>> DownloadAsync(string url, bool gzip)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url).PathAndQuery);
        if (gzip)
        {
            request.Headers.Add("Accept-Encoding", "gzip");
        }

        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/fhir+ndjson", response.Content.Headers.ContentType?.MediaType);
        await using var body = await response.Content.ReadAsStreamAsync();
        await using Stream text = gzip ? new GZipStream(body, CompressionMode.Decompress) : body;
        using var reader = new StreamReader(text);
        var lines = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    private async Task WaitForVersionAsync(long version)
    {
        var dataVersion = api.Services.GetService(typeof(EvidenceApi.Caching.DataVersion)) as EvidenceApi.Caching.DataVersion;
        for (var i = 0; i < 200 && dataVersion!.Current != version; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal(version, dataVersion!.Current);
    }
}
