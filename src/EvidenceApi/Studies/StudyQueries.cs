using System.Text.Json;
using Dapper;
using EvidenceApi.Interventions;
using EvidenceApi.Outcomes;
using EvidenceApi.Querying;
using Npgsql;

namespace EvidenceApi.Studies;

public static class StudyQueries
{
    /// <summary>A sort key: its SQL expression (never null, so keyset comparisons hold) and the CLR type of its value.</summary>
    public sealed record SortKey(string Expression, Type ValueType);

    /// <summary>
    /// Relevance is ranked among at most this many matches: ranking reads every match's document, which for a query
    /// matching a large share of a million studies would take seconds. Narrower queries are ranked in full. The
    /// candidates are the matches of the first buckets (<see cref="SearchBuckets"/>) that hold this many.
    /// </summary>
    public const int RelevanceCandidates = 1000;

    /// <summary>Candidates for relevance are read bucket by bucket (id % 8), from partial text indexes (db/0007_search_buckets.sql).</summary>
    public const int SearchBuckets = 8;

    public static readonly IReadOnlyDictionary<string, SortKey> SortKeys = new Dictionary<string, SortKey>(StringComparer.Ordinal)
    {
        ["year"] = new("coalesce(s.year, 0)", typeof(int)),
        ["title"] = new("s.title", typeof(string)),
        ["participants"] = new("coalesce(s.participants, -1)", typeof(int)),
        ["id"] = new("s.id", typeof(long)),
        ["relevance"] = new("ts_rank(s.search_vector, websearch_to_tsquery('english', @Q))::float8", typeof(double)),
    };

    // The summary of a study's interventions and outcomes is kept on the study (db/0006_study_summary.sql).
    private const string SummaryColumns = """
        s.id, s.key, s.title, s.design, s.status, s.condition, s.condition_subtype, s.country, s.participants,
        s.follow_up_weeks, s.year, src.journal, src.doi, src.pmid, s.products, s.cell_sources, s.routes, s.measures,
        s.intervention_count, s.outcome_count, s.included_study_count
        """;

    /// <summary>
    /// Studies by id with everything known about them, one result set per part. Read for one study by <c>GET /v1/studies/{id}</c>
    /// and for a page of studies at a time by the FHIR facade and its bulk export.
    /// </summary>
    internal const string StudiesByIds = """
        SELECT s.id, s.key, s.title, s.design, s.status, s.condition, s.condition_subtype, s.country, s.participants,
               s.age_min, s.age_max, s.age_mean, s.male_count, s.female_count, s.population_description,
               s.follow_up_weeks, s.summary, greatest(s.updated_at, src.updated_at) AS updated_at
        FROM studies s LEFT JOIN sources src ON src.id = s.source_id WHERE s.id = ANY(@Ids) ORDER BY s.id;

        SELECT s.id AS study_id, src.id, src.title, src.authors, src.journal, src.year, src.volume, src.issue, src.pages,
               src.doi, src.pmid, src.registry_id, src.url
        FROM sources src JOIN studies s ON s.source_id = src.id WHERE s.id = ANY(@Ids);

        SELECT i.id, i.study_id, i.key, i.product, i.cell_source, i.donor, i.route, i.dose_value, i.dose_unit, i.dose_text,
               i.administrations, i.schedule, i.cotreatment, i.description
        FROM interventions i WHERE i.study_id = ANY(@Ids) ORDER BY i.study_id, i.id;

        SELECT o.id, o.study_id, o.intervention_id, o.measure, o.timepoint, o.timepoint_weeks, o.baseline_value, o.value,
               o.unit, o.scale_max, o.assessed, o.responders, o.result, o.quote, o.evidence, o.source_note
        FROM outcomes o WHERE o.study_id = ANY(@Ids) ORDER BY o.study_id, o.timepoint_weeks NULLS LAST, o.id;

        SELECT r.review_study_id AS owner_id, true AS is_included, s.id, s.key, s.title, s.design, s.year, s.participants
        FROM review_inclusions r JOIN studies s ON s.id = r.included_study_id
        WHERE r.review_study_id = ANY(@Ids)
        UNION ALL
        SELECT r.included_study_id, false, s.id, s.key, s.title, s.design, s.year, s.participants
        FROM review_inclusions r JOIN studies s ON s.id = r.review_study_id
        WHERE r.included_study_id = ANY(@Ids)
        ORDER BY year NULLS LAST, id;
        """;

    /// <summary>
    /// <see cref="StudiesByIds"/> and the patients for one study, by a single id. Prepared statements with an array
    /// parameter get a generic plan costed for ten ids, which PostgreSQL then judges worse than planning each call
    /// for the one id it holds: every read of one study was planned again (half the database's time under load).
    /// </summary>
    internal static readonly string OneStudy = (StudiesByIds + StudyPatients.ByStudies).Replace("= ANY(@Ids)", "= @Id", StringComparison.Ordinal);

    public static async Task<Page<StudySummary>> ListAsync(NpgsqlDataSource dataSource, EvidenceFilter evidence, StudyListQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);

        // Statements are prepared once per connection and then run with one generic plan. Sorted by anything but
        // relevance, the best plan for a search depends on how common its words are (walking the sort order for words
        // in half the studies, the text index for rare ones), so such a search is planned for the words at hand.
        var planForWords = !string.IsNullOrWhiteSpace(query.Q) && EffectiveSort(query).TrimStart('-') != "relevance";
        await using var transaction = planForWords ? await connection.BeginTransactionAsync(cancellationToken) : null;
        if (transaction is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "SET LOCAL plan_cache_mode = force_custom_plan", transaction: transaction, cancellationToken: cancellationToken));
        }

        var page = await ListPageAsync(connection, evidence, query, cancellationToken);

        // Typo tolerance: when a search finds nothing, search again with misspelt words replaced by the nearest known ones.
        if (page.Items.Count == 0 && query is { Q: not null, Cursor: null, Offset: null or 0 }
            && await SearchCorrection.CorrectAsync(connection, query.Q, cancellationToken) is { } corrected)
        {
            page = await ListPageAsync(connection, evidence, query with { Q = corrected }, cancellationToken) with { SearchedFor = corrected };
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        return page;
    }

    /// <summary>The SQL and parameters of the list: one page (with a look-ahead row), or every row for an export.</summary>
    public static (string Sql, DynamicParameters Parameters) ListCommand(EvidenceFilter evidence, StudyListQuery query, bool export)
    {
        var filter = Filter(evidence, query);
        var sortText = EffectiveSort(query);
        var descending = sortText.StartsWith('-');
        var sort = SortKeys[sortText.TrimStart('-')];
        var direction = descending ? "DESC" : "ASC";

        // Relevance is computed in the same scan that finds the candidates; every other order reads its index.
        var relevance = sortText.TrimStart('-') == "relevance";
        var (sortValue, rowId) = relevance ? ("r.sort_value", "r.id") : (sort.Expression, "s.id");

        var keyset = "";
        if (!export && Cursor.TryDecode(query.Cursor) is { } cursor)
        {
            if (cursor.Sort != sortText)
            {
                throw new CursorMismatchException();
            }

            filter.Parameters.Add("CursorValue", CursorValue(cursor.Value, sort.ValueType));
            filter.Parameters.Add("CursorId", cursor.Id);
            keyset = $"AND ({sortValue}, {rowId}) {(descending ? "<" : ">")} (@CursorValue, @CursorId)";
        }

        var paging = "";
        if (!export)
        {
            filter.Parameters.Add("Take", (query.Limit ?? Paging.DefaultLimit) + 1);
            filter.Parameters.Add("Offset", query.Offset ?? 0);
            paging = "LIMIT @Take OFFSET @Offset";
        }
        else if (query.Limit is { } cap)
        {
            filter.Parameters.Add("Take", cap);
            paging = "LIMIT @Take";
        }

        string page;
        if (relevance)
        {
            filter.Parameters.Add("RelevanceCandidates", RelevanceCandidates);
            var buckets = Enumerable.Range(0, SearchBuckets).Select(bucket =>
                $"(SELECT s.id, {sort.Expression} AS sort_value FROM studies s WHERE s.id % {SearchBuckets} = {bucket} AND {filter.Conditions})");
            page = $"""
                ranked AS (
                    SELECT * FROM (
                        {string.Join("\n        UNION ALL\n        ", buckets)}
                    ) candidates
                    LIMIT @RelevanceCandidates
                ),
                page AS (
                    SELECT r.id, r.sort_value
                    FROM ranked r
                    WHERE true {keyset}
                    ORDER BY r.sort_value {direction}, r.id {direction}
                    {paging}
                )
                """;
        }
        else
        {
            page = $"""
                page AS (
                    SELECT s.id, {sort.Expression} AS sort_value
                    FROM studies s
                    WHERE {filter.Conditions} {keyset}
                    ORDER BY {sort.Expression} {direction}, s.id {direction}
                    {paging}
                )
                """;
        }

        var sql = $"""
            WITH {page}
            SELECT {(export ? "" : "page.sort_value, ")}{SummaryColumns}
            FROM page JOIN studies s ON s.id = page.id
            LEFT JOIN sources src ON src.id = s.source_id
            ORDER BY page.sort_value {direction}, s.id {direction}
            """;
        return (sql, filter.Parameters);
    }

    private static string EffectiveSort(StudyListQuery query) => query.Sort ?? (string.IsNullOrWhiteSpace(query.Q) ? "-year" : "-relevance");

    /// <summary>One page of the list on an open connection (inside its transaction, if it has one).</summary>
    public static async Task<Page<StudySummary>> ListPageAsync(NpgsqlConnection connection, EvidenceFilter evidence, StudyListQuery query, CancellationToken cancellationToken)
    {
        var limit = query.Limit ?? Paging.DefaultLimit;
        var (sql, parameters) = ListCommand(evidence, query, export: false);
        var rows = (await connection.QueryAsync<SortRow, StudySummary, (object? SortValue, StudySummary Study)>(
            new CommandDefinition(sql, parameters, cancellationToken: cancellationToken),
            (sortRow, study) => (sortRow.SortValue, study), splitOn: "id")).ToList();

        long? total = null;
        if (query.IncludeTotal ?? true)
        {
            var filter = Filter(evidence, query);
            total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                $"SELECT count(*) FROM studies s {filter.Where}", filter.Parameters, cancellationToken: cancellationToken));
        }

        string? next = null;
        if (rows.Count > limit)
        {
            rows.RemoveAt(rows.Count - 1);
            var last = rows[^1];
            next = new Cursor(EffectiveSort(query), JsonSerializer.SerializeToElement(last.SortValue), last.Study.Id).Encode();
        }

        return new Page<StudySummary>(rows.Select(r => r.Study).ToList(), total, limit, next);
    }

    /// <summary>Finds a study by numeric id or by key; keys are lower case, so a key in any case finds its study.</summary>
    public static async Task<StudyDetail?> FindAsync(NpgsqlDataSource dataSource, string idOrKey, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        long? id = long.TryParse(idOrKey, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? number
            : await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT id FROM studies WHERE key = @Key", new { Key = idOrKey.ToLowerInvariant() }, cancellationToken: cancellationToken));
        return id is null ? null : (await FindManyAsync(connection, [id.Value], cancellationToken)).SingleOrDefault();
    }

    /// <summary>The studies with these ids (those that exist), in id order, each with everything known about it.</summary>
    public static async Task<IReadOnlyList<StudyDetail>> FindManyAsync(NpgsqlConnection connection, long[] ids, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        if (ids.Length == 0)
        {
            return [];
        }

        await using var results = await connection.QueryMultipleAsync(ids.Length == 1
            ? new CommandDefinition(OneStudy, new { Id = ids[0] }, transaction, cancellationToken: cancellationToken)
            : new CommandDefinition(StudiesByIds + StudyPatients.ByStudies, new { Ids = ids }, transaction, cancellationToken: cancellationToken));
        var studies = (await results.ReadAsync<StudyDetail>()).AsList();
        if (studies.Count == 0)
        {
            return [];
        }

        var sources = (await results.ReadAsync<SourceDetail>()).ToDictionary(r => r.StudyId);
        var interventions = (await results.ReadAsync<InterventionItem>()).ToLookup(i => i.StudyId);
        var outcomes = (await results.ReadAsync<OutcomeItem>()).ToLookup(o => o.StudyId);
        var links = (await results.ReadAsync<LinkRow>()).ToLookup(l => l.OwnerId);
        var patients = await StudyPatients.ReadAsync(results);
        return studies.Select(study => study with
        {
            Source = sources.GetValueOrDefault(study.Id),
            Interventions = interventions[study.Id].ToList(),
            Outcomes = outcomes[study.Id].ToList(),
            IncludedStudies = links[study.Id].Where(l => l.IsIncluded).Select(l => l.Reference()).ToList(),
            IncludedInReviews = links[study.Id].Where(l => !l.IsIncluded).Select(l => l.Reference()).ToList(),
            Patients = patients[study.Id].ToList(),
        }).ToList();
    }

    private static SqlFilter Filter(EvidenceFilter evidence, StudyListQuery query) => evidence.ForStudies(new SqlFilter())
        .When(query.Q?.Trim(), "Q", "s.search_vector @@ websearch_to_tsquery('english', @Q)")
        .WhenOverlaps(Paging.SplitList(query.Measure), "Measures", "s.measures")
        .When(StudyListQuery.ParseIds(query.Id), "Ids", "s.id = ANY(@Ids)")
        // Any identifier of the study: its key, or the DOI (case-insensitive), PMID or registry id of its source (each indexed).
        .When(query.Identifier?.Trim(), "Identifier",
            "(s.key = @Identifier OR s.source_id = ANY(ARRAY(SELECT src.id FROM sources src " +
            "WHERE lower(src.doi) = lower(@Identifier) OR src.pmid = @Identifier OR src.registry_id = @Identifier)))")
        // Title prefix, case-insensitive: the trigram index on titles answers LIKE patterns.
        .When(query.Title is { } title && !string.IsNullOrWhiteSpace(title) ? LikePrefix(title.Trim()) : null, "TitlePrefix", "s.title ILIKE @TitlePrefix")
        .When(query.UpdatedSince, "UpdatedSince",
            "(s.updated_at > @UpdatedSince OR EXISTS (SELECT 1 FROM sources src WHERE src.id = s.source_id AND src.updated_at > @UpdatedSince))");

    private static string LikePrefix(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";

    private static object CursorValue(JsonElement? value, Type type)
    {
        if (value is not { } element)
        {
            throw new CursorMismatchException();
        }

        try
        {
            return type == typeof(string) ? element.GetString() ?? throw new CursorMismatchException()
                : type == typeof(double) ? element.GetDouble()
                : type == typeof(long) ? element.GetInt64()
                : element.GetInt32();
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new CursorMismatchException();
        }
    }

    /// <summary>A review link of the study <see cref="OwnerId"/>: the other study, and whether it is one the review covered.</summary>
    private sealed record LinkRow
    {
        public long OwnerId { get; init; }

        public bool IsIncluded { get; init; }

        public long Id { get; init; }

        public required string Key { get; init; }

        public required string Title { get; init; }

        public required string Design { get; init; }

        public int? Year { get; init; }

        public int? Participants { get; init; }

        public StudyReference Reference() => new() { Id = Id, Key = Key, Title = Title, Design = Design, Year = Year, Participants = Participants };
    }

    private sealed record SortRow
    {
        public object? SortValue { get; init; }
    }
}

/// <summary>The cursor was made for another sort order or is damaged.</summary>
public sealed class CursorMismatchException() : Exception("The cursor does not belong to this sort order.");
