using System.Globalization;

namespace EvidenceApi.Tests.Querying.Oracle;

/// <summary>The shared evidence filters as a client sends them (values verbatim, spaces and case included).</summary>
public sealed record FilterValues(
    string? Condition = null, string? Subtype = null, string? Design = null, string? Product = null, string? CellSource = null,
    string? Route = null, string? Donor = null, string? Country = null, int? YearFrom = null, int? YearTo = null)
{
    public IEnumerable<(string Name, string? Value)> Parameters() =>
    [
        ("condition", Condition), ("subtype", Subtype), ("design", Design), ("product", Product), ("cellSource", CellSource),
        ("route", Route), ("donor", Donor), ("country", Country), ("yearFrom", Text(YearFrom)), ("yearTo", Text(YearTo)),
    ];

    /// <summary>The same filters with one of them left out, for each one that is set.</summary>
    public IEnumerable<FilterValues> Smaller()
    {
        if (Condition is not null) yield return this with { Condition = null };
        if (Subtype is not null) yield return this with { Subtype = null };
        if (Design is not null) yield return this with { Design = null };
        if (Product is not null) yield return this with { Product = null };
        if (CellSource is not null) yield return this with { CellSource = null };
        if (Route is not null) yield return this with { Route = null };
        if (Donor is not null) yield return this with { Donor = null };
        if (Country is not null) yield return this with { Country = null };
        if (YearFrom is not null) yield return this with { YearFrom = null };
        if (YearTo is not null) yield return this with { YearTo = null };
    }

    public static string? Text(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    public static string? Text(decimal? value) => value?.ToString(CultureInfo.InvariantCulture);

    public static string Url(string path, IEnumerable<(string Name, string? Value)> parameters)
    {
        var set = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return set.Count == 0 ? path : $"{path}?{string.Join('&', set)}";
    }
}

/// <summary>One term of a free-text query: a word, a "two word" phrase, or an excluded -word.</summary>
public sealed record TextTerm(string Word, string? Next = null, bool Excluded = false)
{
    public override string ToString() => Next is not null ? $"\"{Word} {Next}\"" : Excluded ? $"-{Word}" : Word;
}

/// <summary>Free text as the README describes it: words (all required), "phrases", alternatives joined by OR, and -exclusions.</summary>
public sealed record TextQuery(IReadOnlyList<IReadOnlyList<TextTerm>> Alternatives)
{
    public override string ToString() => string.Join(" OR ", Alternatives.Select(terms => string.Join(' ', terms)));
}

public sealed record StudyQuery(FilterValues Filter, string? Measure, TextQuery? Q, string? Sort, int Limit, bool IncludeTotal)
{
    public string Url(int limit) => FilterValues.Url("/v1/studies", Filter.Parameters().Concat(
    [
        ("measure", Measure), ("q", Q?.ToString()), ("sort", Sort), ("limit", FilterValues.Text(limit)), ("includeTotal", IncludeTotal ? null : "false"),
    ]));

    public override string ToString() => Url(Limit);

    public IEnumerable<StudyQuery> Smaller() => Filter.Smaller().Select(f => this with { Filter = f })
        .Concat(Measure is null ? [] : [this with { Measure = null }])
        .Concat(Q is null || Sort?.TrimStart('-') == "relevance" ? [] : [this with { Q = null }])
        .Concat(Sort is null ? [] : [this with { Sort = null }]);
}

public sealed record InterventionQuery(FilterValues Filter, long? StudyId, int Limit)
{
    public string Url(int limit) => FilterValues.Url("/v1/interventions", Filter.Parameters().Concat(
        [("studyId", StudyId?.ToString(CultureInfo.InvariantCulture)), ("limit", FilterValues.Text(limit))]));

    public override string ToString() => Url(Limit);

    public IEnumerable<InterventionQuery> Smaller() => Filter.Smaller().Select(f => this with { Filter = f })
        .Concat(StudyId is null ? [] : [this with { StudyId = null }]);
}

public sealed record OutcomeQuery(FilterValues Filter, long? StudyId, string? Measure, string? Evidence, decimal? MinWeeks, decimal? MaxWeeks, int Limit)
{
    public string Url(int limit) => FilterValues.Url("/v1/outcomes", Filter.Parameters().Concat(
    [
        ("studyId", StudyId?.ToString(CultureInfo.InvariantCulture)), ("measure", Measure), ("evidence", Evidence),
        ("minWeeks", FilterValues.Text(MinWeeks)), ("maxWeeks", FilterValues.Text(MaxWeeks)), ("limit", FilterValues.Text(limit)),
    ]));

    public override string ToString() => Url(Limit);

    public IEnumerable<OutcomeQuery> Smaller() => Filter.Smaller().Select(f => this with { Filter = f })
        .Concat(StudyId is null ? [] : [this with { StudyId = null }])
        .Concat(Measure is null ? [] : [this with { Measure = null }])
        .Concat(Evidence is null ? [] : [this with { Evidence = null }])
        .Concat(MinWeeks is null ? [] : [this with { MinWeeks = null }])
        .Concat(MaxWeeks is null ? [] : [this with { MaxWeeks = null }]);
}

public sealed record PoolQuery(FilterValues Filter, string Measure, decimal? Threshold, string? Timepoint, string? Review)
{
    public override string ToString() => FilterValues.Url("/v1/synthesis", Filter.Parameters().Concat(
        [("measure", Measure), ("threshold", FilterValues.Text(Threshold)), ("timepoint", Timepoint), ("review", Review)]));

    public IEnumerable<PoolQuery> Smaller() => Filter.Smaller().Select(f => this with { Filter = f })
        .Concat(Timepoint is null ? [] : [this with { Timepoint = null }])
        .Concat(Review is null ? [] : [this with { Review = null }]);
}
