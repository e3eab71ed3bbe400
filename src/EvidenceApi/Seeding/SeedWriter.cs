using Dapper;
using EvidenceApi.Interventions;
using EvidenceApi.Outcomes;
using EvidenceApi.Studies;
using EvidenceApi.Vocabularies;
using Npgsql;

namespace EvidenceApi.Seeding;

/// <summary>A seed record clashes with a record that belongs to another source.</summary>
public sealed class SeedConflictException(string message) : Exception(message);

/// <summary>The SQL that writes one seed file inside the loader's transaction.</summary>
internal sealed class SeedWriter(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
{
    private const string UpsertSource = """
        INSERT INTO sources (seed_file, title, authors, journal, year, volume, issue, pages, doi, pmid, registry_id, url)
        VALUES (@SeedFile, @Title, @Authors, @Journal, @Year, @Volume, @Issue, @Pages, @Doi, @Pmid, @RegistryId, @Url)
        ON CONFLICT (seed_file) DO UPDATE SET
            title = excluded.title, authors = excluded.authors, journal = excluded.journal, year = excluded.year,
            volume = excluded.volume, issue = excluded.issue, pages = excluded.pages, doi = excluded.doi,
            pmid = excluded.pmid, registry_id = excluded.registry_id, url = excluded.url, updated_at = now()
        RETURNING id
        """;

    // A source made through the API (a published case report) that this file describes: the file takes it over.
    private const string AdoptSource = """
        UPDATE sources src SET seed_file = @SeedFile
        FROM studies s
        WHERE s.source_id = src.id AND s.key = ANY(@Keys) AND src.seed_file IS NULL
          AND NOT EXISTS (SELECT 1 FROM sources other WHERE other.seed_file = @SeedFile)
        """;

    private const string FindStudyOwner = "SELECT seed_file FROM studies WHERE key = @Key";

    private const string UpsertStudy = """
        INSERT INTO studies (key, source_id, title, design, status, condition, condition_subtype, country, participants,
                             age_min, age_max, age_mean, male_count, female_count, population_description, follow_up_weeks, summary, seed_file)
        VALUES (@Key, @SourceId, @Title, @Design, @Status, @Condition, @ConditionSubtype, @Country, @Participants,
                @AgeMin, @AgeMax, @AgeMean, @Male, @Female, @PopulationDescription, @FollowUpWeeks, @Summary, @SeedFile)
        ON CONFLICT (key) DO UPDATE SET
            source_id = excluded.source_id, seed_file = excluded.seed_file, title = excluded.title, design = excluded.design, status = excluded.status,
            condition = excluded.condition, condition_subtype = excluded.condition_subtype, country = excluded.country,
            participants = excluded.participants, age_min = excluded.age_min, age_max = excluded.age_max,
            age_mean = excluded.age_mean, male_count = excluded.male_count, female_count = excluded.female_count,
            population_description = excluded.population_description, follow_up_weeks = excluded.follow_up_weeks,
            summary = excluded.summary, updated_at = now()
        RETURNING id
        """;

    private const string DeleteStudyChildren = """
        DELETE FROM study_patients WHERE study_id = @StudyId;
        DELETE FROM outcomes WHERE study_id = @StudyId;
        DELETE FROM interventions WHERE study_id = @StudyId;
        """;

    private const string DeleteStudiesNoLongerInFile = "DELETE FROM studies WHERE seed_file = @SeedFile AND NOT (key = ANY(@Keys))";

    private const string ReplaceInclusions = """
        DELETE FROM review_inclusions WHERE review_study_id = @ReviewId;
        INSERT INTO review_inclusions (review_study_id, included_study_id)
        SELECT @ReviewId, id FROM studies WHERE key = ANY(@Keys);
        """;

    private const string FindKeys = "SELECT key FROM studies WHERE key = ANY(@Keys)";

    /// <summary>Writes the source and its studies; returns the id of each study by key.</summary>
    public async Task<IReadOnlyList<(string Key, long Id)>> WriteSourceAsync(string seedFile, SeedFile file)
    {
        var keys = file.Studies.Select(s => s.Key).ToArray();
        long? sourceId = null;
        if (file.Source is { } source)
        {
            await connection.ExecuteAsync(Command(AdoptSource, new { SeedFile = seedFile, Keys = keys }));
            sourceId = await connection.ExecuteScalarAsync<long>(Command(UpsertSource, new
            {
                SeedFile = seedFile,
                source.Title,
                Authors = (source.Authors ?? []).ToArray(),
                source.Journal,
                source.Year,
                source.Volume,
                source.Issue,
                source.Pages,
                source.Doi,
                source.Pmid,
                source.RegistryId,
                source.Url,
            }));
        }

        var written = new List<(string, long)>();
        for (var index = 0; index < file.Studies.Count; index++)
        {
            var study = file.Studies[index];
            // A study loaded from another seed file is not this file's; one made through the API is taken over.
            var owner = await connection.ExecuteScalarAsync<string?>(Command(FindStudyOwner, new { study.Key }));
            if (owner is not null && owner != seedFile)
            {
                throw new SeedConflictException($"$.studies[{index}].key: '{study.Key}' already belongs to another source ({owner}).");
            }

            var studyId = await connection.ExecuteScalarAsync<long>(Command(UpsertStudy, new
            {
                study.Key,
                SourceId = sourceId,
                study.Title,
                study.Design,
                Status = study.Status ?? "published",
                study.Condition,
                ConditionSubtype = Vocabulary.CanonicalSubtype(study.Condition, study.ConditionSubtype),
                study.Country,
                study.Participants,
                study.Population?.AgeMin,
                study.Population?.AgeMax,
                study.Population?.AgeMean,
                study.Population?.Male,
                study.Population?.Female,
                PopulationDescription = study.Population?.Description,
                study.FollowUpWeeks,
                study.Summary,
                SeedFile = seedFile,
            }));

            await connection.ExecuteAsync(Command(DeleteStudyChildren, new { StudyId = studyId }));
            var interventionIds = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var intervention in study.Interventions ?? [])
            {
                interventionIds[intervention.Key] = await connection.ExecuteScalarAsync<long>(Command(InterventionCommands.Insert, new
                {
                    StudyId = studyId,
                    intervention.Key,
                    intervention.Product,
                    intervention.CellSource,
                    intervention.Donor,
                    intervention.Route,
                    intervention.DoseValue,
                    intervention.DoseUnit,
                    intervention.DoseText,
                    intervention.Administrations,
                    intervention.Schedule,
                    intervention.Cotreatment,
                    intervention.Description,
                }));
            }

            var outcomeIds = new List<long>();
            foreach (var outcome in study.Outcomes ?? [])
            {
                outcomeIds.Add(await connection.ExecuteScalarAsync<long>(Command(OutcomeCommands.InsertReturningId, new
                {
                    StudyId = studyId,
                    InterventionId = outcome.Intervention is null ? (long?)null : interventionIds[outcome.Intervention],
                    outcome.Measure,
                    outcome.Timepoint,
                    outcome.TimepointWeeks,
                    BaselineValue = outcome.Baseline,
                    outcome.Value,
                    outcome.Unit,
                    outcome.ScaleMax,
                    outcome.Assessed,
                    outcome.Responders,
                    outcome.Result,
                    outcome.Quote,
                    outcome.Evidence,
                    outcome.SourceNote,
                })));
            }

            await WritePatientsAsync(studyId, study, outcomeIds);
            written.Add((study.Key, studyId));
        }

        await connection.ExecuteAsync(Command(DeleteStudiesNoLongerInFile, new { SeedFile = seedFile, Keys = keys }));
        return written;
    }

    private async Task WritePatientsAsync(long studyId, SeedStudy study, List<long> outcomeIds)
    {
        foreach (var patient in study.Patients ?? [])
        {
            var patientId = await connection.ExecuteScalarAsync<long>(Command(PatientCommands.Insert, new
            {
                StudyId = studyId,
                patient.Position,
                patient.Label,
                patient.Age,
                patient.Sex,
                study.Condition,
                patient.ConditionSubtype,
                patient.DiseaseDurationYears,
                patient.Country,
                PriorTreatments = (patient.PriorTreatments ?? []).ToArray(),
                RelapseOccurred = patient.Relapse.Occurred,
                RelapseAtWeeks = patient.Relapse.AtWeeks,
                RelapseDescription = patient.Relapse.Description,
            }));
            await connection.ExecuteAsync(Command(PatientCommands.InsertBaselineScore, (patient.BaselineScores ?? []).Select((score, position) => new
            {
                PatientId = patientId,
                Position = position,
                score.Measure,
                score.Value,
                score.ScaleMax,
            })));
            await connection.ExecuteAsync(Command(PatientCommands.InsertOutcome, (patient.Outcomes ?? []).Select(result => new
            {
                PatientId = patientId,
                OutcomeId = outcomeIds[result.Outcome],
                study.Outcomes![result.Outcome].Measure,
                result.Timepoint,
                BaselineValue = result.Baseline,
                result.Value,
                result.Unit,
                result.ScaleMax,
                result.Assessed,
                result.Responders,
                result.Result,
            })));
        }
    }

    /// <summary>Replaces the studies a review covered; returns the keys that match no study.</summary>
    public async Task<IReadOnlyList<string>> ReplaceInclusionsAsync(long reviewId, IReadOnlyList<string> includedKeys)
    {
        var keys = includedKeys.Distinct(StringComparer.Ordinal).ToArray();
        var found = (await connection.QueryAsync<string>(Command(FindKeys, new { Keys = keys }))).ToHashSet(StringComparer.Ordinal);
        await connection.ExecuteAsync(Command(ReplaceInclusions, new { ReviewId = reviewId, Keys = keys }));
        return keys.Where(key => !found.Contains(key)).ToList();
    }

    private CommandDefinition Command(string sql, object parameters) =>
        new(sql, parameters, transaction, cancellationToken: cancellationToken);
}
