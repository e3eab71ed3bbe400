using System.Globalization;
using System.Text;
using System.Text.Json;
using CsvHelper;
using Dapper;
using Npgsql;

namespace EvidenceApi.Querying;

/// <summary>
/// Streams the rows of a query as CSV (RFC 4180, header row, UTF-8) straight from the database reader to the response,
/// so an export of any size never sits in memory. Columns are named like the JSON fields; lists are joined with "; ".
/// It may run up to the analytical statement timeout; the request timeout does not cut it.
/// </summary>
public sealed class CsvResult(NpgsqlDataSource dataSource, string sql, DynamicParameters parameters, string fileName) : IResult
{
    public const string ContentType = "text/csv";

    /// <summary>CSV is asked for with format=csv, or with Accept: text/csv (and no format).</summary>
    public static bool Requested(HttpContext context, PageQuery query) =>
        query.Format == "csv"
        || (query.Format is null && context.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(ContentType, StringComparison.OrdinalIgnoreCase)));

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        // An export lasts as long as the client takes to read it, and the server counts that time against the statement:
        // under the ordinary timeouts a large export read at a modest pace was cut off after 10 s. It runs under the
        // analytical timeout instead, and the request timeout no longer applies once it streams.
        var cancellationToken = httpContext.RequestAborted;
        var configuration = httpContext.RequestServices.GetRequiredService<IConfiguration>();
        var (connection, transaction) = await Database.EvidenceDatabase.BeginAnalyticalAsync(dataSource, configuration, cancellationToken);
        await using var _ = connection;
        await using var __ = transaction;
        httpContext.Features.Get<Microsoft.AspNetCore.Http.Timeouts.IHttpRequestTimeoutFeature>()?.DisableTimeout();
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(sql, parameters, transaction, commandTimeout: 0, cancellationToken: cancellationToken));

        httpContext.Response.ContentType = $"{ContentType}; charset=utf-8";
        httpContext.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        await using var writer = new StreamWriter(httpContext.Response.Body, new UTF8Encoding(false), bufferSize: 16 * 1024);
        await using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
        for (var i = 0; i < reader.FieldCount; i++)
        {
            csv.WriteField(JsonNamingPolicy.CamelCase.ConvertName(ToPascal(reader.GetName(i))));
        }

        await csv.NextRecordAsync();
        while (await reader.ReadAsync(cancellationToken))
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                csv.WriteField(Format(reader.IsDBNull(i) ? null : reader.GetValue(i)));
            }

            await csv.NextRecordAsync();
        }
    }

    private static string ToPascal(string snake) =>
        string.Concat(snake.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(part => char.ToUpperInvariant(part[0]) + part[1..]));

    private static string? Format(object? value) => value switch
    {
        null => null,
        string text => text,
        string[] list => string.Join("; ", list),
        DateTime time => time.ToString("O", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };
}
