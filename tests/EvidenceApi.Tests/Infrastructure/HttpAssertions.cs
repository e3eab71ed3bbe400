using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace EvidenceApi.Tests.Infrastructure;

public static class HttpAssertions
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Asserts an RFC 9457 problem details answer with <paramref name="status"/> and returns its body.</summary>
    public static async Task<JsonElement> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("title").GetString()));
        return body;
    }

    /// <summary>Asserts a 400 problem whose <c>errors</c> has an entry for <paramref name="field"/>; returns its messages.</summary>
    public static async Task<string[]> ShouldBeFieldErrorAsync(this HttpResponseMessage response, string field)
    {
        var body = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var errors = body.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages),
            $"Expected an error for '{field}', got: {errors.GetRawText()}");
        var texts = messages.EnumerateArray().Select(m => m.GetString() ?? "").ToArray();
        Assert.NotEmpty(texts);
        Assert.All(texts, t => Assert.False(string.IsNullOrWhiteSpace(t)));
        return texts;
    }

    public static async Task<T> ShouldBeOkAsync<T>(this HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<T>(Json))!;
    }
}
