using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EvidenceApi.ApiKeys;
using EvidenceApi.Querying;
using EvidenceApi.Tests.Infrastructure;
using EvidenceApi.Tests.Resilience;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace EvidenceApi.Tests.ApiKeys;

/// <summary>
/// Curators issue, list and revoke contributor keys over HTTP; a revoked or expired key is refused at once by every
/// instance; every change is in the audit trail; the last use is recorded without a write per request.
/// </summary>
public sealed class KeyManagementTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    [Fact]
    public async Task Curator_IssuesListsAndRevokesAContributorKey_TheKeyShownOnlyOnce()
    {
        var (curatorId, curator) = await CuratorAsync("Jane Curator");

        var response = await curator.PostAsJsonAsync("/v1/keys", new { name = "Dr. Newcomer", expiresInDays = 90 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var issued = (await response.Content.ReadFromJsonAsync<JsonElement>(HttpAssertions.Json))!;
        var id = issued.GetProperty("id").GetInt64();
        var key = issued.GetProperty("key").GetString()!;
        Assert.Equal($"/v1/keys/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("contributor", issued.GetProperty("role").GetString());
        Assert.Equal("active", issued.GetProperty("status").GetString());
        Assert.StartsWith(issued.GetProperty("prefix").GetString()!, key, StringComparison.Ordinal);
        var expiresAt = issued.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expiresAt - DateTimeOffset.UtcNow, TimeSpan.FromDays(89.9), TimeSpan.FromDays(90.1));

        // The key works at once; only its hash is stored; no later answer holds it.
        Assert.Equal(HttpStatusCode.OK, (await api.CreateClient(key).GetAsync("/v1/submissions")).StatusCode);
        Assert.Equal(1, await api.QueryScalarAsync<long>("SELECT count(*) FROM api_keys WHERE id = @Id AND key_hash = sha256(convert_to(@Key, 'UTF8'))", new { Id = id, Key = key }));
        var listed = await (await curator.GetAsync("/v1/keys?role=contributor&status=active&limit=200")).ShouldBeOkAsync<JsonElement>();
        var item = listed.GetProperty("items").EnumerateArray().Single(k => k.GetProperty("id").GetInt64() == id);
        Assert.False(item.TryGetProperty("key", out _));
        Assert.Equal("Dr. Newcomer", item.GetProperty("name").GetString());
        Assert.DoesNotContain(key, listed.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(key, await (await curator.GetAsync($"/v1/keys/{id}")).Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var revoked = await (await curator.PostAsJsonAsync($"/v1/keys/{id}/revoke", new { reason = "Left the project" })).ShouldBeOkAsync<ApiKeyView>();
        Assert.Equal("revoked", revoked.Status);
        Assert.NotNull(revoked.RevokedAt);
        var refused = await (await api.CreateClient(key).GetAsync("/v1/submissions")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("The API key has been revoked.", refused.GetProperty("title").GetString());

        // Revoking again changes nothing.
        var again = await (await curator.PostAsync($"/v1/keys/{id}/revoke", null)).ShouldBeOkAsync<ApiKeyView>();
        Assert.Equal(revoked.RevokedAt, again.RevokedAt);

        var trail = await (await curator.GetAsync($"/v1/keys/events?keyId={id}")).ShouldBeOkAsync<Page<ApiKeyEvent>>();
        Assert.Equal(["created", "revoked"], trail.Items.Select(e => e.Action));
        Assert.All(trail.Items, e =>
        {
            Assert.Equal(curatorId, e.ActorKeyId);
            Assert.Equal($"curator key {curatorId} (Jane Curator)", e.Actor);
            Assert.Contains("contributor key \"Dr. Newcomer\", expires ", e.Detail, StringComparison.Ordinal);
        });
        Assert.Equal("Left the project", trail.Items[1].Reason);
    }

    [Fact]
    public async Task KeyManagement_IsForCuratorsOnly_AndCuratorKeysAreNotRevokedOverHttp()
    {
        var contributor = api.CreateClient(await api.CreateKeyAsync("contributor"));
        await (await contributor.GetAsync("/v1/keys")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await contributor.PostAsJsonAsync("/v1/keys", new { name = "Self-made" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await api.CreateClient().GetAsync("/v1/keys/events")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);

        var (_, curator) = await CuratorAsync("Curator A");
        var (otherCuratorId, _) = await CuratorAsync("Curator B");
        var problem = await (await curator.PostAsync($"/v1/keys/{otherCuratorId}/revoke", null)).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("revoke-key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await (await curator.PostAsync("/v1/keys/999999999/revoke", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await curator.GetAsync("/v1/keys/999999999")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Issue_WithBadInput_NamesTheField()
    {
        var (_, curator) = await CuratorAsync("Curator C");
        await (await curator.PostAsJsonAsync("/v1/keys", new { expiresInDays = 30 })).ShouldBeFieldErrorAsync("name");
        await (await curator.PostAsJsonAsync("/v1/keys", new { name = "X", expiresInDays = 0 })).ShouldBeFieldErrorAsync("expiresInDays");
        await (await curator.PostAsJsonAsync("/v1/keys", new { name = new string('x', 201) })).ShouldBeFieldErrorAsync("name");
        await (await curator.GetAsync("/v1/keys?status=lost")).ShouldBeFieldErrorAsync("status");
    }

    [Fact]
    public async Task ExpiredKey_IsRefusedAtOnce_WithItsOwnMessage()
    {
        await using var dataSource = NpgsqlDataSource.Create(api.ConnectionString);
        var issued = await ApiKeyStore.IssueAsync(dataSource, "contributor", "Short-lived", DateTimeOffset.UtcNow.AddSeconds(2), KeyActor.CommandLine(), CancellationToken.None);
        var client = api.CreateClient(issued.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/submissions")).StatusCode);

        await DatabaseOutageTests.EventuallyAsync(async () => (await client.GetAsync("/v1/submissions")).StatusCode == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(30));
        var problem = await (await client.GetAsync("/v1/submissions")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("The API key has expired.", problem.GetProperty("title").GetString());
        Assert.Equal("expired", (await ApiKeyStore.FindAsync(dataSource, issued.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task KeyRevokedThroughOneInstance_IsRefusedByAnotherAtOnce()
    {
        await using var second = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:Evidence", api.ConnectionString);
            builder.UseSetting("Database:SeedOnStartup", "false");
        });
        var key = await api.CreateKeyAsync("contributor", "Two instances");
        var throughSecond = second.CreateClient();
        throughSecond.DefaultRequestHeaders.Add("X-Api-Key", key);
        Assert.Equal(HttpStatusCode.OK, (await throughSecond.GetAsync("/v1/submissions")).StatusCode);

        var (_, curator) = await CuratorAsync("Curator D");
        var id = await api.QueryScalarAsync<long>("SELECT id FROM api_keys WHERE name = 'Two instances'");
        (await curator.PostAsync($"/v1/keys/{id}/revoke", null)).EnsureSuccessStatusCode();

        await (await throughSecond.GetAsync("/v1/submissions")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task LastUse_IsRecordedOnce_NotOnEveryRequest()
    {
        var key = await api.CreateKeyAsync("contributor", "Busy contributor");
        var id = await api.QueryScalarAsync<long>("SELECT id FROM api_keys WHERE name = 'Busy contributor'");
        Assert.Equal(0, await api.QueryScalarAsync<long>("SELECT count(*) FROM api_keys WHERE id = @Id AND last_used_at IS NOT NULL", new { Id = id }));

        var client = api.CreateClient(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/submissions")).StatusCode);
        var first = await api.QueryScalarAsync<DateTime>("SELECT last_used_at FROM api_keys WHERE id = @Id", new { Id = id });
        var xmin = await api.QueryScalarAsync<string>("SELECT xmin::text FROM api_keys WHERE id = @Id", new { Id = id });

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.GetAsync("/v1/submissions")));

        // Within the minute, no request wrote the row again (its xmin, the writing transaction, is unchanged).
        Assert.Equal(first, await api.QueryScalarAsync<DateTime>("SELECT last_used_at FROM api_keys WHERE id = @Id", new { Id = id }));
        Assert.Equal(xmin, await api.QueryScalarAsync<string>("SELECT xmin::text FROM api_keys WHERE id = @Id", new { Id = id }));
    }

    [Fact]
    public async Task OpenApi_DocumentsTheKeyEndpointsWithTheirAnswers()
    {
        var document = await (await api.CreateClient().GetAsync("/swagger/v1/swagger.json")).ShouldBeOkAsync<JsonElement>();
        var paths = document.GetProperty("paths");
        var issue = paths.GetProperty("/v1/keys").GetProperty("post");
        Assert.True(issue.GetProperty("responses").TryGetProperty("201", out var created));
        Assert.Contains("IssuedApiKey", created.GetRawText(), StringComparison.Ordinal);
        foreach (var status in new[] { "400", "401", "403", "413", "415", "429" })
        {
            Assert.True(issue.GetProperty("responses").TryGetProperty(status, out _), $"POST /v1/keys does not document {status}");
        }

        var revoke = paths.GetProperty("/v1/keys/{id}/revoke").GetProperty("post");
        foreach (var status in new[] { "200", "400", "401", "403", "404", "413", "415", "429" })
        {
            Assert.True(revoke.GetProperty("responses").TryGetProperty(status, out _), $"POST /v1/keys/{{id}}/revoke does not document {status}");
        }

        Assert.True(issue.GetProperty("requestBody").GetProperty("required").GetBoolean());
        Assert.False(revoke.GetProperty("requestBody").TryGetProperty("required", out var revokeBodyRequired) && revokeBodyRequired.GetBoolean());
        Assert.True(paths.GetProperty("/v1/keys/events").GetProperty("get").GetProperty("responses").TryGetProperty("200", out _));

        // OpenAPI 3.1 schemas are JSON Schema 2020-12: examples is a list. Request schemas state what the validators enforce.
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var newKey = schemas.GetProperty("NewApiKey");
        Assert.Equal(["name"], newKey.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        var name = newKey.GetProperty("properties").GetProperty("name");
        Assert.Equal("string", name.GetProperty("type").GetString());
        Assert.Equal(1, name.GetProperty("minLength").GetInt32());
        Assert.Equal(200, name.GetProperty("maxLength").GetInt32());
        var expiresInDays = newKey.GetProperty("properties").GetProperty("expiresInDays");
        Assert.Equal(90, expiresInDays.GetProperty("examples")[0].GetInt32());
        Assert.Equal(1, expiresInDays.GetProperty("minimum").GetInt32());
        Assert.Equal(3650, expiresInDays.GetProperty("maximum").GetInt32());
        Assert.Equal(2000, schemas.GetProperty("RevokeApiKey").GetProperty("properties").GetProperty("reason").GetProperty("maxLength").GetInt32());
        Assert.Equal("active", schemas.GetProperty("ApiKeyView").GetProperty("properties").GetProperty("status").GetProperty("examples")[0].GetString());
    }

    private async Task<(long Id, HttpClient Client)> CuratorAsync(string name)
    {
        var key = await api.CreateKeyAsync("curator", name);
        var id = await api.QueryScalarAsync<long>("SELECT id FROM api_keys WHERE key_hash = sha256(convert_to(@Key, 'UTF8'))", new { Key = key });
        return (id, api.CreateClient(key));
    }
}
