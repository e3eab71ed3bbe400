using System.Collections.Concurrent;
using System.Diagnostics;
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

        var port = FreePort();
        using var api = StartApi(database.ConnectionString, port);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        await DatabaseOutageTests.EventuallyAsync(async () =>
        {
            try
            {
                return (await client.GetAsync("/health/ready")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60));

        var accepted = new ConcurrentBag<long>();
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
        api.Kill(entireProcessTree: true);
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

    private static Process StartApi(string connectionString, int port)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "EvidenceApi.dll"), "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ConnectionStrings__Evidence"] = connectionString;
        start.Environment["Database__SeedOnStartup"] = "false";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException("The API did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
