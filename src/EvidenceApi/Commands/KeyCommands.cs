using System.Globalization;
using System.Text.RegularExpressions;
using EvidenceApi.ApiKeys;
using Npgsql;

namespace EvidenceApi.Commands;

/// <summary>create-key, list-keys and revoke-key: key management on the server, each change in the audit trail.</summary>
public static partial class KeyCommands
{
    public const string LifetimeHelp = "--expires-in takes a number and a unit: m (minutes), h (hours), d (days), w (weeks) or y (365 days), e.g. 90d.";

    /// <summary>Parses a lifetime such as <c>90d</c>, <c>12h</c>, <c>30m</c>, <c>8w</c> or <c>1y</c>; null when it is not one.</summary>
    public static TimeSpan? ParseLifetime(string text)
    {
        var match = Lifetime().Match(text.Trim());
        if (!match.Success || !int.TryParse(match.Groups[1].Value, CultureInfo.InvariantCulture, out var count) || count <= 0 || count > 100_000)
        {
            return null;
        }

        return match.Groups[2].Value switch
        {
            "m" => TimeSpan.FromMinutes(count),
            "h" => TimeSpan.FromHours(count),
            "d" => TimeSpan.FromDays(count),
            "w" => TimeSpan.FromDays(7 * count),
            _ => TimeSpan.FromDays(365 * count),
        };
    }

    public static async Task<int> CreateAsync(IServiceProvider services, string role, string? name, TimeSpan? lifetime)
    {
        name = string.IsNullOrWhiteSpace(name) ? $"{role} key" : name.Trim();
        var expiresAt = lifetime is { } span ? services.GetRequiredService<TimeProvider>().GetUtcNow().Add(span) : (DateTimeOffset?)null;
        var issued = await ApiKeyStore.IssueAsync(services.GetRequiredService<NpgsqlDataSource>(), role, name, expiresAt, KeyActor.CommandLine(), CancellationToken.None);
        var expiry = issued.ExpiresAt is { } at ? $", valid until {Format(at)}" : "";
        Console.WriteLine($"Created {role} key {issued.Id} for \"{name}\"{expiry}. It is shown only now; store it safely:");
        Console.WriteLine(issued.Key);
        return 0;
    }

    public static async Task<int> ListAsync(IServiceProvider services)
    {
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var keys = new List<ApiKeyView>();
        string? cursor = null;
        do
        {
            var page = await ApiKeyStore.ListAsync(dataSource, new ApiKeyListQuery { Limit = Querying.Paging.MaxLimit, Cursor = cursor, IncludeTotal = false }, CancellationToken.None);
            keys.AddRange(page.Items);
            cursor = page.Next;
        }
        while (cursor is not null);

        if (keys.Count == 0)
        {
            Console.WriteLine("No keys yet. Create the first curator key: create-key --role curator --name \"Your name\"");
            return 0;
        }

        string[] header = ["ID", "NAME", "ROLE", "STATUS", "PREFIX", "CREATED", "LAST USED", "EXPIRES"];
        var rows = keys.Select(k => new[]
        {
            k.Id.ToString(CultureInfo.InvariantCulture), k.Name, k.Role, k.RevokedAt is { } revoked ? $"revoked {Format(revoked)}" : k.Status, k.Prefix,
            Format(k.CreatedAt), k.LastUsedAt is { } used ? Format(used) : "never", k.ExpiresAt is { } expires ? Format(expires) : "never",
        }).ToList();
        var widths = header.Select((title, column) => rows.Max(row => row[column].Length) is var widest && widest > title.Length ? widest : title.Length).ToArray();
        foreach (var row in rows.Prepend(header))
        {
            Console.WriteLine(string.Join("  ", row.Select((cell, column) => cell.PadRight(widths[column]))).TrimEnd());
        }

        return 0;
    }

    public static async Task<int> RevokeAsync(IServiceProvider services, string key, string? reason)
    {
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var id = long.TryParse(key, CultureInfo.InvariantCulture, out var number) ? number : await ApiKeyStore.FindIdAsync(dataSource, key, CancellationToken.None);
        var result = id is null
            ? new RevokeResult.NotFound()
            : await ApiKeyStore.RevokeAsync(dataSource, id.Value, KeyActor.CommandLine(), string.IsNullOrWhiteSpace(reason) ? null : reason.Trim(), null, CancellationToken.None);
        if (result is not RevokeResult.Done { Key: var revoked })
        {
            await Console.Error.WriteLineAsync($"No key matches '{(key.Length > 12 ? key[..12] + "..." : key)}'. list-keys shows the ids.");
            return 1;
        }

        Console.WriteLine($"Key {revoked.Id} ({revoked.Role}, \"{revoked.Name}\") is revoked since {Format(revoked.RevokedAt!.Value)}: every instance refuses it.");
        return 0;
    }

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(\d+)\s*([mhdwy])$")]
    private static partial Regex Lifetime();
}
