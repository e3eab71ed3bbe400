using System.Text.Json;
using Dapper;
using EvidenceApi.ApiKeys;
using EvidenceApi.Submissions;
using Npgsql;

namespace EvidenceApi.CaseReports;

/// <summary>What became of a submitted case report.</summary>
public abstract record SubmitResult
{
    public sealed record Created(SubmissionView Submission) : SubmitResult;

    /// <summary>A retry with the same Idempotency-Key and body: the submission stored the first time.</summary>
    public sealed record Replayed(SubmissionView Submission) : SubmitResult;

    /// <summary>The Idempotency-Key was used before with another body.</summary>
    public sealed record KeyReused(long SubmissionId) : SubmitResult;

    /// <summary>The DOI or PMID belongs to a study already in the database.</summary>
    public sealed record DuplicateStudy(long StudyId, string Field, string Value) : SubmitResult;

    /// <summary>The DOI or PMID belongs to a submission still waiting for (or already past) moderation.</summary>
    public sealed record DuplicateSubmission(long SubmissionId, string Field, string Value) : SubmitResult;
}

/// <summary>Stores a validated case report as a submission, in one transaction.</summary>
public static class CaseReportSubmission
{
    private const string FindByIdempotencyKey =
        "SELECT id, request_hash FROM submissions WHERE submitted_by = @KeyId AND idempotency_key = @IdempotencyKey";

    private const string FindStudyByIdentifier = """
        SELECT s.id, CASE WHEN lower(src.doi) = lower(@Doi) THEN 'doi' ELSE 'pmid' END AS field
        FROM sources src JOIN studies s ON s.source_id = src.id
        WHERE lower(src.doi) = lower(@Doi) OR src.pmid = @Pmid
        ORDER BY s.id LIMIT 1
        """;

    private const string FindSubmissionByIdentifier = """
        SELECT id, CASE WHEN lower(doi) = lower(@Doi) THEN 'doi' ELSE 'pmid' END AS field
        FROM submissions
        WHERE status <> 'rejected' AND (lower(doi) = lower(@Doi) OR pmid = @Pmid)
        ORDER BY id LIMIT 1
        """;

    private const string Insert = """
        INSERT INTO submissions (report, title, doi, pmid, submitted_by, idempotency_key, request_hash, title_check, similar_study_id, similar_title_score)
        VALUES (@Report::jsonb, @Title, @Doi, @Pmid, @KeyId, @IdempotencyKey, @RequestHash, @TitleCheck, @SimilarStudyId, @SimilarScore)
        ON CONFLICT (submitted_by, idempotency_key) DO NOTHING
        RETURNING id
        """;

    private const string InsertEvent = """
        INSERT INTO submission_events (submission_id, actor_key_id, from_status, to_status, reason)
        VALUES (@SubmissionId, @KeyId, NULL, 'submitted', 'Submitted')
        """;

    public static async Task<SubmitResult> SubmitAsync(
        NpgsqlDataSource dataSource, DuplicateTitleChecks titleChecks, CaseReport report, string requestHash, string? idempotencyKey, Caller caller,
        CancellationToken cancellationToken)
    {
        var doi = report.Source?.Doi;
        var pmid = report.Source?.Pmid;
        var title = (report.Title ?? report.Source?.Title ?? "").Trim();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        CommandDefinition Command(string sql, object? parameters = null) => new(sql, parameters, transaction, cancellationToken: cancellationToken);

        // Serialise submissions of the same DOI/PMID so that two at once cannot both get in.
        foreach (var identifier in new[] { doi?.ToLowerInvariant(), pmid }.OfType<string>())
        {
            await connection.ExecuteAsync(Command("SELECT pg_advisory_xact_lock(hashtextextended(@Identifier, 7))", new { Identifier = identifier }));
        }

        if (idempotencyKey is not null && await ReplayAsync(connection, transaction, caller, idempotencyKey, requestHash, cancellationToken) is { } earlier)
        {
            return earlier;
        }

        if (doi is not null || pmid is not null)
        {
            var study = await connection.QuerySingleOrDefaultAsync<(long Id, string Field)?>(Command(FindStudyByIdentifier, new { Doi = doi, Pmid = pmid }));
            if (study is { } existingStudy)
            {
                return new SubmitResult.DuplicateStudy(existingStudy.Id, existingStudy.Field, (existingStudy.Field == "doi" ? doi : pmid)!);
            }

            var submission = await connection.QuerySingleOrDefaultAsync<(long Id, string Field)?>(Command(FindSubmissionByIdentifier, new { Doi = doi, Pmid = pmid }));
            if (submission is { } existingSubmission)
            {
                return new SubmitResult.DuplicateSubmission(existingSubmission.Id, existingSubmission.Field, (existingSubmission.Field == "doi" ? doi : pmid)!);
            }
        }

        var (titleChecked, similar) = await titleChecks.SearchWhileSubmittingAsync(connection, transaction, title, cancellationToken);

        var id = await connection.ExecuteScalarAsync<long?>(Command(Insert, new
        {
            Report = JsonSerializer.Serialize(report, CaseReportJson.Options),
            Title = title,
            Doi = doi,
            Pmid = pmid,
            caller.KeyId,
            IdempotencyKey = idempotencyKey,
            RequestHash = requestHash,
            TitleCheck = titleChecked ? DuplicateTitleChecks.Done : DuplicateTitleChecks.Pending,
            SimilarStudyId = similar?.StudyId,
            SimilarScore = similar?.Score,
        }));

        if (id is null)
        {
            // Another request with the same key committed while this one waited on the unique index.
            return await ReplayAsync(connection, transaction, caller, idempotencyKey!, requestHash, cancellationToken)
                ?? throw new InvalidOperationException("A conflicting submission vanished.");
        }

        await connection.ExecuteAsync(Command(InsertEvent, new { SubmissionId = id, caller.KeyId }));
        var created = await SubmissionQueries.FindAsync(connection, id.Value, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (!titleChecked)
        {
            titleChecks.Wake();
        }

        return new SubmitResult.Created(created!);
    }

    private static async Task<SubmitResult?> ReplayAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Caller caller, string idempotencyKey, string requestHash, CancellationToken cancellationToken)
    {
        var earlier = await connection.QuerySingleOrDefaultAsync<(long Id, string RequestHash)?>(new CommandDefinition(
            FindByIdempotencyKey, new { caller.KeyId, IdempotencyKey = idempotencyKey }, transaction, cancellationToken: cancellationToken));
        if (earlier is not { } row)
        {
            return null;
        }

        if (row.RequestHash != requestHash)
        {
            return new SubmitResult.KeyReused(row.Id);
        }

        var original = await SubmissionQueries.FindAsync(connection, row.Id, null, cancellationToken);
        return new SubmitResult.Replayed(original!);
    }
}
