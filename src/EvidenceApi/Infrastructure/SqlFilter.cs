using Dapper;

namespace EvidenceApi.Infrastructure;

/// <summary>
/// Collects WHERE clauses chosen from a feature's fixed set of SQL fragments, with their values as
/// parameters: user input only ever reaches SQL as a parameter value.
/// </summary>
public sealed class SqlFilter
{
    private readonly List<string> clauses = [];

    public DynamicParameters Parameters { get; } = new();

    /// <summary>Adds <paramref name="clause"/> when <paramref name="value"/> is present, binding it as <paramref name="name"/>.</summary>
    public SqlFilter When<T>(T? value, string name, string clause)
    {
        if (value is null || (value is string text && string.IsNullOrWhiteSpace(text)))
        {
            return this;
        }

        Parameters.Add(name, value);
        clauses.Add(clause);
        return this;
    }

    /// <summary>
    /// Adds one clause for the present values among <paramref name="parts"/>, joined with AND inside
    /// <paramref name="wrap"/>, so that they must hold together (for example, for the same intervention).
    /// </summary>
    public SqlFilter WhenAny(IEnumerable<(string Name, object? Value, string Clause)> parts, Func<string, string> wrap)
    {
        var present = parts.Where(p => p.Value is not null).ToList();
        if (present.Count == 0)
        {
            return this;
        }

        foreach (var (name, value, _) in present)
        {
            Parameters.Add(name, value);
        }

        clauses.Add(wrap(string.Join(" AND ", present.Select(p => p.Clause))));
        return this;
    }

    public SqlFilter Always(string clause)
    {
        clauses.Add(clause);
        return this;
    }

    /// <summary>Every row of <paramref name="sql"/> ({0} for WHERE, {1} for an optional LIMIT) as a CSV download.</summary>
    public CsvResult Export(Npgsql.NpgsqlDataSource dataSource, string sql, int? limit, string fileName)
    {
        if (limit is not null)
        {
            Parameters.Add("Take", limit);
        }

        var command = sql.Replace("{0}", Where, StringComparison.Ordinal)
            .Replace("{1}", limit is null ? "" : "LIMIT @Take", StringComparison.Ordinal);
        return new CsvResult(dataSource, command, Parameters, fileName);
    }

    public string Where => clauses.Count == 0 ? "" : "WHERE " + string.Join("\n  AND ", clauses);

    public string And => clauses.Count == 0 ? "" : "AND " + string.Join("\n  AND ", clauses);
}
