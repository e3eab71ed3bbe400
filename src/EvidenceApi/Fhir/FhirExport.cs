using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using Dapper;
using EvidenceApi.Http;
using EvidenceApi.Querying;
using Hl7.Fhir.Model;
using Npgsql;

namespace EvidenceApi.Fhir;

/// <summary>
/// Bulk export after the FHIR Bulk Data Access pattern. The kick-off stores a job in the database and answers 202 with
/// its status URL; whichever API instance claims the job first (<see cref="FhirExportWorker"/>) writes one NDJSON file
/// per resource type into the database, read in one snapshot; any instance answers the polls and serves the files.
/// </summary>
public static class FhirExport
{
    public static readonly IReadOnlyList<string> ExportTypes = ["ResearchStudy", "Group", "Observation", "EvidenceVariable", "CodeSystem"];

    /// <summary>Jobs queued or running at once, across all instances; beyond it a kick-off is 429.</summary>
    public const int MaxActiveJobs = 4;

    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    private static readonly HashSet<string> NdjsonFormats = new(StringComparer.Ordinal) { "application/fhir+ndjson", "application/ndjson", "ndjson" };

    public static RouteGroupBuilder MapBulkExport(this RouteGroupBuilder group)
    {
        group.MapGet("/$export", KickOffAsync).RequireRateLimiting(Protection.ExpensiveReadsPolicy);
        group.MapGet("/$export/{jobId:guid}", StatusAsync);
        group.MapDelete("/$export/{jobId:guid}", CancelAsync);
        group.MapGet("/$export/{jobId:guid}/{type}.ndjson", FileAsync);
        return group;
    }

    private static async Task<IResult> KickOffAsync(HttpContext context, NpgsqlDataSource primary, FhirExportWorker worker, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!request.Headers["Prefer"].Any(p => p?.Contains("respond-async", StringComparison.OrdinalIgnoreCase) == true))
        {
            return FhirErrors.Invalid("Prefer", "A bulk export runs asynchronously: send the header Prefer: respond-async.");
        }

        var issues = new List<FhirErrors.Issue>();
        foreach (var key in request.Query.Keys.Where(k => k is not ("_type" or "_since" or "_outputFormat") && !FhirSearch.ResultParameters.Contains(k)))
        {
            issues.Add(new(OperationOutcome.IssueType.NotSupported, $"The export parameter '{key}' is not supported. Supported: _type, _since, _outputFormat.", key));
        }

        var types = Paging.SplitList(request.Query["_type"].ToString()) ?? [.. ExportTypes];
        if (types.Where(t => !ExportTypes.Contains(t)).ToList() is { Count: > 0 } unknown)
        {
            issues.Add(new(OperationOutcome.IssueType.NotSupported,
                $"'{string.Join(",", unknown)}' cannot be exported. Exported types: {string.Join(", ", ExportTypes)}.", "_type"));
        }

        DateTimeOffset? since = null;
        if (request.Query["_since"].ToString() is { Length: > 0 } sinceText)
        {
            if (DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) && sinceText.Contains('T', StringComparison.Ordinal))
            {
                since = parsed;
            }
            else
            {
                issues.Add(new(OperationOutcome.IssueType.Invalid, $"'{sinceText}' is not a FHIR instant (e.g. 2026-01-01T00:00:00Z).", "_since"));
            }
        }

        if (request.Query["_outputFormat"].ToString() is { Length: > 0 } format && !NdjsonFormats.Contains(format))
        {
            issues.Add(new(OperationOutcome.IssueType.NotSupported, $"Only NDJSON is written (application/fhir+ndjson), not '{format}'.", "_outputFormat"));
        }

        if (issues.Count > 0)
        {
            return FhirErrors.Invalid(issues);
        }

        var id = Guid.NewGuid();
        await using var connection = await primary.OpenConnectionAsync(cancellationToken);
        var queued = await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO fhir_export_jobs (id, request_url, base_url, types, since, expires_at)
            SELECT @Id, @RequestUrl, @BaseUrl, @Types, @Since, now() + @Retention
            WHERE (SELECT count(*) FROM fhir_export_jobs WHERE status IN ('queued', 'running')) < @MaxActiveJobs
            """, new
        {
            Id = id, RequestUrl = FhirEndpoints.RequestUrl(request), BaseUrl = FhirContextFactory.BaseUrl(request),
            Types = types.Distinct().ToArray(), Since = since, Retention, MaxActiveJobs,
        }, cancellationToken: cancellationToken));
        if (queued == 0)
        {
            context.Response.Headers.RetryAfter = "60";
            return FhirErrors.Outcome(StatusCodes.Status429TooManyRequests, new FhirErrors.Issue(OperationOutcome.IssueType.Throttled,
                $"{MaxActiveJobs} exports are already queued or running; retry in a minute."));
        }

        worker.Wake();
        context.Response.Headers.ContentLocation = $"{FhirContextFactory.BaseUrl(request)}/$export/{id}";
        return Information(StatusCodes.Status202Accepted, "The export is queued: poll the Content-Location for its progress and manifest.");
    }

    private static async Task<IResult> StatusAsync(Guid jobId, HttpContext context, NpgsqlDataSource primary, CancellationToken cancellationToken)
    {
        await using var connection = await primary.OpenConnectionAsync(cancellationToken);
        var job = await connection.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(
            "SELECT id, status, request_url, base_url, transaction_time, resources_done, resources_total, error FROM fhir_export_jobs WHERE id = @Id",
            new { Id = jobId }, cancellationToken: cancellationToken));
        context.Response.Headers.CacheControl = "no-store";
        switch (job?.Status)
        {
            case null:
                return FhirErrors.NotFound($"No export {jobId}: it never existed, was cancelled, or expired {Retention.TotalHours:0} hours after it completed.");
            case "failed":
                return FhirErrors.Outcome(StatusCodes.Status500InternalServerError, new FhirErrors.Issue(OperationOutcome.IssueType.Exception, $"The export failed: {job.Error}"));
            case "queued" or "running":
                context.Response.Headers["X-Progress"] = job.Status == "queued" ? "queued"
                    : job.ResourcesTotal is { } total ? $"{job.ResourcesDone} of {total} studies exported" : "starting";
                context.Response.Headers.RetryAfter = "2";
                return TypedResults.Accepted((string?)null);
        }

        var files = (await connection.QueryAsync<(string Type, long Count)>(new CommandDefinition(
            "SELECT resource_type, sum(resources)::bigint FROM fhir_export_files WHERE job_id = @Id GROUP BY resource_type",
            new { Id = jobId }, cancellationToken: cancellationToken))).ToDictionary(f => f.Type, f => f.Count);
        return new ManifestResult(job, ExportTypes.Where(files.ContainsKey).Select(type => (type, files[type])).ToList());
    }

    private static async Task<IResult> CancelAsync(Guid jobId, NpgsqlDataSource primary, CancellationToken cancellationToken)
    {
        await using var connection = await primary.OpenConnectionAsync(cancellationToken);
        var deleted = await connection.ExecuteAsync(new CommandDefinition("DELETE FROM fhir_export_jobs WHERE id = @Id", new { Id = jobId }, cancellationToken: cancellationToken));
        return deleted == 0
            ? FhirErrors.NotFound($"No export {jobId} to cancel.")
            : Information(StatusCodes.Status202Accepted, "The export is cancelled and its files are deleted.");
    }

    private static async Task<IResult> FileAsync(Guid jobId, string type, HttpContext context, NpgsqlDataSource primary, CancellationToken cancellationToken)
    {
        await using var connection = await primary.OpenConnectionAsync(cancellationToken);
        var status = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT status FROM fhir_export_jobs WHERE id = @Id", new { Id = jobId }, cancellationToken: cancellationToken));
        if (status != "completed" || !ExportTypes.Contains(type))
        {
            return FhirErrors.NotFound($"No file {type}.ndjson of a completed export {jobId}.");
        }

        var response = context.Response;
        response.ContentType = FhirJson.NdjsonContentType;
        response.Headers.CacheControl = "no-store";
        // The parts are gzip members: a client that takes gzip gets them as stored, others get them inflated as they stream.
        var gzip = context.Request.Headers.AcceptEncoding.Any(e => e?.Contains("gzip", StringComparison.OrdinalIgnoreCase) == true);
        if (gzip)
        {
            response.Headers.ContentEncoding = "gzip";
        }

        await using var command = new NpgsqlCommand(
            "SELECT data FROM fhir_export_files WHERE job_id = @Id AND resource_type = @Type ORDER BY part", connection);
        command.Parameters.AddWithValue("Id", jobId);
        command.Parameters.AddWithValue("Type", type);
        command.CommandTimeout = 0;
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            await using var part = await reader.GetStreamAsync(0, cancellationToken);
            if (gzip)
            {
                await part.CopyToAsync(response.Body, cancellationToken);
            }
            else
            {
                await using var inflated = new GZipStream(part, CompressionMode.Decompress);
                await inflated.CopyToAsync(response.Body, cancellationToken);
            }
        }

        return Results.Empty;
    }

    private static FhirResult Information(int status, string text) => new(new OperationOutcome
    {
        Issue = [new OperationOutcome.IssueComponent { Severity = OperationOutcome.IssueSeverity.Information, Code = OperationOutcome.IssueType.Informational, Diagnostics = text }],
    }, status);

    internal sealed record JobRow
    {
        public Guid Id { get; init; }

        public required string Status { get; init; }

        public required string RequestUrl { get; init; }

        public required string BaseUrl { get; init; }

        public DateTime? TransactionTime { get; init; }

        public long ResourcesDone { get; init; }

        public long? ResourcesTotal { get; init; }

        public string? Error { get; init; }
    }

    /// <summary>The completion manifest of the Bulk Data Access specification (plain JSON, not a FHIR resource).</summary>
    private sealed class ManifestResult(JobRow job, IReadOnlyList<(string Type, long Count)> files) : IResult
    {
        public async System.Threading.Tasks.Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            httpContext.Response.Headers.Expires = DateTimeOffset.UtcNow.Add(Retention).ToString("R", CultureInfo.InvariantCulture);
            await using var writer = new Utf8JsonWriter(httpContext.Response.Body);
            writer.WriteStartObject();
            writer.WriteString("transactionTime", new DateTimeOffset(DateTime.SpecifyKind(job.TransactionTime ?? DateTime.UtcNow, DateTimeKind.Utc)));
            writer.WriteString("request", job.RequestUrl);
            writer.WriteBoolean("requiresAccessToken", false);
            writer.WriteStartArray("output");
            foreach (var (type, count) in files)
            {
                writer.WriteStartObject();
                writer.WriteString("type", type);
                writer.WriteString("url", $"{job.BaseUrl}/$export/{job.Id}/{type}.ndjson");
                writer.WriteNumber("count", count);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("error");
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
    }
}
