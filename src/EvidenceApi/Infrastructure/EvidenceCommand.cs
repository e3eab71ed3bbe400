using EvidenceApi.Database;
using EvidenceApi.Seeding;
using Microsoft.Extensions.Options;

namespace EvidenceApi.Infrastructure;

/// <summary>
/// The API's command line: no command serves HTTP; <c>seed [dir]</c> migrates, loads seed files and exits.
/// Command words are taken off before the host sees the arguments.
/// </summary>
public sealed record EvidenceCommand(string? Name, IReadOnlyList<string> Arguments, string[] HostArguments)
{
    public static EvidenceCommand Parse(string[] args) => args switch
    {
        ["seed", .. var rest] => new EvidenceCommand("seed", rest.TakeWhile(a => !a.StartsWith('-')).ToList(), rest.SkipWhile(a => !a.StartsWith('-')).ToArray()),
        _ => new EvidenceCommand(null, [], args),
    };

    /// <summary>Migrates (and seeds where configured); returns an exit code when the process should end instead of serving.</summary>
    public async Task<int?> RunBeforeServingAsync(WebApplication app, bool embeddedDatabase)
    {
        var options = app.Services.GetRequiredService<IConfiguration>().GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var connectionString = app.Configuration.GetConnectionString(EvidenceDatabase.ConnectionStringName)!;
        if (options.MigrateOnStartup || Name is not null)
        {
            var applied = await DatabaseMigrator.MigrateAsync(connectionString);
            if (applied.Count > 0)
            {
                Console.WriteLine($"Applied migrations: {string.Join(", ", applied)}");
            }
        }

        var loader = app.Services.GetRequiredService<SeedLoader>();
        if (Name == "seed")
        {
            var directory = Arguments.Count > 0 ? Arguments[0] : SeedLoader.DefaultDirectory;
            Console.WriteLine($"Loading seed files from {Path.GetFullPath(directory)}");
            Console.WriteLine(await loader.LoadAsync(directory));
            return 0;
        }

        if (options.SeedOnStartup ?? embeddedDatabase)
        {
            Console.WriteLine(await loader.LoadAsync(SeedLoader.DefaultDirectory));
        }

        return null;
    }
}
