using System.Globalization;
using EvidenceApi.Database;

namespace EvidenceApi.Tests.Infrastructure;

/// <summary>
/// The built API started as a newcomer starts it: no connection string, so it creates, migrates and seeds its embedded
/// cluster (in a data directory of this fixture's own). Commands run against the same data directory.
/// </summary>
public sealed class EmbeddedApi : IAsyncLifetime
{
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "evidence-api-tests-embedded", Guid.NewGuid().ToString("N")[..8]);

    public ApiProcess Api { get; private set; } = null!;

    /// <summary>The settings of the API and its commands.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["Database__DataDirectory"] = DataDirectory,
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__EvidenceApi"] = "Information",
    };

    /// <summary>The pid of the embedded server's postmaster, as its postmaster.pid says.</summary>
    public int PostmasterPid => int.Parse(File.ReadLines(Path.Combine(DataDirectory, "pgdata", "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    public async Task InitializeAsync()
    {
        Api = ApiProcess.Start(null, environment: Environment);
        await Api.WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
    }

    /// <summary>Runs a command of the API against the same data directory.</summary>
    public Task<(int ExitCode, string Output)> RunAsync(params string[] arguments) => ApiProcess.RunCommandAsync(arguments, Environment);

    public async Task DisposeAsync()
    {
        Api.Stop();
        Api.Dispose();

        // Whoever started the server last, it goes with the fixture.
        await EmbeddedPostgres.StopClusterAsync(EmbeddedPostgres.FindServerBinaries()!, DataDirectory);
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A temporary folder; harmless if left.
        }
    }
}

/// <summary>The test classes that share one embedded API (they run one after the other).</summary>
[CollectionDefinition(Name)]
public sealed class EmbeddedApiGroup : ICollectionFixture<EmbeddedApi>
{
    public const string Name = "Embedded API";
}
