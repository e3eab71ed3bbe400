using System.Globalization;
using Dapper;
using EvidenceApi.ApiKeys;
using EvidenceApi.CaseReports;
using EvidenceApi.Interventions;
using EvidenceApi.Outcomes;
using Npgsql;

namespace EvidenceApi.Submissions;

public abstract record ModerationResult
{
    public sealed record Done(SubmissionView Submission) : ModerationResult;

    public sealed record NotFound : ModerationResult;

    /// <summary>Only a submission in state <c>submitted</c> can be published or rejected.</summary>
    public sealed record WrongState(string Status) : ModerationResult;

    /// <summary>Since the submission, a study with the same DOI or PMID was added.</summary>
    public sealed record DuplicateSource(string Detail) : ModerationResult;
}

/// <summary>Publishing (the case report becomes a study) and rejecting, each recorded as an event.</summary>
public static class SubmissionModeration
{
    private const string LockSubmission = "SELECT status, report::text FROM submissions WHERE id = @Id FOR UPDATE";

    private const string SetStatus = """
        UPDATE submissions SET status = @ToStatus, study_id = coalesce(@StudyId, study_id), updated_at = now() WHERE id = @Id;
        INSERT INTO submission_events (submission_id, actor_key_id, from_status, to_status, reason)
        VALUES (@Id, @KeyId, 'submitted', @ToStatus, @Reason);
        """;

    private const string InsertSource = """
        INSERT INTO sources (title, authors, journal, year, doi, pmid, url)
        VALUES (@Title, @Authors, @Journal, @Year, @Doi, @Pmid, @Url)
        RETURNING id
        """;

    private const string InsertStudy = """
        INSERT INTO studies (key, source_id, title, design, status, condition, condition_subtype, country, participants,
                             age_min, age_max, male_count, female_count, population_description, follow_up_weeks, summary, submission_id)
        VALUES (@Key, @SourceId, @Title, 'case_report', 'published', @Condition, @ConditionSubtype, @Country, 1,
                @Age, @Age, @Male, @Female, @PopulationDescription, @FollowUpWeeks, @Summary, @SubmissionId)
        RETURNING id
        """;

    public static Task<ModerationResult> RejectAsync(NpgsqlDataSource dataSource, long id, Caller curator, string reason, CancellationToken cancellationToken) =>
        TransitionAsync(dataSource, id, curator, "rejected", reason, (_, _, _) => Task.FromResult<long?>(null), cancellationToken);

    public static Task<ModerationResult> PublishAsync(NpgsqlDataSource dataSource, long id, Caller curator, string? reason, CancellationToken cancellationToken) =>
        TransitionAsync(dataSource, id, curator, "published", reason,
            (connection, transaction, report) => WriteStudyAsync(connection, transaction, id, report, cancellationToken),
            cancellationToken);

    private static async Task<ModerationResult> TransitionAsync(
        NpgsqlDataSource dataSource, long id, Caller curator, string toStatus, string? reason,
        Func<NpgsqlConnection, NpgsqlTransaction, CaseReport, Task<long?>> sideEffect, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await connection.QuerySingleOrDefaultAsync<(string Status, string Report)?>(
            new CommandDefinition(LockSubmission, new { Id = id }, transaction, cancellationToken: cancellationToken));
        if (current is not { } row)
        {
            return new ModerationResult.NotFound();
        }

        if (row.Status != "submitted")
        {
            return new ModerationResult.WrongState(row.Status);
        }

        long? studyId;
        try
        {
            var report = System.Text.Json.JsonSerializer.Deserialize<CaseReport>(row.Report, CaseReportJson.Options)!;
            studyId = await sideEffect(connection, transaction, report);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return new ModerationResult.DuplicateSource($"A source with the same identifier now exists ({ex.ConstraintName}).");
        }

        await connection.ExecuteAsync(new CommandDefinition(SetStatus,
            new { Id = id, ToStatus = toStatus, StudyId = studyId, curator.KeyId, Reason = reason }, transaction, cancellationToken: cancellationToken));
        var view = await SubmissionQueries.FindAsync(connection, id, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ModerationResult.Done(view!);
    }

    /// <summary>Writes the case report as a study (design case_report) with its source, interventions and outcomes.</summary>
    private static async Task<long?> WriteStudyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long submissionId, CaseReport report, CancellationToken cancellationToken)
    {
        CommandDefinition Command(string sql, object parameters) => new(sql, parameters, transaction, cancellationToken: cancellationToken);
        var patient = report.Patient!;
        var title = report.Title ?? report.Source!.Title!;
        var provenance = $"Contributed case report, submission {submissionId}";

        long? sourceId = null;
        if (report.Source is { } source)
        {
            sourceId = await connection.ExecuteScalarAsync<long>(Command(InsertSource, new
            {
                Title = source.Title ?? title,
                Authors = (source.Authors ?? []).ToArray(),
                source.Journal,
                Year = source.Year ?? source.PublishedOn?.Year,
                source.Doi,
                source.Pmid,
                source.Url,
            }));
        }

        var studyId = await connection.ExecuteScalarAsync<long>(Command(InsertStudy, new
        {
            Key = $"case-report-{submissionId}",
            SourceId = sourceId,
            Title = title,
            Condition = patient.Condition!.Trim().ToLowerInvariant(),
            ConditionSubtype = Vocabularies.Vocabulary.CanonicalSubtype(patient.Condition, patient.ConditionSubtype),
            patient.Country,
            patient.Age,
            Male = patient.Sex switch { "male" => 1, "female" => 0, _ => (int?)null },
            Female = patient.Sex switch { "female" => 1, "male" => 0, _ => (int?)null },
            PopulationDescription = DescribePatient(patient),
            report.FollowUpWeeks,
            report.Summary,
            SubmissionId = submissionId,
        }));

        var interventionIds = new List<long>();
        foreach (var (intervention, index) in report.Interventions!.Select((item, index) => (item, index)))
        {
            interventionIds.Add(await connection.ExecuteScalarAsync<long>(Command(InterventionCommands.Insert, new
            {
                StudyId = studyId,
                Key = $"intervention-{index + 1}",
                intervention.Product,
                CellSource = intervention.CellSource ?? "unknown",
                Donor = intervention.Donor ?? "unknown",
                intervention.Route,
                intervention.DoseValue,
                intervention.DoseUnit,
                intervention.DoseText,
                intervention.Administrations,
                intervention.Schedule,
                intervention.Cotreatment,
                Description = intervention.StartedOn is { } started ? $"Started {started:yyyy-MM-dd}" : null,
            })));
        }

        var baselines = (patient.BaselineScores ?? []).GroupBy(s => s.Measure).ToDictionary(g => g.Key!, g => g.First());
        var outcomes = report.Outcomes!.Select(o => new
        {
            StudyId = studyId,
            InterventionId = (long?)interventionIds[o.Intervention ?? 0],
            o.Measure,
            Timepoint = o.Timepoint ?? Weeks(o.TimepointWeeks),
            o.TimepointWeeks,
            BaselineValue = o.BaselineValue ?? (baselines.TryGetValue(o.Measure!, out var baseline) ? baseline.Value : null),
            o.Value,
            o.Unit,
            ScaleMax = o.ScaleMax ?? (baselines.TryGetValue(o.Measure!, out var scale) ? scale.ScaleMax : null),
            Assessed = o.Assessed ?? 1,
            o.Responders,
            o.Result,
            Quote = $"{provenance}: {o.Result ?? DescribeValue(o)}",
            Evidence = "primary",
            SourceNote = provenance,
        }).ToList();

        var relapse = report.Relapse!;
        var relapseText = relapse.Description ?? (relapse.Occurred == true ? "Relapse during follow-up" : "No relapse during follow-up");
        outcomes.Add(new
        {
            StudyId = studyId,
            InterventionId = (long?)null,
            Measure = (string?)"relapse_free",
            Timepoint = Weeks(relapse.Occurred == true ? relapse.AtWeeks ?? report.FollowUpWeeks : report.FollowUpWeeks),
            TimepointWeeks = relapse.Occurred == true ? relapse.AtWeeks ?? report.FollowUpWeeks : report.FollowUpWeeks,
            BaselineValue = (decimal?)null,
            Value = (decimal?)null,
            Unit = (string?)null,
            ScaleMax = (decimal?)null,
            Assessed = 1,
            Responders = (int?)(relapse.Occurred == true ? 0 : 1),
            Result = (string?)relapseText,
            Quote = $"{provenance}: {relapseText}",
            Evidence = "primary",
            SourceNote = provenance,
        });

        var events = report.AdverseEvents!.Events ?? [];
        var adverseText = events.Count == 0
            ? "No adverse events reported"
            : string.Join("; ", events.Select(e => e.Severity is null ? e.Description : $"{e.Description} ({e.Severity})"));
        outcomes.Add(new
        {
            StudyId = studyId,
            InterventionId = (long?)null,
            Measure = (string?)"adverse_events",
            Timepoint = Weeks(report.FollowUpWeeks),
            TimepointWeeks = report.FollowUpWeeks,
            BaselineValue = (decimal?)null,
            Value = (decimal?)null,
            Unit = (string?)null,
            ScaleMax = (decimal?)null,
            Assessed = 1,
            Responders = (int?)(events.Count > 0 ? 1 : 0),
            Result = (string?)adverseText,
            Quote = $"{provenance}: {adverseText}",
            Evidence = "primary",
            SourceNote = provenance,
        });

        await connection.ExecuteAsync(Command(OutcomeCommands.Insert, outcomes));
        return studyId;
    }

    private static string? Weeks(decimal? weeks) => weeks is null ? null : $"{weeks.Value.ToString("0.##", CultureInfo.InvariantCulture)} weeks";

    private static string DescribeValue(CaseReportOutcome outcome) =>
        $"{outcome.Measure} {outcome.BaselineValue?.ToString(CultureInfo.InvariantCulture) ?? "?"} -> {outcome.Value?.ToString(CultureInfo.InvariantCulture) ?? "?"}"
        + (outcome.Responders is null ? "" : $", {outcome.Responders} of {outcome.Assessed ?? 1} responding");

    private static string DescribePatient(CaseReportPatient patient)
    {
        var parts = new List<string>();
        if (patient.Age is { } age)
        {
            parts.Add($"{age.ToString("0.#", CultureInfo.InvariantCulture)}-year-old {patient.Sex ?? "patient"}");
        }

        if (patient.DiseaseDurationYears is { } duration)
        {
            parts.Add($"disease duration {duration.ToString("0.#", CultureInfo.InvariantCulture)} years");
        }

        if (patient.BaselineScores is { Count: > 0 } scores)
        {
            parts.Add("baseline " + string.Join(", ", scores.Select(s => $"{s.Measure?.ToUpperInvariant()} {s.Value?.ToString(CultureInfo.InvariantCulture)}")));
        }

        if (patient.PriorTreatments is { Count: > 0 } prior)
        {
            parts.Add("prior treatments: " + string.Join(", ", prior));
        }

        return string.Join("; ", parts);
    }
}
