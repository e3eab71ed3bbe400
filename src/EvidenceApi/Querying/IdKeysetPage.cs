using Dapper;
using Npgsql;

namespace EvidenceApi.Querying;

/// <summary>Paging for lists ordered by id: offset, or a cursor holding the last id seen.</summary>
public static class IdKeysetPage
{
    /// <summary>
    /// Runs <paramref name="listSql"/> (with {0} for WHERE and {1} for the keyset clause, and @Take/@Offset)
    /// and, when asked, <paramref name="countSql"/> (with {0} for WHERE); <paramref name="read"/> runs the list command and maps its rows.
    /// </summary>
    public static async Task<Page<TItem>> QueryAsync<TItem>(
        NpgsqlDataSource dataSource, string listSql, string countSql, SqlFilter filter, string idColumn,
        int? limit, int? offset, string? cursor, bool? includeTotal,
        Func<NpgsqlConnection, CommandDefinition, Task<IEnumerable<TItem>>> read, Func<TItem, long> idOf, CancellationToken cancellationToken)
    {
        var take = limit ?? Paging.DefaultLimit;
        var after = Cursor.TryDecode(cursor);
        if (after is not null && after.Sort != idColumn)
        {
            throw new Studies.CursorMismatchException();
        }

        var where = $"WHERE {filter.Conditions}";
        var keyset = "";
        if (after is not null)
        {
            keyset = $"AND {idColumn} > @AfterId";
            filter.Parameters.Add("AfterId", after.Id);
        }

        filter.Parameters.Add("Take", take + 1);
        filter.Parameters.Add("Offset", offset ?? 0);

        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, listSql, where, keyset);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var items = (await read(connection, new CommandDefinition(sql, filter.Parameters, cancellationToken: cancellationToken))).AsList();
        long? total = includeTotal ?? true
            ? await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                string.Format(System.Globalization.CultureInfo.InvariantCulture, countSql, where), filter.Parameters, cancellationToken: cancellationToken))
            : null;

        string? next = null;
        if (items.Count > take)
        {
            items.RemoveAt(items.Count - 1);
            next = new Cursor(idColumn, null, idOf(items[^1])).Encode();
        }

        return new Page<TItem>(items, total, take, next);
    }
}
