using System.Threading.Channels;
using Dapper;
using EvidenceApi.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EvidenceApi.CaseReports;

/// <summary>Settings under <c>Submissions</c>.</summary>
public sealed class SubmissionOptions
{
    public const string Section = "Submissions";

    /// <summary>
    /// How long a submission waits for the search for a near-identical study title (default 50 ms) before it is stored
    /// with the search still pending; the background worker then finishes it. 0 always leaves it to the worker.
    /// </summary>
    public int TitleCheckWaitMilliseconds { get; set; } = 50;
}

/// <summary>An existing study whose title is near-identical to a submission's.</summary>
public sealed record SimilarTitle(long StudyId, float Score);

/// <summary>
/// The search for an existing study whose title is near-identical to a submission's (pg_trgm similarity of at least
/// <see cref="Threshold"/>), for the curator to compare. Over a few thousand studies it takes milliseconds and is done while
/// the submission is stored; over a million near-identical titles it takes seconds, so a submission waits for it only
/// briefly and this worker finishes what was left pending, oldest first, one at a time (on every instance; each
/// submission is claimed by one). A submission stored meanwhile shows <c>titleCheck: pending</c>.
/// </summary>
public sealed partial class DuplicateTitleChecks(
    NpgsqlDataSource primary, IOptions<SubmissionOptions> options, IConfiguration configuration, ILogger<DuplicateTitleChecks> logger) : BackgroundService
{
    /// <summary>Titles at least this similar (pg_trgm, 0-1) to an existing study's are flagged for the curator.</summary>
    public const double Threshold = 0.6;

    public const string Done = "done";
    public const string Pending = "pending";
    public const string TimedOut = "timed_out";

    // Pending submissions of other instances, or left by a stopped one, are found by looking every so often.
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);

    // pg_trgm's own threshold is raised to the flag's, so that its index passes on only titles that can reach it. Plain
    // and index scans are ruled out: the planner takes comparing every title to be cheaper than it is (ten seconds at a
    // million studies, against one or two through the trigram index). All of it is local to the transaction.
    private const string SearchSettings = """
        SELECT set_config('pg_trgm.similarity_threshold', @Threshold::text, true),
               set_config('enable_seqscan', 'off', true),
               set_config('enable_indexscan', 'off', true),
               set_config('enable_indexonlyscan', 'off', true),
               set_config('statement_timeout', @TimeoutMilliseconds::text, true)
        """;

    // A submission published before its search ran is not its own duplicate.
    private const string FindSimilar = """
        SELECT id AS study_id, similarity(title, @Title) AS score
        FROM studies
        WHERE title % @Title AND similarity(title, @Title) >= @Threshold
          AND (@SubmissionId::bigint IS NULL OR submission_id IS DISTINCT FROM @SubmissionId)
        ORDER BY score DESC, id LIMIT 1
        """;

    // The window counts every pending submission, not only the 20 taken.
    private const string NextPending = "SELECT id, count(*) OVER () AS pending FROM submissions WHERE title_check = 'pending' ORDER BY id LIMIT 20";

    // A transaction-scoped advisory lock claims a submission, not a row lock: a curator deciding on it meanwhile is not kept waiting.
    private const string Claim = """
        SELECT title FROM submissions
        WHERE id = @Id AND title_check = 'pending' AND pg_try_advisory_xact_lock(hashtextextended('duplicate-title-check', @Id))
        """;

    private const string Record = """
        UPDATE submissions SET title_check = @Check, similar_study_id = @StudyId, similar_title_score = @Score
        WHERE id = @Id
        """;

    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    // The worker may take as long as an aggregate over the whole evidence.
    private readonly int workerTimeoutMilliseconds =
        (configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions()).AnalyticalStatementTimeoutSeconds * 1000;

    private long pending;

    /// <summary>Submissions whose search is pending, on every instance, as this worker last counted them.</summary>
    public long PendingCount => Interlocked.Read(ref pending);

    /// <summary>
    /// Searches within the submission's transaction, for as long as a submission may wait. Returns whether the search
    /// finished, and what it found; the transaction is left as it was, whatever happened.
    /// </summary>
    public async Task<(bool Finished, SimilarTitle? Similar)> SearchWhileSubmittingAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string title, CancellationToken cancellationToken)
    {
        var wait = options.Value.TitleCheckWaitMilliseconds;
        return wait > 0 ? await SearchAsync(connection, transaction, title, null, wait, cancellationToken) : (false, null);
    }

    /// <summary>A submission was stored with its search pending: look now rather than at the next poll.</summary>
    public void Wake() => wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    while (await FinishPendingAsync(stoppingToken) > 0)
                    {
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException && !stoppingToken.IsCancellationRequested)
                {
                    LogWorkerFailed(logger, ex);
                }

                using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                poll.CancelAfter(PollInterval);
                try
                {
                    await wake.Reader.ReadAsync(poll.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Finishes the pending searches it can claim; returns how many.</summary>
    private async Task<int> FinishPendingAsync(CancellationToken cancellationToken)
    {
        List<(long Id, long Pending)> next;
        await using (var connection = await primary.OpenConnectionAsync(cancellationToken))
        {
            next = (await connection.QueryAsync<(long Id, long Pending)>(new CommandDefinition(NextPending, cancellationToken: cancellationToken))).AsList();
        }

        Interlocked.Exchange(ref pending, next.Count > 0 ? next[0].Pending : 0);
        var finished = 0;
        foreach (var (id, _) in next)
        {
            await using var connection = await primary.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var title = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(Claim, new { Id = id }, transaction, cancellationToken: cancellationToken));
            if (title is null)
            {
                continue;
            }

            var (completed, similar) = await SearchAsync(connection, transaction, title, id, workerTimeoutMilliseconds, cancellationToken);
            if (!completed)
            {
                LogGaveUp(logger, id, workerTimeoutMilliseconds / 1000);
            }

            await connection.ExecuteAsync(new CommandDefinition(
                Record, new { Id = id, Check = completed ? Done : TimedOut, similar?.StudyId, similar?.Score }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            Interlocked.Decrement(ref pending);
            finished++;
        }

        return finished;
    }

    private static async Task<(bool Finished, SimilarTitle? Similar)> SearchAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string title, long? submissionId, int timeoutMilliseconds,
        CancellationToken cancellationToken)
    {
        // The savepoint takes back the settings, and the abort of the transaction when the search runs out of time.
        await transaction.SaveAsync("title_check", cancellationToken);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                SearchSettings, new { Threshold, TimeoutMilliseconds = timeoutMilliseconds }, transaction, cancellationToken: cancellationToken));
            var similar = await connection.QuerySingleOrDefaultAsync<SimilarTitle>(new CommandDefinition(
                FindSimilar, new { Title = title, Threshold, SubmissionId = submissionId }, transaction, cancellationToken: cancellationToken));
            await transaction.RollbackAsync("title_check", cancellationToken);
            return (true, similar);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.QueryCanceled && !cancellationToken.IsCancellationRequested)
        {
            await transaction.RollbackAsync("title_check", cancellationToken);
            return (false, null);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Searching for near-identical titles failed; pending submissions are retried")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gave up searching for a title near-identical to submission {SubmissionId} after {Seconds} s")]
    private static partial void LogGaveUp(ILogger logger, long submissionId, int seconds);
}
