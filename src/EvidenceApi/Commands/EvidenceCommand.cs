using EvidenceApi.Database;
using EvidenceApi.Seeding;

namespace EvidenceApi.Commands;

/// <summary>
/// The API's command line. No command serves HTTP; <c>seed [dir]</c> migrates, loads seed files and exits;
/// <c>create-key --role contributor|curator [--name NAME]</c> creates an API key and prints it once.
/// Command words are taken off before the host sees the arguments.
/// </summary>
public sealed record EvidenceCommand(string? Name, IReadOnlyDictionary<string, string> Options, IReadOnlyList<string> Arguments, string[] HostArguments)
{
    private static readonly string[] KeyOptions = ["--role", "--name"];

    public static EvidenceCommand Parse(string[] args)
    {
        switch (args)
        {
            case ["seed", .. var rest]:
                return new EvidenceCommand("seed", new Dictionary<string, string>(), rest.TakeWhile(a => !a.StartsWith('-')).ToList(), rest.SkipWhile(a => !a.StartsWith('-')).ToArray());
            case ["create-key", .. var rest]:
                var options = new Dictionary<string, string>(StringComparer.Ordinal);
                var host = new List<string>();
                for (var i = 0; i < rest.Length; i++)
                {
                    if (KeyOptions.Contains(rest[i]) && i + 1 < rest.Length)
                    {
                        options[rest[i][2..]] = rest[++i];
                    }
                    else
                    {
                        host.Add(rest[i]);
                    }
                }

                return new EvidenceCommand("create-key", options, [], host.ToArray());
            default:
                return new EvidenceCommand(null, new Dictionary<string, string>(), [], args);
        }
    }

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

        if (Name == "create-key")
        {
            var role = Options.GetValueOrDefault("role");
            if (role is null || !ApiKeys.ApiKeyDefaults.Roles.Contains(role))
            {
                await Console.Error.WriteLineAsync("Usage: create-key --role contributor|curator [--name \"who it is for\"]");
                return 2;
            }

            var name = Options.GetValueOrDefault("name") ?? $"{role} key";
            var key = await ApiKeys.ApiKeyStore.CreateAsync(app.Services.GetRequiredService<Npgsql.NpgsqlDataSource>(), role, name);
            Console.WriteLine($"Created a {role} key for \"{name}\". It is shown only now; store it safely:");
            Console.WriteLine(key);
            return 0;
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
