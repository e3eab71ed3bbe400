using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.Querying;

/// <summary>One page of a list.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="Items">The items of this page, in the requested order.</param>
/// <param name="Total">How many items match the filters across all pages (omitted when includeTotal=false).</param>
/// <param name="Limit">The page size used.</param>
/// <param name="Next">Opaque cursor for the next page (pass it as <c>cursor</c>); null on the last page.</param>
/// <param name="SearchedFor">When a free-text search found nothing and was retried with misspellings corrected: the query used.</param>
public sealed record Page<T>(
    IReadOnlyList<T> Items,
    long? Total,
    int Limit,
    string? Next,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    string? SearchedFor = null);

/// <summary>
/// Position after the last row of a page: the value of the sort key and the id that breaks ties.
/// Encoded as base64url JSON so clients treat it as opaque.
/// </summary>
public sealed record Cursor(string Sort, JsonElement? Value, long Id)
{
    public string Encode() => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(this, JsonSerializerOptions.Web));

    public static Cursor? TryDecode(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 1024)
        {
            return null;
        }

        try
        {
            var bytes = Base64Url.DecodeFromChars(text);
            return JsonSerializer.Deserialize<Cursor>(Encoding.UTF8.GetString(bytes), JsonSerializerOptions.Web);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }
}

public static class Paging
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 200;

    /// <summary>Splits the comma-separated values of a multi-value filter (<c>design=case_report,case_series</c>).</summary>
    public static string[]? SplitList(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? null
            : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>The paging parameters every list endpoint takes.</summary>
public abstract record PageQuery
{
    /// <summary>Page size, 1-200 (default 20).</summary>
    /// <example>20</example>
    [FromQuery(Name = "limit")]
    public int? Limit { get; init; }

    /// <summary>Rows to skip (offset paging). Not combinable with cursor.</summary>
    /// <example>0</example>
    [FromQuery(Name = "offset")]
    public int? Offset { get; init; }

    /// <summary>The <c>next</c> value of the previous page (keyset paging).</summary>
    [FromQuery(Name = "cursor")]
    public string? Cursor { get; init; }

    /// <summary>Count all matching rows (default true).</summary>
    /// <example>true</example>
    [FromQuery(Name = "includeTotal")]
    public bool? IncludeTotal { get; init; }

    /// <summary>Only these fields of each item, comma-separated (JSON only).</summary>
    /// <example>id,title,year</example>
    [FromQuery(Name = "fields")]
    public string? Fields { get; init; }

    /// <summary>json (default) or csv: every matching row streamed as CSV with a header row (same as Accept: text/csv); limit caps the rows.</summary>
    /// <example>json</example>
    [FromQuery(Name = "format")]
    public string? Format { get; init; }
}

public sealed class PageQueryValidator : AbstractValidator<PageQuery>
{
    public PageQueryValidator()
    {
        RuleFor(q => q.Limit).InclusiveBetween(1, Paging.MaxLimit)
            .WithMessage($"limit must be between 1 and {Paging.MaxLimit}.");
        RuleFor(q => q.Offset).GreaterThanOrEqualTo(0)
            .WithMessage("offset must be 0 or more.");
        RuleFor(q => q.Offset).Null()
            .When(q => q.Cursor is not null)
            .WithMessage("Use either offset or cursor, not both.");
        RuleFor(q => q.Cursor)
            .Must(c => c is null || Cursor.TryDecode(c) is not null)
            .WithMessage("The cursor is not valid: pass the next value of a previous page unchanged.");
        RuleFor(q => q.Format).Must(f => f is null or "json" or "csv").WithMessage("format is json or csv.");
        RuleFor(q => q.Fields).MaximumLength(1000);
    }
}
