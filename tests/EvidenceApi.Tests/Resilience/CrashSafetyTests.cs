using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using EvidenceApi.Submissions;
using EvidenceApi.Tests.CaseReports;
using EvidenceApi.Tests.Infrastructure;
using Npgsql;

namespace EvidenceApi.Tests.Resilience;

/// <summary>Every submission answered 201 survives kill -9 of the API and a crash stop of PostgreSQL.</summary>
public sealed class CrashSafetyTests
{
    [Fact]
    public async Task Every201_SurvivesKillOfTheApiAndACrashOfPostgres()
    {
        await using var database = await DedicatedPostgres.StartAsync(durable: true);
        string key;
        await using (var dataSource = NpgsqlDataSource.Create(database.ConnectionString))
        {
            key = await EvidenceApi.ApiKeys.ApiKeyStore.CreateAsync(dataSource, "contributor", "crash test");
        }

        using var api = ApiProcess.Start(database.ConnectionString, environment: new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" });
        await api.WaitUntilReadyAsync();
        var client = api.Client;
        client.DefaultRequestHeaders.Add("X-Api-Key", key);

        // One submission first, untimed: on a busy machine a cold process can spend the whole writing window warming up.
        var accepted = new ConcurrentBag<long>();
        var warmUp = CaseReportValidatorTests.Example();
        warmUp["source"]!["doi"] = $"10.5555/evidence.crash.{Guid.NewGuid():N}";
        var first = await client.PostAsync("/v1/case-reports", new StringContent(warmUp.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        accepted.Add((await first.Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json))!.Id);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var writers = Enumerable.Range(0, 4).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var report = CaseReportValidatorTests.Example();
                report["source"]!["doi"] = $"10.5555/evidence.crash.{Guid.NewGuid():N}";
                try
                {
                    var response = await client.PostAsync("/v1/case-reports", new StringContent(report.ToJsonString(), Encoding.UTF8, "application/json"));
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        accepted.Add((await response.Content.ReadFromJsonAsync<SubmissionView>(HttpAssertions.Json))!.Id);
                    }
                }
                catch (HttpRequestException)
                {
                    // The API is being killed.
                }
            }
        }).ToList();

        await Task.Delay(2500);
        api.Kill();
        await database.CrashAsync();
        await Task.WhenAll(writers);
        await database.RestartAsync();

        Assert.NotEmpty(accepted);
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        var stored = (await connection.QueryAsync<long>("SELECT id FROM submissions WHERE id = ANY(@Ids)", new { Ids = accepted.ToArray() })).ToHashSet();
        Assert.Equal(accepted.ToHashSet(), stored);

        // Nothing half-written: every stored submission has its report and exactly one "submitted" event.
        var incomplete = await connection.ExecuteScalarAsync<long>("""
            SELECT count(*) FROM submissions s
            WHERE s.report IS NULL
               OR (SELECT count(*) FROM submission_events e WHERE e.submission_id = s.id AND e.to_status = 'submitted') <> 1
            """);
        Assert.Equal(0, incomplete);
    }
}
