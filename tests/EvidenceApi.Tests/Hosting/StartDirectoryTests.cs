using System.Net;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Hosting;

/// <summary>The API reads its own settings (appsettings.json) from beside the binary, wherever it is started from.</summary>
public sealed class StartDirectoryTests
{
    [Fact]
    public async Task StartedFromAnotherDirectory_UsesItsOwnSettings()
    {
        var connectionString = await TestPostgres.CreateSeededDatabaseAsync();
        var elsewhere = Directory.CreateTempSubdirectory("evidence-start-");
        try
        {
            using var api = ApiProcess.Start(connectionString, workingDirectory: elsewhere.FullName);
            await api.WaitUntilReadyAsync();
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await api.Client.GetAsync("/v1/outcomes?limit=5")).StatusCode);
            }

            api.Kill();
            var output = api.Output;
            Assert.Contains(output, line => line.Contains($"Content root path: {AppContext.BaseDirectory}", StringComparison.Ordinal));

            // Without appsettings.json every request would be logged at the default level, Information.
            Assert.DoesNotContain(output, line => line.Contains("Microsoft.AspNetCore.Routing.EndpointMiddleware", StringComparison.Ordinal));
            Assert.DoesNotContain(output, line => line.Contains("Microsoft.AspNetCore.Hosting.Diagnostics", StringComparison.Ordinal));
        }
        finally
        {
            elsewhere.Delete(recursive: true);
        }
    }
}
