using System.Text.Json;
using Dapper;
using EvidenceApi.ApiKeys;
using EvidenceApi.CaseReports;
using EvidenceApi.Querying;
using Npgsql;

namespace EvidenceApi.Submissions;

/// <summary>Reading submissions: curators see all, contributors only their own.</summary>
public static class SubmissionQueries
{
    internal const string ViewColumns = """
        sub.id, sub.status, sub.title, sub.doi, sub.pmid, sub.submitted_at, sub.updated_at, sub.study_id,
        sub.report::text AS report_json, sub.title_check, sub.similar_study_id, sim.title AS similar_title, sub.similar_title_score
        """;

    internal const string ViewFrom = "submissions sub LEFT JOIN studies sim ON sim.id = sub.similar_study_id";

    private const string ListSql = $$"""
        SELECT {{ViewColumns}}
        FROM {{ViewFrom}}
        {0} {1}
        ORDER BY sub.id
        LIMIT @Take OFFSET @Offset;
        """;

    private const string CountSql = "SELECT count(*) FROM submissions sub {0};";

    private const string EventsSql = """
        SELECT e.id, e.from_status, e.to_status, e.reason, e.at, e.actor_key_id, k.name AS actor_name, k.role AS actor_role
        FROM submission_events e JOIN api_keys k ON k.id = e.actor_key_id
        WHERE e.submission_id = @Id ORDER BY e.id
        """;

    public static async Task<Page<SubmissionView>> ListAsync(
        NpgsqlDataSource dataSource, Caller caller, SubmissionListQuery query, CancellationToken cancellationToken)
    {
        var filter = new SqlFilter()
            .When(caller.IsCurator ? null : (long?)caller.KeyId, "KeyId", "sub.submitted_by = @KeyId")
            .WhenIn(Paging.SplitList(query.Status), "Statuses", "sub.status");
        return await IdKeysetPage.QueryAsync(
            dataSource, ListSql, CountSql, filter, "sub.id", query.Limit, query.Offset, query.Cursor, query.IncludeTotal,
            async (connection, command) => (await connection.QueryAsync<SubmissionRow>(command)).Select(r => r.ToView()),
            view => view.Id, cancellationToken);
    }

    /// <summary>The submission, if it exists and the caller may see it.</summary>
    public static async Task<SubmissionView?> FindAsync(NpgsqlConnection connection, long id, Caller? caller, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<SubmissionRow>(new CommandDefinition(
            $"SELECT {ViewColumns} FROM {ViewFrom} WHERE sub.id = @Id AND (@KeyId::bigint IS NULL OR sub.submitted_by = @KeyId)",
            new { Id = id, KeyId = caller is null || caller.IsCurator ? (long?)null : caller.KeyId },
            cancellationToken: cancellationToken));
        return row?.ToView();
    }

    public static async Task<IReadOnlyList<SubmissionEvent>> EventsAsync(NpgsqlConnection connection, long id, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<SubmissionEvent>(new CommandDefinition(EventsSql, new { Id = id }, cancellationToken: cancellationToken))).ToList();

    internal sealed record SubmissionRow
    {
        public long Id { get; init; }

        public required string Status { get; init; }

        public required string Title { get; init; }

        public string? Doi { get; init; }

        public string? Pmid { get; init; }

        public DateTime SubmittedAt { get; init; }

        public DateTime UpdatedAt { get; init; }

        public long? StudyId { get; init; }

        public required string ReportJson { get; init; }

        public required string TitleCheck { get; init; }

        public long? SimilarStudyId { get; init; }

        public string? SimilarTitle { get; init; }

        public float? SimilarTitleScore { get; init; }

        public SubmissionView ToView() => new()
        {
            Id = Id,
            Status = Status,
            Title = Title,
            Doi = Doi,
            Pmid = Pmid,
            SubmittedAt = new DateTimeOffset(DateTime.SpecifyKind(SubmittedAt, DateTimeKind.Utc)),
            UpdatedAt = new DateTimeOffset(DateTime.SpecifyKind(UpdatedAt, DateTimeKind.Utc)),
            StudyId = StudyId,
            TitleCheck = TitleCheck,
            PossibleDuplicate = SimilarStudyId is { } similarId && SimilarTitle is not null
                ? new PossibleDuplicate(similarId, SimilarTitle, Math.Round(SimilarTitleScore ?? 0, 3))
                : null,
            Report = JsonSerializer.Deserialize<CaseReport>(ReportJson, CaseReportJson.Options)
                ?? throw new InvalidOperationException($"Submission {Id} has no report."),
        };
    }
}
