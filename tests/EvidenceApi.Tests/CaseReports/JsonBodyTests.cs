using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.CaseReports;

/// <summary>Every JSON body (case reports, moderation decisions, key requests) is read alike: type, syntax, repeated properties, numbers out of range.</summary>
public sealed class JsonBodyTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    private static string Report(Func<string, string>? edit = null)
    {
        var report = CaseReportValidatorTests.Example();
        report["source"]!["doi"] = $"10.5555/evidence.body.{Guid.NewGuid():N}";
        report["title"] = $"Body case {Guid.NewGuid():N}";
        var text = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        return edit is null ? text : edit(text);
    }

    private async Task<HttpResponseMessage> SubmitAsync(string body, string contentType = "application/json")
    {
        var client = api.CreateClient(await api.CreateKeyAsync("contributor"));
        return await client.PostAsync("/v1/case-reports", new StringContent(body, Encoding.UTF8, contentType));
    }

    private async Task<(HttpClient Curator, long Id)> SubmissionAsync()
    {
        var created = await api.CreateClient(await api.CreateKeyAsync("contributor"))
            .PostAsync("/v1/case-reports", new StringContent(Report(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        return (api.CreateClient(await api.CreateKeyAsync("curator")), id);
    }

    [Theory]
    [InlineData("\"followUpWeeks\": 26", "\"followUpWeeks\": 52, \"followUpWeeks\": 1", "followUpWeeks")]
    [InlineData("\"age\": 38", "\"age\": 38, \"age\": 83", "patient.age")]
    [InlineData("\"measure\": \"pssi\",\n      \"timepointWeeks\": 4,", "\"measure\": \"pssi\", \"measure\": \"pasi\",\n      \"timepointWeeks\": 4,", "outcomes[0].measure")]
    public async Task Submit_RepeatedProperty_Is400NamingItsPath(string find, string replace, string path)
    {
        var body = Report(text => text.Replace(find, replace, StringComparison.Ordinal));
        Assert.NotEqual(Report(), body);

        var messages = await (await SubmitAsync(body)).ShouldBeFieldErrorAsync(path);
        Assert.Contains("more than once", messages[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reject_RepeatedProperty_Is400NamingIt()
    {
        var (curator, id) = await SubmissionAsync();
        var response = await curator.PostAsync($"/v1/submissions/{id}/reject",
            new StringContent("{\"reason\": \"Incomplete.\", \"reason\": \"\"}", Encoding.UTF8, "application/json"));

        Assert.Contains("more than once", (await response.ShouldBeFieldErrorAsync("reason"))[0], StringComparison.Ordinal);
        Assert.Equal("submitted", (await (await curator.GetAsync($"/v1/submissions/{id}")).ShouldBeOkAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("\"administrations\": 28", "\"administrations\": 3000000000", "interventions[0].administrations", "too large", "1 to 10000")]
    [InlineData("\"administrations\": 28", "\"administrations\": -3000000000", "interventions[0].administrations", "too small", "1 to 10000")]
    [InlineData("\"age\": 38", "\"age\": 1e400", "patient.age", "too large", "0 to 120")]
    [InlineData("\"followUpWeeks\": 26", "\"followUpWeeks\": 1e40", "followUpWeeks", "too large", "0 to 5200")]
    public async Task Submit_NumberOutOfRange_SaysTooLargeWithTheAllowedRange(string find, string replace, string path, string says, string range)
    {
        var body = Report(text => text.Replace(find, replace, StringComparison.Ordinal));

        var message = (await (await SubmitAsync(body)).ShouldBeFieldErrorAsync(path))[0];
        Assert.Contains(says, message, StringComparison.Ordinal);
        Assert.Contains(range, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_FractionWhereAWholeNumberIsDue_SaysWholeNumber()
    {
        var body = Report(text => text.Replace("\"administrations\": 28", "\"administrations\": 2.5", StringComparison.Ordinal));
        Assert.Contains("whole number", (await (await SubmitAsync(body)).ShouldBeFieldErrorAsync("interventions[0].administrations"))[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task Submit_AnyNonJsonContentType_Is415SayingWhatToSend(string? contentType)
    {
        var client = api.CreateClient(await api.CreateKeyAsync("contributor"));
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Report()));
        if (contentType is not null)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        var problem = await (await client.PostAsync("/v1/case-reports", content)).ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("Content-Type: application/json", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reject_NonJsonContentType_Is415SayingWhatToSend()
    {
        var (curator, id) = await SubmissionAsync();
        var problem = await (await curator.PostAsync($"/v1/submissions/{id}/reject", new StringContent("Incomplete.", Encoding.UTF8, "text/plain")))
            .ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("application/json", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\n  \"title\": x\n}", "line 2, column 12")]
    [InlineData("{\"title\": \"Ünïcode\" \"summary\": 1}", "line 1, column 21")]
    [InlineData("{\"title\": \"open", "line 1")]
    public async Task Submit_MalformedJson_NamesOnePositionAndNoParserInternals(string body, string position)
    {
        var message = (await (await SubmitAsync(body)).ShouldBeFieldErrorAsync("$"))[0];

        Assert.Contains(position, message, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(message, "line \\d+"));
        foreach (var internals in new[] { "LineNumber", "BytePositionInLine", "Path:", "System.Text.Json" })
        {
            Assert.DoesNotContain(internals, message, StringComparison.Ordinal);
        }
    }

    private async Task<(HttpClient Curator, long KeyId)> ContributorKeyAsync()
    {
        var curator = api.CreateClient(await api.CreateKeyAsync("curator"));
        var issued = await curator.PostAsync("/v1/keys", new StringContent($"{{\"name\": \"Body test {Guid.NewGuid():N}\"}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        return (curator, (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task IssueKey_RepeatedProperty_Is400NamingIt_AndIssuesNothing()
    {
        var curator = api.CreateClient(await api.CreateKeyAsync("curator"));
        var name = $"Twice {Guid.NewGuid():N}";

        var response = await curator.PostAsync("/v1/keys", new StringContent($"{{\"name\": \"{name}\", \"expiresInDays\": 30, \"expiresInDays\": 3650}}", Encoding.UTF8, "application/json"));

        Assert.Contains("more than once", (await response.ShouldBeFieldErrorAsync("expiresInDays"))[0], StringComparison.Ordinal);
        Assert.Equal(0, await api.QueryScalarAsync<long>("SELECT count(*) FROM api_keys WHERE name = @Name", new { Name = name }));
    }

    [Theory]
    [InlineData("3000000000", "too large")]
    [InlineData("-3000000000", "too small")]
    [InlineData("1e400", "too large")]
    public async Task IssueKey_ExpiryOutOfRange_SaysSoWithTheAllowedRange(string days, string says)
    {
        var curator = api.CreateClient(await api.CreateKeyAsync("curator"));

        var response = await curator.PostAsync("/v1/keys", new StringContent($"{{\"name\": \"Far future\", \"expiresInDays\": {days}}}", Encoding.UTF8, "application/json"));

        var message = (await response.ShouldBeFieldErrorAsync("expiresInDays"))[0];
        Assert.Contains(says, message, StringComparison.Ordinal);
        Assert.Contains("1 to 3650", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IssueKey_MalformedJson_NamesOnePositionAndNoParserInternals()
    {
        var curator = api.CreateClient(await api.CreateKeyAsync("curator"));

        var message = (await (await curator.PostAsync("/v1/keys", new StringContent("{\n  \"name\": x\n}", Encoding.UTF8, "application/json")))
            .ShouldBeFieldErrorAsync("$"))[0];

        Assert.Contains("line 2, column 11", message, StringComparison.Ordinal);
        Assert.DoesNotContain("BytePositionInLine", message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/keys", "text/plain")]
    [InlineData("/v1/keys", null)]
    [InlineData("/v1/keys/{id}/revoke", "text/plain")]
    [InlineData("/v1/keys/{id}/revoke", "application/x-www-form-urlencoded")]
    public async Task KeyRequests_NonJsonContentType_Are415SayingWhatToSend(string url, string? contentType)
    {
        var (curator, id) = await ContributorKeyAsync();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("{\"name\": \"Plain\", \"reason\": \"Plain\"}"));
        if (contentType is not null)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        var problem = await (await curator.PostAsync(url.Replace("{id}", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), content))
            .ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("Content-Type: application/json", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("active", (await (await curator.GetAsync($"/v1/keys/{id}")).ShouldBeOkAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("{\"reason\": \"Left.\", \"reason\": \"\"}", "reason", "more than once")]
    [InlineData("{\"why\": \"Left.\"}", "why", "Unknown property")]
    [InlineData("{\"reason\": 7}", "reason", "must be a string")]
    public async Task RevokeKey_BadBody_Is400NamingTheField_AndRevokesNothing(string body, string field, string says)
    {
        var (curator, id) = await ContributorKeyAsync();

        var response = await curator.PostAsync($"/v1/keys/{id}/revoke", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Contains(says, (await response.ShouldBeFieldErrorAsync(field))[0], StringComparison.Ordinal);
        Assert.Equal("active", (await (await curator.GetAsync($"/v1/keys/{id}")).ShouldBeOkAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Submit_MoreAssessedThanThePatientsDescribed_Is400()
    {
        var report = JsonNode.Parse(Report())!;
        report["outcomes"]![1]!["assessed"] = 2;
        report["outcomes"]![1]!["responders"] = 2;

        var message = (await (await SubmitAsync(report.ToJsonString())).ShouldBeFieldErrorAsync("outcomes[1].assessed"))[0];
        Assert.Contains("patients the report describes", message, StringComparison.Ordinal);
    }
}
