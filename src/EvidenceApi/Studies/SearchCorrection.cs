using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace EvidenceApi.Studies;

/// <summary>
/// Typo tolerance for free-text search: each word of the query that occurs nowhere in the evidence is replaced by
/// the most similar word that does (pg_trgm), keeping quotes, OR and exclusions as they were.
/// </summary>
public static partial class SearchCorrection
{
    public const double MinimumSimilarity = 0.4;

    private const string Suggestions = """
        SELECT t.term,
               (SELECT w.word FROM search_words w
                WHERE w.word % t.term AND similarity(w.word, t.term) >= @MinimumSimilarity
                ORDER BY similarity(w.word, t.term) DESC, w.word LIMIT 1) AS suggestion
        FROM unnest(@Terms) AS t(term)
        WHERE NOT EXISTS (SELECT 1 FROM search_words w WHERE w.word = t.term)
        """;

    /// <summary>The corrected query, or null when no word needed (or found) a correction.</summary>
    public static async Task<string?> CorrectAsync(NpgsqlConnection connection, string query, CancellationToken cancellationToken)
    {
        var terms = Word().Matches(query).Select(m => m.Value.ToLowerInvariant())
            .Where(term => term.Length >= 4 && term is not "or" and not "and").Distinct().ToArray();
        if (terms.Length == 0)
        {
            return null;
        }

        var corrections = (await connection.QueryAsync<(string Term, string? Suggestion)>(new CommandDefinition(
                Suggestions, new { Terms = terms, MinimumSimilarity }, cancellationToken: cancellationToken)))
            .Where(c => c.Suggestion is not null)
            .ToDictionary(c => c.Term, c => c.Suggestion!, StringComparer.Ordinal);
        if (corrections.Count == 0)
        {
            return null;
        }

        return Word().Replace(query, m => corrections.TryGetValue(m.Value.ToLowerInvariant(), out var better) ? better : m.Value);
    }

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex Word();
}
