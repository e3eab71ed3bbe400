using System.Data;
using System.Text.Encodings.Web;
using System.Text.Json;
using Dapper;
using EvidenceApi.Studies;
using Npgsql;

namespace EvidenceApi.Seeding;

/// <summary>What an export wrote.</summary>
public sealed record SeedExportReport(int Files, int Studies, int Interventions, int Outcomes, IReadOnlyList<string> Removed, IReadOnlyList<string> Skipped)
{
    public override string ToString() =>
        $"Wrote {Files} seed files: {Studies} studies, {Interventions} interventions, {Outcomes} outcomes." +
        (Removed.Count > 0 ? $" Removed seed files no longer in the database: {string.Join(", ", Removed)}." : "") +
        (Skipped.Count > 0 ? $" Not exported (a seed file needs at least one study): {string.Join("; ", Skipped)}." : "");
}

/// <summary>
/// Writes the whole evidence base back to seed files (the format of seeds/README.md), published submissions included, so
/// curated work can be reviewed and versioned in git and moved between servers. One file per source, named as it was loaded
/// (a source made through the API is named after its first study's key, e.g. <c>case-report-12.json</c>); a study without
/// a source (an unpublished contributed case) gets a file of its own with <c>"source": null</c>. Loading the files into an
/// empty database gives the same answers, ids aside (the loading database assigns them).
/// </summary>
public static class SeedExporter
{
    private static readonly JsonSerializerOptions WriteOptions = new(SeedLoader.JsonOptions)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    // Columns are aliased to the records' names, so the mapping does not depend on Dapper's global underscore setting.
    private const string Sources = """
        SELECT id, seed_file AS seedfile, title, authors, journal, year, volume, issue, pages, doi, pmid, registry_id AS registryid, url FROM sources ORDER BY id
        """;

    private const string Studies = """
        SELECT id, key, source_id AS sourceid, seed_file AS seedfile, title, design, status, condition, condition_subtype AS conditionsubtype, country, participants,
               age_min AS agemin, age_max AS agemax, age_mean AS agemean, male_count AS malecount, female_count AS femalecount, population_description AS populationdescription, follow_up_weeks AS followupweeks, summary
        FROM studies ORDER BY id
        """;

    private const string Interventions = """
        SELECT id, study_id AS studyid, key, product, cell_source AS cellsource, donor, route, dose_value AS dosevalue, dose_unit AS doseunit, dose_text AS dosetext, administrations, schedule, cotreatment, description
        FROM interventions ORDER BY id
        """;

    private const string Outcomes = """
        SELECT o.id, o.study_id AS studyid, i.key AS interventionkey, o.measure, o.timepoint, o.timepoint_weeks AS timepointweeks, o.baseline_value AS baselinevalue, o.value, o.unit, o.scale_max AS scalemax,
               o.assessed, o.responders, o.result, o.quote, o.evidence, o.source_note AS sourcenote
        FROM outcomes o LEFT JOIN interventions i ON i.id = o.intervention_id
        ORDER BY o.id
        """;

    private const string Inclusions = """
        SELECT r.review_study_id AS reviewstudyid, s.key FROM review_inclusions r JOIN studies s ON s.id = r.included_study_id
        ORDER BY r.review_study_id, s.id
        """;

    public static async Task<SeedExportReport> ExportAsync(NpgsqlDataSource dataSource, string directory, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);

        // One snapshot: the files describe the database at one moment, even while the API writes.
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        CommandDefinition Query(string sql) => new(sql, transaction: transaction, cancellationToken: cancellationToken);
        var sources = (await connection.QueryAsync<SourceRow>(Query(Sources))).ToList();
        var studies = (await connection.QueryAsync<StudyRow>(Query(Studies))).ToList();
        var interventions = (await connection.QueryAsync<InterventionRow>(Query(Interventions))).ToLookup(i => i.StudyId);
        var outcomes = (await connection.QueryAsync<OutcomeRow>(Query(Outcomes))).ToLookup(o => o.StudyId);
        var patients = await PatientsAsync(connection, transaction, studies.Select(s => s.Id).ToArray(), outcomes, cancellationToken);
        var inclusions = (await connection.QueryAsync<(long ReviewStudyId, string Key)>(Query(Inclusions))).ToLookup(r => r.ReviewStudyId, r => r.Key);
        await transaction.CommitAsync(cancellationToken);

        var studiesBySource = studies.Where(s => s.SourceId is not null).ToLookup(s => s.SourceId!.Value);
        var files = new List<(string Name, SeedFile File)>();
        var skipped = new List<string>();
        foreach (var source in sources)
        {
            var own = studiesBySource[source.Id].ToList();
            if (own.Count == 0)
            {
                skipped.Add($"source {source.Id} \"{source.Title}\" has no study");
                continue;
            }

            files.Add((source.SeedFile ?? $"{own[0].Key}.json", new SeedFile(source.ToSeed(), own.Select(s => s.ToSeed(interventions, outcomes, inclusions, patients)).ToList())));
        }

        foreach (var study in studies.Where(s => s.SourceId is null))
        {
            files.Add((study.SeedFile ?? $"{study.Key}.json", new SeedFile(null, [study.ToSeed(interventions, outcomes, inclusions, patients)])));
        }

        Directory.CreateDirectory(directory);
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, file) in files)
        {
            // Names come from the database: keep them to plain file names in this folder, and distinct.
            var safe = Path.GetFileName(name);
            var unique = safe;
            for (var n = 2; !written.Add(unique); n++)
            {
                unique = $"{Path.GetFileNameWithoutExtension(safe)}-{n}.json";
            }

            await File.WriteAllBytesAsync(Path.Combine(directory, unique), JsonSerializer.SerializeToUtf8Bytes(file, WriteOptions), cancellationToken);
        }

        // The folder mirrors the database: a seed file of a source that is gone would bring it back when loaded.
        var removed = Directory.GetFiles(directory, "*.json").Select(Path.GetFileName).OfType<string>()
            .Where(name => !written.Contains(name)).Order(StringComparer.Ordinal).ToList();
        foreach (var name in removed)
        {
            File.Delete(Path.Combine(directory, name));
        }

        return new SeedExportReport(
            files.Count, studies.Count, studies.Sum(s => interventions[s.Id].Count()), studies.Sum(s => outcomes[s.Id].Count()), removed, skipped);
    }

    private sealed record SourceRow
    {
        public long Id { get; init; }

        public string? SeedFile { get; init; }

        public required string Title { get; init; }

        public string[] Authors { get; init; } = [];

        public string? Journal { get; init; }

        public int? Year { get; init; }

        public string? Volume { get; init; }

        public string? Issue { get; init; }

        public string? Pages { get; init; }

        public string? Doi { get; init; }

        public string? Pmid { get; init; }

        public string? RegistryId { get; init; }

        public string? Url { get; init; }

        public SeedSource ToSeed() => new(Title, Authors, Journal, Year, Volume, Issue, Pages, Doi, Pmid, RegistryId, Url);
    }

    private sealed record StudyRow
    {
        public long Id { get; init; }

        public required string Key { get; init; }

        public long? SourceId { get; init; }

        public string? SeedFile { get; init; }

        public required string Title { get; init; }

        public required string Design { get; init; }

        public required string Status { get; init; }

        public required string Condition { get; init; }

        public string? ConditionSubtype { get; init; }

        public string? Country { get; init; }

        public int? Participants { get; init; }

        public decimal? AgeMin { get; init; }

        public decimal? AgeMax { get; init; }

        public decimal? AgeMean { get; init; }

        public int? MaleCount { get; init; }

        public int? FemaleCount { get; init; }

        public string? PopulationDescription { get; init; }

        public decimal? FollowUpWeeks { get; init; }

        public string? Summary { get; init; }

        public SeedStudy ToSeed(
            ILookup<long, InterventionRow> interventions, ILookup<long, OutcomeRow> outcomes, ILookup<long, string> inclusions, ILookup<long, SeedPatient> patients)
        {
            var population = new SeedPopulation(AgeMin, AgeMax, AgeMean, MaleCount, FemaleCount, PopulationDescription);
            return new SeedStudy(
                Key, Title, Design, Status, Condition, ConditionSubtype, Country, Participants,
                population == new SeedPopulation(null, null, null, null, null, null) ? null : population,
                FollowUpWeeks, Summary, inclusions[Id].ToList(),
                interventions[Id].Select(i => i.ToSeed()).ToList(),
                outcomes[Id].Select(o => o.ToSeed()).ToList(),
                patients[Id].Any() ? patients[Id].ToList() : null);
        }
    }

    /// <summary>The patients of each study, their results naming the study's outcome by its position in the file.</summary>
    private static async Task<ILookup<long, SeedPatient>> PatientsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long[] studyIds, ILookup<long, OutcomeRow> outcomes, CancellationToken cancellationToken)
    {
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            StudyPatients.ByStudies, new { Ids = studyIds }, transaction, cancellationToken: cancellationToken));
        var patients = await StudyPatients.ReadAsync(results);
        var positions = outcomes.SelectMany(study => study.Select((outcome, position) => (outcome.Id, position))).ToDictionary(o => o.Id, o => o.position);
        return patients.SelectMany(study => study.Select(p => (StudyId: study.Key, Patient: new SeedPatient(
                p.Position, p.Label, p.Age, p.Sex, p.ConditionSubtype, p.DiseaseDurationYears, p.Country, p.PriorTreatments, p.BaselineScores, p.Relapse,
                p.Outcomes.Select(o => new SeedPatientOutcome(positions[o.OutcomeId], o.Timepoint, o.BaselineValue, o.Value, o.Unit, o.ScaleMax, o.Assessed, o.Responders, o.Result))
                    .OrderBy(o => o.Outcome).ToList()))))
            .ToLookup(p => p.StudyId, p => p.Patient);
    }

    private sealed record InterventionRow
    {
        public long Id { get; init; }

        public long StudyId { get; init; }

        public required string Key { get; init; }

        public required string Product { get; init; }

        public required string CellSource { get; init; }

        public required string Donor { get; init; }

        public required string Route { get; init; }

        public decimal? DoseValue { get; init; }

        public string? DoseUnit { get; init; }

        public string? DoseText { get; init; }

        public int? Administrations { get; init; }

        public string? Schedule { get; init; }

        public string? Cotreatment { get; init; }

        public string? Description { get; init; }

        public SeedIntervention ToSeed() => new(Key, Product, CellSource, Donor, Route, DoseValue, DoseUnit, DoseText, Administrations, Schedule, Cotreatment, Description);
    }

    private sealed record OutcomeRow
    {
        public long Id { get; init; }

        public long StudyId { get; init; }

        public string? InterventionKey { get; init; }

        public required string Measure { get; init; }

        public string? Timepoint { get; init; }

        public decimal? TimepointWeeks { get; init; }

        public decimal? BaselineValue { get; init; }

        public decimal? Value { get; init; }

        public string? Unit { get; init; }

        public decimal? ScaleMax { get; init; }

        public int? Assessed { get; init; }

        public int? Responders { get; init; }

        public string? Result { get; init; }

        public required string Quote { get; init; }

        public required string Evidence { get; init; }

        public string? SourceNote { get; init; }

        public SeedOutcome ToSeed() => new(
            InterventionKey, Measure, Timepoint, TimepointWeeks, BaselineValue, Value, Unit, ScaleMax, Assessed, Responders, Result, Quote, Evidence, SourceNote);
    }
}
