using Dapper;
using EvidenceApi.ApiKeys;
using EvidenceApi.CaseReports;
using EvidenceApi.Interventions;
using EvidenceApi.Outcomes;
using EvidenceApi.Studies;
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
                             age_min, age_max, age_mean, male_count, female_count, population_description, follow_up_weeks, summary, submission_id)
        VALUES (@Key, @SourceId, @Title, 'case_report', 'published', @Condition, @ConditionSubtype, @Country, @Participants,
                @AgeMin, @AgeMax, @AgeMean, @Male, @Female, @PopulationDescription, @FollowUpWeeks, @Summary, @SubmissionId)
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

    /// <summary>
    /// Writes the case report as a study (design case_report) with its source, interventions, patients and outcomes; the
    /// study's participants and outcomes are derived from the patients (see <see cref="ReportedPatients"/>).
    /// </summary>
    private static async Task<long?> WriteStudyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long submissionId, CaseReport report, CancellationToken cancellationToken)
    {
        CommandDefinition Command(string sql, object parameters) => new(sql, parameters, transaction, cancellationToken: cancellationToken);
        var patients = ReportedPatients.Of(report);
        var first = patients[0];
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
            Condition = first.Condition!.Trim().ToLowerInvariant(),
            ConditionSubtype = Shared(patients.Select(p => Vocabularies.Vocabulary.CanonicalSubtype(p.Condition, p.ConditionSubtype))),
            Country = Shared(patients.Select(p => p.Country)),
            Participants = patients.Count,
            AgeMin = patients.Min(p => p.Age),
            AgeMax = patients.Max(p => p.Age),
            // One patient has an age, not a mean (and a single-patient report's study stays as it always was).
            AgeMean = patients.Count > 1 && patients.All(p => p.Age is not null) ? Math.Round(patients.Average(p => p.Age!.Value), 1) : (decimal?)null,
            Male = KnownSexes(patients) ? patients.Count(p => p.Sex == "male") : (int?)null,
            Female = KnownSexes(patients) ? patients.Count(p => p.Sex == "female") : (int?)null,
            PopulationDescription = ReportedPatients.Describe(patients),
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

        var patientIds = new List<long>();
        foreach (var (person, position) in patients.Select((item, index) => (item, index)))
        {
            var patientId = await connection.ExecuteScalarAsync<long>(Command(PatientCommands.Insert, new
            {
                StudyId = studyId,
                Position = position,
                Label = person.Label?.Trim(),
                person.Age,
                person.Sex,
                Condition = person.Condition!.Trim().ToLowerInvariant(),
                ConditionSubtype = Vocabularies.Vocabulary.CanonicalSubtype(person.Condition, person.ConditionSubtype),
                person.DiseaseDurationYears,
                person.Country,
                PriorTreatments = (person.PriorTreatments ?? []).ToArray(),
                RelapseOccurred = person.Relapse!.Occurred!.Value,
                RelapseAtWeeks = person.Relapse.AtWeeks,
                RelapseDescription = person.Relapse.Description,
            }));
            patientIds.Add(patientId);
            await connection.ExecuteAsync(Command(PatientCommands.InsertBaselineScore, (person.BaselineScores ?? []).Select((score, index) => new
            {
                PatientId = patientId,
                Position = index,
                score.Measure,
                score.Value,
                score.ScaleMax,
            })));
        }

        foreach (var outcome in ReportedPatients.Outcomes(report))
        {
            var outcomeId = await connection.ExecuteScalarAsync<long>(Command(OutcomeCommands.InsertReturningId, new
            {
                StudyId = studyId,
                InterventionId = outcome.Intervention is { } index ? interventionIds[index] : (long?)null,
                outcome.Measure,
                outcome.Timepoint,
                outcome.TimepointWeeks,
                outcome.BaselineValue,
                outcome.Value,
                outcome.Unit,
                outcome.ScaleMax,
                outcome.Assessed,
                outcome.Responders,
                outcome.Result,
                Quote = $"{provenance}: {outcome.Statement}",
                Evidence = "primary",
                SourceNote = provenance,
            }));
            await connection.ExecuteAsync(Command(PatientCommands.InsertOutcome, outcome.Patients.Select(result => new
            {
                PatientId = patientIds[result.Patient],
                OutcomeId = outcomeId,
                outcome.Measure,
                result.Timepoint,
                result.BaselineValue,
                result.Value,
                result.Unit,
                result.ScaleMax,
                result.Assessed,
                result.Responders,
                result.Result,
            })));
        }

        return studyId;
    }

    /// <summary>The value all patients share, or null when they differ.</summary>
    private static string? Shared(IEnumerable<string?> values)
    {
        var distinct = values.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return distinct.Count == 1 ? distinct[0] : null;
    }

    /// <summary>Counts of men and women are given when at least one patient's sex is known (as one of them).</summary>
    private static bool KnownSexes(IReadOnlyList<CaseReportPatientData> patients) => patients.Any(p => p.Sex is "male" or "female");
}
