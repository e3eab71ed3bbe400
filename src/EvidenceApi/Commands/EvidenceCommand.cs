using System.CommandLine;
using EvidenceApi.Database;
using EvidenceApi.Seeding;

namespace EvidenceApi.Commands;

/// <summary>
/// The API's command line (System.CommandLine): with no command it serves HTTP; each command migrates the database, does its
/// work and exits without serving. Commands use the same database as the API (the embedded server or the configured one),
/// and never stop an embedded server they did not start. Arguments the commands do not know are the host's (<c>--urls</c>).
/// </summary>
public sealed class EvidenceCommand
{
    private static readonly Argument<string?> SeedDirectory = new("dir") { Description = "Folder of seed files (default: seeds/ beside the binary)", Arity = ArgumentArity.ZeroOrOne };
    private static readonly Option<string> Role = new("--role") { Description = "contributor (submits case reports) or curator (also moderates and manages contributor keys)", Required = true };
    private static readonly Option<string?> Name = new("--name") { Description = "Who the key is for" };
    private static readonly Option<TimeSpan?> ExpiresIn = new("--expires-in")
    {
        Description = "Lifetime of the key: a number and a unit, m (minutes), h, d, w or y, e.g. 90d (default: no expiry)",
        CustomParser = result => KeyCommands.ParseLifetime(result.Tokens[0].Value) is { } lifetime ? lifetime : Fail<TimeSpan?>(result, KeyCommands.LifetimeHelp),
    };

    private static readonly Argument<string> KeyToRevoke = new("key") { Description = "The key's id (as list-keys shows it) or the key itself" };
    private static readonly Option<string?> Reason = new("--reason") { Description = "Why, for the audit trail" };
    private static readonly Argument<string> ExportDirectory = new("dir") { Description = "Folder to write the seed files to (created if missing)" };
    private static readonly Argument<string> BackupFile = new("file") { Description = "The backup file (pg_dump custom format)" };

    private static readonly RootCommand Root = Build();

    private readonly ParseResult? parsed;

    private EvidenceCommand(string? name, ParseResult? parsed, string[] hostArguments, int? exitCode)
    {
        CommandName = name;
        this.parsed = parsed;
        HostArguments = hostArguments;
        ExitCode = exitCode;
    }

    /// <summary>The command; null to serve HTTP.</summary>
    public string? CommandName { get; }

    /// <summary>The arguments meant for the host (configuration such as <c>--urls</c>).</summary>
    public string[] HostArguments { get; }

    /// <summary>Set when parsing alone finished the run: help shown (0) or the command line is wrong (2).</summary>
    public int? ExitCode { get; }

    public static EvidenceCommand Parse(string[] args)
    {
        var result = Root.Parse(args);
        // The commands run later, once the host is built: an action to invoke now is --help or --version.
        if (result.Action is not null && result.Action != Root.Action && result.Errors.Count == 0)
        {
            result.Invoke();
            return new EvidenceCommand(null, null, [], 0);
        }

        var command = result.CommandResult.Command;
        var errors = result.Errors.Select(e => e.Message).ToList();
        if (command == Root && args is [var first, ..] && !first.StartsWith('-'))
        {
            errors = [$"'{first}' is not a command. Commands: {string.Join(", ", Root.Subcommands.Select(c => c.Name))}."];
        }

        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                Console.Error.WriteLine(error);
            }

            if (command != Root)
            {
                Console.Error.WriteLine($"Usage: {Usage(command)}");
            }

            Console.Error.WriteLine($"See: dotnet run --project src/EvidenceApi -- {(command == Root ? "" : command.Name + " ")}--help");
            return new EvidenceCommand(null, null, [], 2);
        }

        return command == Root
            ? new EvidenceCommand(null, result, result.UnmatchedTokens.ToArray(), null)
            : new EvidenceCommand(command.Name, result, [], null);
    }

    /// <summary>Migrates (and seeds where configured); runs the command, if any. Returns an exit code when the process should end instead of serving.</summary>
    public async Task<int?> RunBeforeServingAsync(WebApplication app, EmbeddedPostgres? embedded)
    {
        var options = app.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var connectionString = app.Configuration.GetConnectionString(EvidenceDatabase.ConnectionStringName)!;
        var services = app.Services;

        // A restore replaces the database, and brings it up to date itself.
        if (CommandName != "restore" && (options.MigrateOnStartup || CommandName is not null))
        {
            await DatabaseMigrator.MigrateAsync(connectionString, Console.WriteLine);
        }

        var result = parsed!;
        return CommandName switch
        {
            "seed" => await DataCommands.SeedAsync(services, result.GetValue(SeedDirectory) ?? SeedLoader.DefaultDirectory),
            "create-key" => await KeyCommands.CreateAsync(services, result.GetValue(Role)!, result.GetValue(Name), result.GetValue(ExpiresIn)),
            "list-keys" => await KeyCommands.ListAsync(services),
            "revoke-key" => await KeyCommands.RevokeAsync(services, result.GetValue(KeyToRevoke)!, result.GetValue(Reason)),
            "export-seeds" => await DataCommands.ExportSeedsAsync(services, result.GetValue(ExportDirectory)!),
            "backup" => await DataCommands.BackupAsync(connectionString, embedded, options, result.GetValue(BackupFile)!),
            "restore" => await DataCommands.RestoreAsync(connectionString, embedded, options, result.GetValue(BackupFile)!),
            _ => await DataCommands.SeedOnStartupAsync(services, options.SeedOnStartup ?? embedded is not null),
        };
    }

    private static RootCommand Build()
    {
        Role.AcceptOnlyFromAmong([.. ApiKeys.ApiKeyDefaults.Roles]);
        var root = new RootCommand(
            "EvidenceApi: serves the API with no command (on http://127.0.0.1:5080, or --urls). Without ConnectionStrings__Evidence " +
            "it uses an embedded PostgreSQL. Each command below uses the same database, does its work and exits.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };

        // Serving is the root command's work; it happens once the host is built, so the action itself does nothing.
        root.SetAction(_ => 0);

        root.Subcommands.Add(new Command("seed", "Migrate and load seed files; an unchanged file is skipped") { SeedDirectory });
        root.Subcommands.Add(new Command("create-key", "Create an API key and print it once (only its hash is kept)") { Role, Name, ExpiresIn });
        root.Subcommands.Add(new Command("list-keys", "List every key: id, name, role, status, created, last used, expiry (never the key itself)"));
        root.Subcommands.Add(new Command("revoke-key", "Revoke a key at once, for every instance") { KeyToRevoke, Reason });
        root.Subcommands.Add(new Command("export-seeds", "Write the whole evidence base, published submissions included, as seed files") { ExportDirectory });
        root.Subcommands.Add(new Command("backup", "Back up the evidence database to a file (pg_dump, custom format)") { BackupFile });
        root.Subcommands.Add(new Command("restore", "Replace the evidence database with a backup made by backup (or pg_dump -Fc)") { BackupFile });
        return root;
    }

    private static string Usage(Command command) => string.Join(' ', new[] { command.Name }
        .Concat(command.Arguments.Select(a => a.Arity.MinimumNumberOfValues == 0 ? $"[{a.Name}]" : $"<{a.Name}>"))
        .Concat(command.Options.Where(o => !o.Hidden && o.Name != "--help").Select(o => o.Required ? $"{o.Name} <{o.Name.TrimStart('-')}>" : $"[{o.Name} <{o.Name.TrimStart('-')}>]")));

    private static T Fail<T>(System.CommandLine.Parsing.ArgumentResult result, string message)
    {
        result.AddError(message);
        return default!;
    }
}
