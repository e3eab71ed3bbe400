using System.Security.Cryptography;
using System.Text;
using EvidenceApi.Commands;

namespace EvidenceApi.Database;

/// <summary>
/// Where the embedded cluster lives: <c>.data/</c> in the checkout when the server's user can reach it. Started as root,
/// the server runs as <c>postgres</c> (or <c>nobody</c>), which cannot enter a checkout under a private home folder
/// (<c>/root</c>, mode 0700); then the cluster lives in a folder of its own per checkout under <c>/var/lib/evidence-api</c>
/// (or <c>/var/tmp/evidence-api</c> where /var/lib cannot be written), named after the checkout and a hash of its path.
/// </summary>
public static class EmbeddedClusterLocation
{
    public static readonly IReadOnlyList<string> SharedParents = ["/var/lib/evidence-api", "/var/tmp/evidence-api"];

    /// <summary>
    /// The folder of the cluster, or a <see cref="StartupException"/> (exit code 2) naming the fix where none can work. A
    /// configured Database:DataDirectory is used as it is, never moved; <c>log</c> is told when the cluster is elsewhere than .data/.
    /// </summary>
    public static async Task<string> ResolveAsync(string? configured, Action<string> log, CancellationToken cancellationToken = default)
    {
        var user = EmbeddedPostgres.ClusterUser;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var directory = Path.GetFullPath(configured);
            if (user is not null && !await EmbeddedPostgres.CanReachAsync(directory, user, cancellationToken))
            {
                throw new StartupException(
                    $"The embedded PostgreSQL cannot use {directory} (Database__DataDirectory): it runs as the user '{user}', since " +
                    $"PostgreSQL refuses to run as root, and '{user}' cannot enter a folder above it (a private folder such as /root). " +
                    "Set Database__DataDirectory to a folder that user can reach (for example /var/lib/evidence-api/evidence), " +
                    "leave it unset to let the API choose, or point the API at your own server with ConnectionStrings__Evidence.",
                    exitCode: 2);
            }

            return directory;
        }

        var checkout = FindCheckout() ?? Directory.GetCurrentDirectory();
        var local = Path.Combine(checkout, ".data");
        if (user is null || await EmbeddedPostgres.CanReachAsync(local, user, cancellationToken))
        {
            return local;
        }

        foreach (var parent in SharedParents)
        {
            var directory = Path.Combine(parent, FolderNameFor(checkout));
            try
            {
                Directory.CreateDirectory(parent);
                if (!await EmbeddedPostgres.CanReachAsync(directory, user, cancellationToken))
                {
                    continue;
                }

                Directory.CreateDirectory(directory);
                await File.WriteAllTextAsync(Path.Combine(directory, "checkout"), checkout + Environment.NewLine, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            log($"The PostgreSQL user '{user}' cannot enter {checkout} (a private folder), so the embedded cluster of this checkout lives in {directory}");
            return directory;
        }

        throw new StartupException(
            $"The embedded PostgreSQL runs as the user '{user}' (PostgreSQL refuses to run as root), which cannot enter {checkout}, " +
            $"and none of {string.Join(", ", SharedParents)} can be used instead. Set Database__DataDirectory to a folder '{user}' " +
            "can reach, clone the repository into such a folder (for example under /srv or /opt), or point the API at your own " +
            "server with ConnectionStrings__Evidence.",
            exitCode: 2);
    }

    /// <summary>The per-checkout folder name: readable, and unique per path (two clones named alike do not share a cluster).</summary>
    public static string FolderNameFor(string checkout)
    {
        var name = new string(Path.GetFileName(checkout.TrimEnd(Path.DirectorySeparatorChar)).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(checkout)))[..10];
        return $"{(name.Length == 0 ? "evidence" : name)}-{hash}";
    }

    /// <summary>
    /// The repository root (the folder holding EvidenceApi.sln) at or above the working directory, or else at or above
    /// the binary (a checkout's build output run from elsewhere, e.g. <c>dotnet run --project</c> from another folder).
    /// </summary>
    public static string? FindCheckout() =>
        RootAbove(Directory.GetCurrentDirectory()) ?? RootAbove(AppContext.BaseDirectory);

    private static string? RootAbove(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EvidenceApi.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
