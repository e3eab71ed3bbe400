using Dapper;

namespace EvidenceApi.Querying;

/// <summary>
/// Collects WHERE clauses chosen from a feature's fixed set of SQL fragments, with their values as
/// parameters: user input only ever reaches SQL as a parameter value.
/// </summary>
public sealed class SqlFilter
{
    private readonly List<string> clauses = [];

    public SqlFilter()
        : this(new DynamicParameters())
    {
    }

    private SqlFilter(DynamicParameters parameters) => Parameters = parameters;

    public DynamicParameters Parameters { get; }

    /// <summary>
    /// Conditions built with this filter's parameters but kept out of its WHERE clause (for a JOIN condition): returns
    /// them joined with AND (<c>true</c> when there are none).
    /// </summary>
    public string Apart(Func<SqlFilter, SqlFilter> build) => build(new SqlFilter(Parameters)).Conditions;

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
    /// Adds <c>column = @name</c> for one value and <c>column = ANY(@name)</c> for several: a single value lets the
    /// planner use an index on the column for ordering, which an array never does.
    /// </summary>
    public SqlFilter WhenIn(string[]? values, string name, string column) => values switch
    {
        null or [] => this,
        [var single] => When(single, name, $"{column} = @{name}"),
        _ => When(values, name, $"{column} = ANY(@{name})"),
    };

    /// <summary>Adds "the array <paramref name="arrayColumn"/> holds at least one of <paramref name="values"/>".</summary>
    public SqlFilter WhenOverlaps(string[]? values, string name, string arrayColumn) => values switch
    {
        null or [] => this,
        [var single] => When(single, name, $"@{name} = ANY({arrayColumn})"),
        _ => When(values, name, $"{arrayColumn} && @{name}"),
    };

    /// <summary>
    /// Requires an intervention (table alias <c>i</c>, found by <paramref name="exists"/>) that matches every given
    /// product, cell source, route and donor at once: "umbilical-cord cells given intravenously" is one intervention.
    /// </summary>
    public SqlFilter WhenIntervention(string? products, string? cellSources, string? routes, string? donors, Func<string, string> exists)
    {
        if (products is null && cellSources is null && routes is null && donors is null)
        {
            return this;
        }

        (string Name, string[]? Values, string Clause)[] parts =
        [
            ("Products", Paging.SplitList(products), "i.product = ANY(@Products)"),
            ("CellSources", Paging.SplitList(cellSources), "i.cell_source = ANY(@CellSources)"),
            ("Routes", Paging.SplitList(routes), "i.route = ANY(@Routes)"),
            ("Donors", Paging.SplitList(donors), "i.donor = ANY(@Donors)"),
        ];
        var present = parts.Where(p => p.Values is not null).ToList();
        if (present.Count == 0)
        {
            return this;
        }

        foreach (var (name, values, _) in present)
        {
            Parameters.Add(name, values!.Length == 1 ? values[0] : values);
        }

        clauses.Add(exists(string.Join(" AND ", present.Select(p => p.Values!.Length == 1 ? p.Clause.Replace($"ANY(@{p.Name})", $"@{p.Name}", StringComparison.Ordinal) : p.Clause))));
        return this;
    }

    /// <summary>
    /// The intervention filters for a query over studies (alias <c>s</c>): answered from the study's summary
    /// (<c>s.products</c>, <c>s.cell_sources</c>, <c>s.routes</c>) when one criterion is given, and checked against
    /// the interventions themselves only when several must hold for one and the same intervention (or a donor is asked).
    /// </summary>
    public SqlFilter WhenStudyIntervention(string? products, string? cellSources, string? routes, string? donors)
    {
        var productList = Paging.SplitList(products);
        var cellSourceList = Paging.SplitList(cellSources);
        var routeList = Paging.SplitList(routes);
        var donorList = Paging.SplitList(donors);
        WhenOverlaps(productList, "AnyProduct", "s.products")
            .WhenOverlaps(cellSourceList, "AnyCellSource", "s.cell_sources")
            .WhenOverlaps(routeList, "AnyRoute", "s.routes");

        var criteria = new[] { productList, cellSourceList, routeList, donorList }.Count(values => values is { Length: > 0 });
        return criteria > 1 || donorList is { Length: > 0 }
            ? WhenIntervention(products, cellSources, routes, donors,
                conditions => $"EXISTS (SELECT 1 FROM interventions i WHERE i.study_id = s.id AND {conditions})")
            : this;
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

    public string Where => clauses.Count == 0 ? "" : "WHERE " + Conditions;

    /// <summary>The clauses joined with AND (<c>true</c> when there are none), to combine with other conditions.</summary>
    public string Conditions => clauses.Count == 0 ? "true" : string.Join("\n  AND ", clauses);
}
