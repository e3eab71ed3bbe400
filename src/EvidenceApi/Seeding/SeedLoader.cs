using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace EvidenceApi.Seeding;

/// <summary>A seed directory could not be loaded; nothing from it was written.</summary>
public sealed class SeedException(IReadOnlyList<string> errors)
    : Exception("Seed data was not loaded:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

public sealed record SeedReport(int FilesLoaded, int FilesUnchanged, int Studies, int Interventions, int Outcomes, int Inclusions)
{
    public override string ToString() =>
        $"Seed files: {FilesLoaded} loaded, {FilesUnchanged} unchanged; written: {Studies} studies, " +
        $"{Interventions} interventions, {Outcomes} outcomes, {Inclusions} review inclusions.";
}

/// <summary>
/// Loads seed files (one JSON file per source) in a single transaction. Files whose content has
/// not changed since the last load are skipped, so loading twice writes nothing.
/// </summary>
public sealed class SeedLoader(NpgsqlDataSource dataSource)
{
    // Seeds and other writers must not interleave; any constant shared by all instances works.
    private const long SeedLockKey = 0x5365656473;

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = false,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
    };

    static SeedLoader() => Http.ValidationRules.UseJsonPropertyNames();

    /// <summary>The seed directory next to the binary, where the build copies <c>seeds/*.json</c>.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "seeds");

    public async Task<SeedReport> LoadAsync(string directory, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(directory))
        {
            throw new SeedException([$"{directory}: the seed directory does not exist."]);
        }

        var files = Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal)
            .Select(SeedFileBytes.Read)
            .ToList();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@SeedLockKey)", new { SeedLockKey }, transaction, cancellationToken: cancellationToken));

        var loadedHashes = (await connection.QueryAsync<(string Name, string Sha256)>(
                new CommandDefinition("SELECT name, sha256 FROM seed_files", transaction: transaction, cancellationToken: cancellationToken)))
            .ToDictionary(row => row.Name, row => row.Sha256, StringComparer.Ordinal);

        // Only files that changed since they were loaded are parsed and checked: a start-up with nothing new reads no JSON.
        // A changed file whose study key another file holds is refused by the writer (SeedConflictException).
        var changed = ParseAll(files.Where(f => !loadedHashes.TryGetValue(f.Name, out var hash) || hash != f.Sha256).ToList());
        var writer = new SeedWriter(connection, transaction, cancellationToken);
        var errors = new List<string>();
        var studyIds = new Dictionary<string, long>(StringComparer.Ordinal);

        foreach (var file in changed)
        {
            try
            {
                foreach (var (key, id) in await writer.WriteSourceAsync(file.Name, file.Content))
                {
                    studyIds[key] = id;
                }
            }
            catch (PostgresException ex)
            {
                // The transaction is aborted now; report this file and write nothing at all.
                await transaction.RollbackAsync(cancellationToken);
                throw new SeedException([$"{file.Name}: {Describe(ex)}"]);
            }
            catch (SeedConflictException ex)
            {
                await transaction.RollbackAsync(cancellationToken);
                throw new SeedException([$"{file.Name}: {ex.Message}"]);
            }
        }

        var inclusions = 0;
        foreach (var file in changed)
        {
            for (var s = 0; s < file.Content.Studies.Count; s++)
            {
                var study = file.Content.Studies[s];
                if (!studyIds.TryGetValue(study.Key, out var reviewId))
                {
                    continue;
                }

                var missing = await writer.ReplaceInclusionsAsync(reviewId, study.Includes ?? []);
                errors.AddRange(missing.Select(key => $"{file.Name}: $.studies[{s}].includes: no study has the key '{key}'."));
                inclusions += (study.Includes?.Count ?? 0) - missing.Count;
            }
        }

        if (errors.Count > 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            throw new SeedException(errors);
        }

        foreach (var file in changed)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO seed_files (name, sha256) VALUES (@Name, @Sha256)
                ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, loaded_at = now()
                """,
                new { file.Name, file.Sha256 }, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return new SeedReport(
            changed.Count,
            files.Count - changed.Count,
            changed.Sum(f => f.Content.Studies.Count),
            changed.Sum(f => f.Content.Studies.Sum(s => s.Interventions?.Count ?? 0)),
            changed.Sum(f => f.Content.Studies.Sum(s => s.Outcomes?.Count ?? 0)),
            inclusions);
    }

    private static List<ParsedSeedFile> ParseAll(IReadOnlyList<SeedFileBytes> files)
    {
        var errors = new List<string>();
        var parsed = new List<ParsedSeedFile>();
        var validator = new SeedFileValidator();
        foreach (var (name, sha256, bytes) in files)
        {
            SeedFile? content;
            try
            {
                content = JsonSerializer.Deserialize<SeedFile>(bytes, JsonOptions);
            }
            catch (JsonException ex)
            {
                errors.Add($"{name}: {ex.Path ?? "$"}: {FirstSentence(ex.Message)} (line {ex.LineNumber + 1})");
                continue;
            }

            if (content is null)
            {
                errors.Add($"{name}: $: the file holds no seed object.");
                continue;
            }

            var result = validator.Validate(content);
            errors.AddRange(result.Errors.Select(e => $"{name}: $.{e.PropertyName}: {e.ErrorMessage}"));
            if (result.IsValid)
            {
                parsed.Add(new ParsedSeedFile(name, sha256, content));
            }
        }

        var duplicateKeys = parsed
            .SelectMany(f => f.Content.Studies.Select(s => (File: f.Name, s.Key)))
            .GroupBy(x => x.Key, StringComparer.Ordinal)
            .Where(g => g.Count() > 1);
        errors.AddRange(duplicateKeys.Select(g => $"{string.Join(", ", g.Select(x => x.File))}: study key '{g.Key}' is used more than once."));

        if (errors.Count > 0)
        {
            throw new SeedException(errors);
        }

        return parsed;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static string Describe(PostgresException ex) => ex.SqlState switch
    {
        PostgresErrorCodes.UniqueViolation => $"$.source: {ex.ConstraintName} would duplicate an existing record ({ex.Detail}).",
        PostgresErrorCodes.CheckViolation => $"a value breaks the database rule {ex.ConstraintName}.",
        _ => ex.MessageText,
    };

    private sealed record SeedFileBytes(string Name, string Sha256, byte[] Bytes)
    {
        public static SeedFileBytes Read(string path)
        {
            var bytes = File.ReadAllBytes(path);
            return new SeedFileBytes(Path.GetFileName(path), Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes);
        }
    }

    private sealed record ParsedSeedFile(string Name, string Sha256, SeedFile Content);
}
