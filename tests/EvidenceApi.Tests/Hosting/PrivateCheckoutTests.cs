using EvidenceApi.Database;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Hosting;

/// <summary>
/// README command 1 from a root user's clone under a private folder (mode 0700, the usual container case): the server's user
/// (postgres or nobody) cannot enter the clone, so the cluster lives where it can; where nothing can work, one paragraph and
/// exit code 2.
/// </summary>
public sealed class PrivateCheckoutTests : IDisposable
{
    private readonly DirectoryInfo privateFolder = Directory.CreateTempSubdirectory("evidence-private-");

    public PrivateCheckoutTests()
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(privateFolder.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public async Task CloneUnderAPrivateFolder_StartsWithItsClusterWhereTheServerUserCanReachIt()
    {
        var checkout = Directory.CreateDirectory(Path.Combine(privateFolder.FullName, "evidence")).FullName;
        await File.WriteAllTextAsync(Path.Combine(checkout, "EvidenceApi.sln"), "");
        var cluster = Environment.IsPrivilegedProcess
            ? Path.Combine(EmbeddedClusterLocation.SharedParents[0], EmbeddedClusterLocation.FolderNameFor(checkout))
            : Path.Combine(checkout, ".data");
        try
        {
            using var api = ApiProcess.Start(null, workingDirectory: checkout, environment: new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" });
            await api.WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
            Assert.Equal(System.Net.HttpStatusCode.OK, (await api.Client.GetAsync("/v1/studies?limit=1")).StatusCode);
            Assert.True(File.Exists(Path.Combine(cluster, "pgdata", "PG_VERSION")), $"No cluster in {cluster}:\n{string.Join('\n', api.Output)}");
            if (Environment.IsPrivilegedProcess)
            {
                // Said at start-up, with the reason.
                Assert.Contains(api.Output, line => line.Contains(cluster, StringComparison.Ordinal) && line.Contains("cannot enter", StringComparison.Ordinal));
                Assert.Equal(checkout, (await File.ReadAllTextAsync(Path.Combine(cluster, "checkout"))).Trim());
            }

            Assert.Equal(0, api.Stop());
            Assert.False(File.Exists(Path.Combine(cluster, "pgdata", "postmaster.pid")), "The API left the server it started running.");
        }
        finally
        {
            await EmbeddedPostgres.StopClusterAsync(EmbeddedPostgres.FindServerBinaries()!, cluster);
            if (Directory.Exists(cluster))
            {
                Directory.Delete(cluster, recursive: true);
            }
        }
    }

    [Fact]
    public async Task DataDirectoryTheServerCannotUse_ExitsWith2AndOneParagraphNamingTheFix()
    {
        // As root, a folder inside the private one; otherwise (no user switch) a folder that cannot be created at all.
        var unusable = Environment.IsPrivilegedProcess
            ? Path.Combine(privateFolder.FullName, "data")
            : Path.Combine(privateFolder.FullName, "a-file", "data");
        await File.WriteAllTextAsync(Path.Combine(privateFolder.FullName, "a-file"), "");

        using var api = ApiProcess.Start(null, environment: new Dictionary<string, string> { ["Database__DataDirectory"] = unusable });
        var exitCode = await api.WaitForExitAsync();

        var output = string.Join('\n', api.Output);
        Assert.True(exitCode == 2, $"Exit code {exitCode}:\n{output}");
        Assert.Contains("Database__DataDirectory", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
        Assert.DoesNotContain(api.Output, line => line.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }

    public void Dispose() => privateFolder.Delete(recursive: true);
}
