using System.IO.Compression;
using System.Text.Json;
using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using Hl7.Fhir.Model;
using Npgsql;
using Task = System.Threading.Tasks.Task;

namespace EvidenceApi.Fhir;

/// <summary>
/// Runs queued bulk exports, one at a time per instance. A job is claimed with FOR UPDATE SKIP LOCKED, so that of several
/// instances exactly one runs it; a running job whose heartbeat stops (its instance died) is claimed again after a minute.
/// The studies are read a page at a time in one repeatable-read snapshot and written as gzip members of about a megabyte:
/// memory stays flat however large the export.
/// </summary>
public sealed partial class FhirExportWorker(NpgsqlDataSource primary, ReadDataSource reads, ILogger<FhirExportWorker> logger) : BackgroundService
{
    private const int PageSize = 500;
    private const int PartBytes = 1024 * 1024;
    private const int MaxAttempts = 3;
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim wake = new(0);

    /// <summary>A kick-off on this instance: look for work now rather than at the next poll.</summary>
    public void Wake() => wake.Release();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await ClaimAsync(stoppingToken) is { } job)
                {
                    await RunAsync(job, stoppingToken);
                }

                await using var connection = await primary.OpenConnectionAsync(stoppingToken);
                await connection.ExecuteAsync(new CommandDefinition("DELETE FROM fhir_export_jobs WHERE expires_at < now()", cancellationToken: stoppingToken));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                LogWorkerError(logger, ex);
            }

            await wake.WaitAsync(PollInterval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task<Job?> ClaimAsync(CancellationToken cancellationToken)
    {
        await using var connection = await primary.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE fhir_export_jobs SET status = 'failed', error = 'It was started ' || attempts || ' times and did not finish.', completed_at = now()
            WHERE status = 'running' AND heartbeat_at < now() - @StaleAfter AND attempts >= @MaxAttempts
            """, new { StaleAfter, MaxAttempts }, cancellationToken: cancellationToken));
        return await connection.QuerySingleOrDefaultAsync<Job>(new CommandDefinition("""
            UPDATE fhir_export_jobs SET status = 'running', heartbeat_at = now(), attempts = attempts + 1, resources_done = 0, resources_total = NULL
            WHERE id = (
                SELECT id FROM fhir_export_jobs
                WHERE status = 'queued' OR (status = 'running' AND heartbeat_at < now() - @StaleAfter)
                ORDER BY created_at
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
            RETURNING id, base_url, types, since
            """, new { StaleAfter }, cancellationToken: cancellationToken));
    }

    private async Task RunAsync(Job job, CancellationToken stoppingToken)
    {
        try
        {
            await ExportAsync(job, stoppingToken);
        }
        catch (JobGoneException)
        {
            LogCancelled(logger, job.Id);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException && !stoppingToken.IsCancellationRequested)
        {
            LogExportFailed(logger, ex, job.Id);
            await using var connection = await primary.OpenConnectionAsync(stoppingToken);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE fhir_export_jobs SET status = 'failed', error = @Error, completed_at = now() WHERE id = @Id",
                new { job.Id, Error = ex.Message }, cancellationToken: stoppingToken));
        }
    }

    private async Task ExportAsync(Job job, CancellationToken cancellationToken)
    {
        await using var writes = await primary.OpenConnectionAsync(cancellationToken);
        await writes.ExecuteAsync(new CommandDefinition("DELETE FROM fhir_export_files WHERE job_id = @Id", new { job.Id }, cancellationToken: cancellationToken));

        // One snapshot for the whole export: every file shows the evidence as of transactionTime, whatever changes meanwhile.
        await using var snapshot = await reads.Source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await snapshot.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await snapshot.ExecuteAsync(new CommandDefinition("SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = 0", transaction: transaction, cancellationToken: cancellationToken));
        var (version, versionTime, transactionTime) = await snapshot.QuerySingleAsync<(long, DateTime, DateTime)>(new CommandDefinition(
            "SELECT version, changed_at, now() FROM data_version WHERE id = 1", transaction: transaction, cancellationToken: cancellationToken));
        var vocabularies = await Vocabularies.VocabulariesEndpoints.LoadAsync(reads.Source, cancellationToken);
        var context = new FhirContext(job.BaseUrl, version, new DateTimeOffset(DateTime.SpecifyKind(versionTime, DateTimeKind.Utc)), vocabularies);

        var files = job.Types.ToDictionary(type => type, type => new PartWriter(job.Id, type, writes));
        try
        {
            await WriteFilesAsync(job, files, snapshot, transaction, context, cancellationToken);
        }
        finally
        {
            foreach (var file in files.Values)
            {
                file.Dispose();
            }
        }

        await transaction.CommitAsync(cancellationToken);
        var completed = await writes.ExecuteAsync(new CommandDefinition("""
            UPDATE fhir_export_jobs SET status = 'completed', completed_at = now(), expires_at = now() + @Retention,
                   transaction_time = @TransactionTime, data_version = @Version
            WHERE id = @Id AND status = 'running'
            """, new { job.Id, FhirExport.Retention, TransactionTime = DateTime.SpecifyKind(transactionTime, DateTimeKind.Utc), Version = version },
            cancellationToken: cancellationToken));
        if (completed == 0)
        {
            throw new JobGoneException();
        }
    }

    private static async Task WriteFilesAsync(Job job, Dictionary<string, PartWriter> files, NpgsqlConnection snapshot, NpgsqlTransaction transaction,
        FhirContext context, CancellationToken cancellationToken)
    {
        var writes = files.Values.First().Writes;
        var perStudy = files.Keys.Any(type => type is "ResearchStudy" or "Group" or "Observation");
        long done = 0;
        var query = new StudyListQuery { Sort = "id", Limit = PageSize, IncludeTotal = true, UpdatedSince = job.Since };
        while (perStudy)
        {
            var page = await StudyQueries.ListPageAsync(snapshot, new EvidenceFilter(), query, cancellationToken);
            var studies = await StudyQueries.FindManyAsync(snapshot, page.Items.Select(s => s.Id).ToArray(), cancellationToken, transaction);
            foreach (var study in studies)
            {
                await WriteAsync(files, "ResearchStudy", () => FhirResources.ResearchStudy(study, context), cancellationToken);
                await WriteAsync(files, "Group", () => FhirResources.Group(study, context), cancellationToken);
                foreach (var outcome in study.Outcomes)
                {
                    await WriteAsync(files, "Observation", () => FhirResources.Observation(
                        outcome, study.Interventions.FirstOrDefault(i => i.Id == outcome.InterventionId)?.Key, context), cancellationToken);
                }
            }

            done += studies.Count;
            await HeartbeatAsync(writes, job.Id, done, page.Total, cancellationToken);
            if (page.Next is null)
            {
                break;
            }

            query = query with { Cursor = page.Next, IncludeTotal = false };
        }

        // Vocabularies carry no change times: with _since they are exported when the evidence changed at all since then.
        if (job.Since is null || context.VersionTime > job.Since)
        {
            foreach (var variable in context.Vocabularies.Measures)
            {
                await WriteAsync(files, "EvidenceVariable", () => FhirResources.EvidenceVariable(variable, context), cancellationToken);
            }

            foreach (var codeSystem in FhirEndpoints.CodeSystems(context))
            {
                await WriteAsync(files, "CodeSystem", () => codeSystem, cancellationToken);
            }
        }

        foreach (var file in files.Values)
        {
            await file.FlushAsync(cancellationToken);
        }
    }

    private static async Task WriteAsync(Dictionary<string, PartWriter> files, string type, Func<Resource> make, CancellationToken cancellationToken)
    {
        if (files.TryGetValue(type, out var file))
        {
            await file.WriteAsync(make(), cancellationToken);
        }
    }

    /// <summary>Progress for the pollers, and the check that the job was not cancelled (deleted) meanwhile.</summary>
    private static async Task HeartbeatAsync(NpgsqlConnection writes, Guid id, long done, long? total, CancellationToken cancellationToken)
    {
        var alive = await writes.ExecuteAsync(new CommandDefinition("""
            UPDATE fhir_export_jobs SET heartbeat_at = now(), resources_done = @Done, resources_total = coalesce(@Total, resources_total)
            WHERE id = @Id AND status = 'running'
            """, new { Id = id, Done = done, Total = total }, cancellationToken: cancellationToken));
        if (alive == 0)
        {
            throw new JobGoneException();
        }
    }

    /// <summary>One NDJSON file, written as gzip members of about <see cref="PartBytes"/> each, one row per member.</summary>
    private sealed class PartWriter(Guid jobId, string type, NpgsqlConnection writes) : IDisposable
    {
        private readonly MemoryStream buffer = new();
        private GZipStream? gzip;
        private Utf8JsonWriter? json;
        private int part;
        private int resources;

        public NpgsqlConnection Writes => writes;

        public async Task WriteAsync(Resource resource, CancellationToken cancellationToken)
        {
            gzip ??= new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true);
            json ??= new Utf8JsonWriter(gzip);
            FhirJson.Write(resource, json);
            await json.FlushAsync(cancellationToken);
            json.Reset();
            gzip.WriteByte((byte)'\n');
            resources++;
            if (buffer.Length >= PartBytes)
            {
                await FlushAsync(cancellationToken);
            }
        }

        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (gzip is null)
            {
                return;
            }

            await json!.DisposeAsync();
            await gzip.DisposeAsync();
            (json, gzip) = (null, null);
            await writes.ExecuteAsync(new CommandDefinition(
                "INSERT INTO fhir_export_files (job_id, resource_type, part, resources, data) VALUES (@JobId, @Type, @Part, @Resources, @Data)",
                new { JobId = jobId, Type = type, Part = part++, Resources = resources, Data = buffer.ToArray() }, cancellationToken: cancellationToken));
            buffer.SetLength(0);
            resources = 0;
        }

        public void Dispose()
        {
            json?.Dispose();
            gzip?.Dispose();
            buffer.Dispose();
        }
    }

    private sealed class JobGoneException() : Exception("The export job was cancelled.");

    private sealed record Job
    {
        public Guid Id { get; init; }

        public required string BaseUrl { get; init; }

        public string[] Types { get; init; } = [];

        public DateTime? Since { get; init; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bulk export worker could not reach the database")]
    private static partial void LogWorkerError(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Bulk export {JobId} failed")]
    private static partial void LogExportFailed(ILogger logger, Exception exception, Guid jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bulk export {JobId} was cancelled while it ran")]
    private static partial void LogCancelled(ILogger logger, Guid jobId);
}
