using Dapper;
using EvidenceApi.Vocabularies;
using Npgsql;

namespace EvidenceApi.Tests.Querying.Oracle;

public sealed record GeneratedStudy(
    long Id, string Key, string Title, string Design, string Status, string Condition, string? Subtype, string? Country,
    int? Participants, int? Year, long? SourceId, string? Summary);

public sealed record GeneratedIntervention(long Id, long StudyId, string Key, string Product, string CellSource, string Donor, string Route, string? Description);

public sealed record GeneratedOutcome(
    long Id, long StudyId, long? InterventionId, string Measure, decimal? TimepointWeeks, decimal? BaselineValue, decimal? Value,
    int? Assessed, int? Responders, string Quote, string Evidence, string? SourceNote);

/// <summary>
/// A few hundred studies with interventions, outcomes and review links, drawn at random from a seed: every value a filter
/// can select on occurs, with the awkward cases (no year, no country, country in another case, outcomes tied to no
/// intervention, several arms per study, undated and tied timepoints, unusable counts, registered studies, reviews).
/// </summary>
public sealed class EvidenceSet
{
    /// <summary>Words of the free text: each stems to itself in English and occurs in at least one title.</summary>
    public static readonly string[] Words = ["zephyr", "quartz", "nimbus", "kelvin", "lumen", "saffron", "walnut", "cobalt", "falcon", "orbit"];

    public static readonly string[] Conditions = ["psoriasis", "lupus", "atopic dermatitis", "vitiligo"];

    /// <summary>Psoriasis subtypes from the vocabulary.</summary>
    public static readonly string[] Subtypes = ["plaque", "scalp", "guttate", "pustular", "psoriatic_arthritis"];

    public static readonly string[] Countries = ["China", "India", "Iran", "United States", "Brazil"];

    public static readonly string[] OutcomeMeasures =
        ["pasi", "pasi", "pasi_50", "pasi_75", "pasi_75", "pasi_90", "clinical_response", "clinical_response", "relapse_free", "bsa", "dlqi", "pssi", "adverse_events"];

    private static readonly int?[] Weeks = [null, 4, 8, 12, 12, 26, 52];

    public EvidenceSet(int seed, int studyCount)
    {
        Seed = seed;
        var random = new Random(seed);
        long interventionId = 0, outcomeId = 0;
        for (var id = 1; id <= studyCount; id++)
        {
            var design = Pick(random, Vocabulary.Designs);
            var words = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Pick(random, Words)).ToList();
            if (id <= Words.Length)
            {
                words.Insert(0, Words[id - 1]);
            }

            long? sourceId = random.Next(12) == 0 ? null : id;
            int? year = sourceId is null || random.Next(10) == 0 ? null : random.Next(2004, 2026);
            var country = random.Next(4) == 0 ? null : Pick(random, Countries);
            if (country is not null && random.Next(5) == 0)
            {
                country = random.Next(2) == 0 ? country.ToUpperInvariant() : country.ToLowerInvariant();
            }

            // Subtypes are a vocabulary of their condition: only psoriasis has any.
            var condition = Pick(random, Conditions);
            var study = new GeneratedStudy(
                id,
                $"oracle-study-{id}",
                $"T{id:D4} {string.Join(' ', words)}",
                design,
                random.Next(8) == 0 ? "registered" : "published",
                condition,
                condition != "psoriasis" || random.Next(3) == 0 ? null : Pick(random, Subtypes),
                country,
                random.Next(6) == 0 ? null : random.Next(4) == 0 ? 1 : random.Next(1, 120),
                year,
                sourceId,
                random.Next(3) == 0 ? null : string.Join(' ', Enumerable.Range(0, random.Next(1, 5)).Select(_ => Pick(random, Words))));
            Studies.Add(study);

            var arms = new List<GeneratedIntervention>();
            for (var arm = random.Next(0, 4); arm > 0; arm--)
            {
                arms.Add(new GeneratedIntervention(
                    ++interventionId, id, $"arm-{arm}", Pick(random, Vocabulary.Products), Pick(random, Vocabulary.CellSources),
                    Pick(random, Vocabulary.Donors), Pick(random, Vocabulary.Routes), random.Next(2) == 0 ? null : Pick(random, Words)));
            }

            Interventions.AddRange(arms);
            for (var count = random.Next(0, 5); count > 0; count--)
            {
                Outcomes.Add(NewOutcome(random, ++outcomeId, id, arms));
            }
        }

        // Reviews cover some of the primary studies; a few cover none, so that their own result counts.
        var primary = Studies.Where(s => !IsReview(s.Design)).Select(s => s.Id).ToList();
        foreach (var review in Studies.Where(s => IsReview(s.Design)))
        {
            if (random.Next(3) > 0)
            {
                Inclusions.AddRange(primary.OrderBy(_ => random.Next()).Take(random.Next(1, 12)).Select(included => (review.Id, included)));
            }
        }
    }

    public int Seed { get; }

    public List<GeneratedStudy> Studies { get; } = [];

    public List<GeneratedIntervention> Interventions { get; } = [];

    public List<GeneratedOutcome> Outcomes { get; } = [];

    public List<(long ReviewId, long IncludedId)> Inclusions { get; } = [];

    public static bool IsReview(string design) => design is "systematic_review" or "meta_analysis" or "narrative_review";

    /// <summary>Writes the set into a migrated, empty database, through the real schema (its triggers keep the derived columns).</summary>
    public async Task LoadAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var withSource = Studies.Where(s => s.SourceId is not null).ToList();
        await connection.ExecuteAsync("""
            INSERT INTO sources (id, title, year) OVERRIDING SYSTEM VALUE
            SELECT * FROM unnest(@Ids, @Titles, @Years)
            """, new { Ids = withSource.Select(s => s.SourceId!.Value).ToArray(), Titles = withSource.Select(s => $"Source of {s.Key}").ToArray(), Years = withSource.Select(s => s.Year).ToArray() }, transaction);
        await connection.ExecuteAsync("""
            INSERT INTO studies (id, key, title, design, status, condition, condition_subtype, country, participants, source_id, summary) OVERRIDING SYSTEM VALUE
            SELECT * FROM unnest(@Ids, @Keys, @Titles, @Designs, @Statuses, @Conditions, @Subtypes, @Countries, @Participants, @SourceIds, @Summaries)
            """, new
        {
            Ids = Studies.Select(s => s.Id).ToArray(),
            Keys = Studies.Select(s => s.Key).ToArray(),
            Titles = Studies.Select(s => s.Title).ToArray(),
            Designs = Studies.Select(s => s.Design).ToArray(),
            Statuses = Studies.Select(s => s.Status).ToArray(),
            Conditions = Studies.Select(s => s.Condition).ToArray(),
            Subtypes = Studies.Select(s => s.Subtype).ToArray(),
            Countries = Studies.Select(s => s.Country).ToArray(),
            Participants = Studies.Select(s => s.Participants).ToArray(),
            SourceIds = Studies.Select(s => s.SourceId).ToArray(),
            Summaries = Studies.Select(s => s.Summary).ToArray(),
        }, transaction);
        await connection.ExecuteAsync("""
            INSERT INTO interventions (id, study_id, key, product, cell_source, donor, route, description) OVERRIDING SYSTEM VALUE
            SELECT * FROM unnest(@Ids, @StudyIds, @Keys, @Products, @CellSources, @Donors, @Routes, @Descriptions)
            """, new
        {
            Ids = Interventions.Select(i => i.Id).ToArray(),
            StudyIds = Interventions.Select(i => i.StudyId).ToArray(),
            Keys = Interventions.Select(i => i.Key).ToArray(),
            Products = Interventions.Select(i => i.Product).ToArray(),
            CellSources = Interventions.Select(i => i.CellSource).ToArray(),
            Donors = Interventions.Select(i => i.Donor).ToArray(),
            Routes = Interventions.Select(i => i.Route).ToArray(),
            Descriptions = Interventions.Select(i => i.Description).ToArray(),
        }, transaction);
        await connection.ExecuteAsync("""
            INSERT INTO outcomes (id, study_id, intervention_id, measure, timepoint_weeks, baseline_value, value, assessed, responders, quote, evidence, source_note) OVERRIDING SYSTEM VALUE
            SELECT * FROM unnest(@Ids, @StudyIds, @InterventionIds, @Measures, @Weeks, @Baselines, @Values, @Assessed, @Responders, @Quotes, @Evidence, @Notes)
            """, new
        {
            Ids = Outcomes.Select(o => o.Id).ToArray(),
            StudyIds = Outcomes.Select(o => o.StudyId).ToArray(),
            InterventionIds = Outcomes.Select(o => o.InterventionId).ToArray(),
            Measures = Outcomes.Select(o => o.Measure).ToArray(),
            Weeks = Outcomes.Select(o => o.TimepointWeeks).ToArray(),
            Baselines = Outcomes.Select(o => o.BaselineValue).ToArray(),
            Values = Outcomes.Select(o => o.Value).ToArray(),
            Assessed = Outcomes.Select(o => o.Assessed).ToArray(),
            Responders = Outcomes.Select(o => o.Responders).ToArray(),
            Quotes = Outcomes.Select(o => o.Quote).ToArray(),
            Evidence = Outcomes.Select(o => o.Evidence).ToArray(),
            Notes = Outcomes.Select(o => o.SourceNote).ToArray(),
        }, transaction);
        await connection.ExecuteAsync(
            "INSERT INTO review_inclusions (review_study_id, included_study_id) SELECT * FROM unnest(@Reviews, @Included)",
            new { Reviews = Inclusions.Select(r => r.ReviewId).ToArray(), Included = Inclusions.Select(r => r.IncludedId).ToArray() }, transaction);
        await transaction.CommitAsync();
    }

    private static GeneratedOutcome NewOutcome(Random random, long id, long studyId, List<GeneratedIntervention> arms)
    {
        var measure = Pick(random, OutcomeMeasures);
        decimal? weeks = Weeks[random.Next(Weeks.Length)];
        decimal? baseline = null, value = null;
        int? assessed = null, responders = null;
        if (measure is "pasi" or "pssi" or "bsa" or "dlqi")
        {
            var top = measure switch { "bsa" => 100, "dlqi" => 30, _ => 72 };
            baseline = random.Next(8) == 0 ? null : random.Next(6) == 0 ? 0 : random.Next(1, top + 1);
            value = random.Next(8) == 0 ? null : Math.Round((decimal)random.NextDouble() * top, 1);
            assessed = random.Next(3) switch { 0 => null, 1 => 1, _ => random.Next(1, 20) };
        }
        else if (measure != "adverse_events" || random.Next(2) == 0)
        {
            assessed = random.Next(8) == 0 ? null : random.Next(0, 30);
            responders = assessed is null || random.Next(8) == 0 ? null : random.Next(0, assessed.Value + 1);
        }

        var secondary = random.Next(6) == 0;
        return new GeneratedOutcome(
            id, studyId, arms.Count == 0 || random.Next(3) == 0 ? null : arms[random.Next(arms.Count)].Id, measure, weeks, baseline, value,
            assessed, responders, $"Quote {Pick(random, Words)}", secondary ? "secondary" : "primary", secondary ? "Reported by a review" : null);
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> values) => values[random.Next(values.Count)];
}
