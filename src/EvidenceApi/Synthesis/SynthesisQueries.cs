using System.Globalization;
using Dapper;
using EvidenceApi.Querying;
using Npgsql;

namespace EvidenceApi.Synthesis;

/// <summary>Pools responders across the studies that match a filter, one row per study.</summary>
public static class SynthesisQueries
{
    private const string Method =
        "Simple pooled proportion: the sum of responders over the sum of patients assessed, one row per study " +
        "(the chosen timepoint; a directly reported count is preferred to one derived from a patient's scores; " +
        "among rows at the same timepoint, the one with most patients). Intervals at 95 %: Wilson score (no continuity " +
        "correction) and Clopper-Pearson exact. No weighting, no heterogeneity model, no adjustment for bias: " +
        "case reports and uncontrolled studies overstate response, so read the interval, not the point estimate.";

    /// <summary>Rows listed per answer; the totals always cover every study.</summary>
    public const int MaxListed = 500;

    private const string FindReview = """
        SELECT s.id, (SELECT count(*) FROM review_inclusions r WHERE r.review_study_id = s.id) AS included
        FROM studies s JOIN study_designs d ON d.code = s.design
        WHERE d.is_review AND (s.key = lower(@Review) OR s.id::text = @Review)
        """;

    // Only the numbers are read for every study in scope; the words (design, titles, quotes) only for the rows listed. Rows
    // come grouped by study only: a study's few outcomes are compared in memory, cheaper than sorting them all in the
    // database. The columns are read by position (CandidateRow.Read).
    private const string Candidates = """
        SELECT s.id, s.status = 'registered' AS registered, d.is_review, s.year, s.participants,
               o.id, o.measure, o.timepoint_weeks, o.baseline_value, o.value, o.assessed, o.responders{1}
        FROM studies s
        JOIN study_designs d ON d.code = s.design
        LEFT JOIN outcomes o ON o.study_id = s.id AND o.measure = ANY(@Measures) AND {2}
        {0}
        ORDER BY s.id
        """;

    // The subgroup of an outcome row (by=...): the value of the intervention the outcome belongs to, or for an outcome
    // not tied to one, the distinct values of the study's interventions joined with + (null without interventions).
    private const string InterventionSubgroup = """
        , CASE WHEN o.id IS NULL THEN NULL
                 WHEN o.intervention_id IS NOT NULL THEN (SELECT i.{column} FROM interventions i WHERE i.id = o.intervention_id)
                 ELSE (SELECT string_agg(DISTINCT i.{column}, '+' ORDER BY i.{column}) FROM interventions i WHERE i.study_id = s.id)
            END AS subgroup
        """;

    private static readonly Dictionary<string, string> SubgroupColumns = new(StringComparer.Ordinal)
    {
        ["cellSource"] = InterventionSubgroup.Replace("{column}", "cell_source", StringComparison.Ordinal),
        ["route"] = InterventionSubgroup.Replace("{column}", "route", StringComparison.Ordinal),
        ["product"] = InterventionSubgroup.Replace("{column}", "product", StringComparison.Ordinal),
        ["donor"] = InterventionSubgroup.Replace("{column}", "donor", StringComparison.Ordinal),
        ["design"] = ", s.design AS subgroup",
    };

    // The patients' own scores behind the outcomes in scope made from patients (case reports with patients[]), read before
    // the numbers stream so that each study can be pooled as it arrives. It starts from the patients' results, so it costs
    // nothing for the many outcomes that have no patients; the same filters keep it to the studies in scope.
    private const string PatientScores = """
        SELECT po.outcome_id, po.assessed, po.baseline_value, po.value
        FROM patient_outcomes po
        JOIN outcomes o ON o.id = po.outcome_id
        JOIN studies s ON s.id = o.study_id
        WHERE po.measure = @ScoreMeasure AND {1}
          AND {0}
        """;

    private const string Words = """
        SELECT s.id, s.key, s.title, s.design, src.authors[1] AS first_author FROM studies s LEFT JOIN sources src ON src.id = s.source_id WHERE s.id = ANY(@StudyIds);
        SELECT id, timepoint, quote, source_note, evidence FROM outcomes WHERE id = ANY(@OutcomeIds);
        """;

    /// <summary>
    /// The synthesis of <paramref name="query"/> over the studies <paramref name="evidence"/> selects; null when the
    /// review asked for does not exist. With a meta-analysis (asked for, or always <paramref name="forPlot"/>), the rows
    /// listed are the first 500 by id, or for a plot the <see cref="ForestPlot.MaxStudies"/> with most weight.
    /// </summary>
    public static async Task<SynthesisResult?> SynthesiseAsync(
        NpgsqlDataSource dataSource, IConfiguration configuration, EvidenceFilter evidence, SynthesisQuery query, CancellationToken cancellationToken,
        bool forPlot = false)
    {
        var options = forPlot || query.AsksForMetaAnalysis() ? MetaOptions.From(query) : null;
        var measure = query.Measure!;
        var (scoreMeasure, threshold) = ResponseDefinition(measure, query.Threshold);
        var designs = Paging.SplitList(evidence.Design);
        var filter = evidence.ForStudiesByInterventions(new SqlFilter());
        filter.Parameters.Add("Measures", scoreMeasure is null ? new[] { measure } : new[] { measure, scoreMeasure });

        // With intervention filters, a study in scope is pooled only from the outcomes of its matching interventions:
        // the result of another arm of the same trial is not evidence for the interventions asked about.
        var outcomeScope = filter.Apart(evidence.ForOutcomeIntervention);
        var forIntervention = evidence.HasInterventionCriteria ? " for an intervention matching the filters" : "";

        var (connection, transaction) = await Database.EvidenceDatabase.BeginAnalyticalAsync(dataSource, configuration, cancellationToken);
        await using var _ = connection;
        await using var __ = transaction;
        var reviewNote = "";
        var includeReviews = designs?.Any(d => d.Contains("review", StringComparison.Ordinal) || d == "meta_analysis") == true;
        if (query.Review is { } review)
        {
            var found = await connection.QuerySingleOrDefaultAsync<(long Id, long Included)?>(
                new CommandDefinition(FindReview, new { Review = review }, transaction, cancellationToken: cancellationToken));
            if (found is not { } reviewRow)
            {
                return null;
            }

            filter.Parameters.Add("ReviewId", reviewRow.Id);
            if (reviewRow.Included > 0)
            {
                filter.Always("s.id IN (SELECT included_study_id FROM review_inclusions WHERE review_study_id = @ReviewId)");
                reviewNote = " Scope: the primary studies the review covered.";
            }
            else
            {
                filter.Always("s.id = @ReviewId");
                includeReviews = true;
                reviewNote = " Scope: the review's own reported result, since the studies it covered are not linked in the database.";
            }
        }

        var patientScores = scoreMeasure is null || threshold is null
            ? []
            : await PatientScoresAsync(connection, transaction, filter, outcomeScope, scoreMeasure, cancellationToken);

        var rule = new ResponseRule(
            measure, SynthesisQuery.ResponderMeasures.Contains(measure), scoreMeasure, threshold, query.Timepoint == "first", patientScores);

        // Rows arrive ordered by study and are pooled as they stream: memory stays flat however many studies are in scope.
        var pooledStudies = 0;
        var patients = 0;
        var responders = 0;
        var excludedStudies = 0;
        var listed = new List<SynthesisRow>();
        var listedExcluded = new List<ExcludedStudy>();

        // A meta-analysis needs every pooled study's count (and weighs them all before choosing which rows to list).
        var pooled = options is null ? null : new List<SynthesisRow>();
        void Pool(List<CandidateRow> study)
        {
            var first = study[0];
            var reason = first switch
            {
                { IsReview: true } when !includeReviews =>
                    "A review pools other studies; it is left out to avoid counting patients twice (name its design, or use review=, to include it).",
                { Registered: true } => "A registered study without published results.",
                _ => null,
            };

            var choice = reason is null ? Choose(study, rule) : null;
            if (choice is null)
            {
                reason ??= study.Any(r => r.OutcomeId is not null)
                    ? $"Reports {measure}{(scoreMeasure is null ? "" : $" or {scoreMeasure}")} without a usable count of patients assessed and responding."
                    : $"No {measure}{(scoreMeasure is null || scoreMeasure == measure ? "" : $" or {scoreMeasure}")} outcome reported{forIntervention}.";
                if (excludedStudies++ < MaxListed)
                {
                    listedExcluded.Add(new ExcludedStudy(first.StudyId, "", "", reason));
                }
            }
            else
            {
                patients += choice.Assessed;
                responders += choice.Responders;
                pooled?.Add(options!.By is null ? choice : choice with { Subgroup = choice.Subgroup ?? "none" });
                if (pooledStudies++ < MaxListed && pooled is null)
                {
                    listed.Add(choice);
                }
            }
        }

        var group = new List<CandidateRow>();
        var sql = Candidates.Replace("{0}", filter.Where, StringComparison.Ordinal)
            .Replace("{1}", options?.By is { } by ? SubgroupColumns[by] : "", StringComparison.Ordinal)
            .Replace("{2}", outcomeScope, StringComparison.Ordinal);
        await using (var reader = await connection.ExecuteReaderAsync(new CommandDefinition(sql, filter.Parameters, transaction, commandTimeout: 0, cancellationToken: cancellationToken)))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = CandidateRow.Read(reader);
                if (group.Count > 0 && group[0].StudyId != row.StudyId)
                {
                    Pool(group);
                    group.Clear();
                }

                group.Add(row);
            }
        }

        if (group.Count > 0)
        {
            Pool(group);
        }

        MetaAnalysis? metaAnalysis = null;
        if (options is not null && pooled is not null)
        {
            var (analysis, weights) = ProportionMetaAnalysis.Analyse(pooled.Select(r => new StudyCount(r.Responders, r.Assessed, r.Subgroup)).ToList(), options);
            metaAnalysis = analysis;
            listed = ChooseListed(weights.Overall, forPlot)
                .Select(i => pooled[i] with
                {
                    Proportion = (double)pooled[i].Responders / pooled[i].Assessed,
                    Interval = ProportionInterval.ClopperPearson(pooled[i].Responders, pooled[i].Assessed),
                    Weight = weights.Overall[i],
                    SubgroupWeight = weights.InSubgroup?[i],
                })
                .ToList();
        }

        await using (var words = await connection.QueryMultipleAsync(new CommandDefinition(Words, new
        {
            StudyIds = listed.Select(r => r.StudyId).Concat(listedExcluded.Select(e => e.StudyId)).ToArray(),
            OutcomeIds = listed.Select(r => r.OutcomeId).ToArray(),
        }, transaction, cancellationToken: cancellationToken)))
        {
            var studies = (await words.ReadAsync<(long Id, string Key, string Title, string Design, string? FirstAuthor)>()).ToDictionary(r => r.Id);
            var texts = (await words.ReadAsync<(long Id, string? Timepoint, string Quote, string? SourceNote, string Evidence)>()).ToDictionary(r => r.Id);
            listed = listed.Select(r => r with
            {
                Key = studies[r.StudyId].Key,
                Title = studies[r.StudyId].Title,
                Design = studies[r.StudyId].Design,
                Timepoint = texts[r.OutcomeId].Timepoint,
                Quote = texts[r.OutcomeId].Quote,
                SourceNote = texts[r.OutcomeId].SourceNote,
                Evidence = texts[r.OutcomeId].Evidence,
                Label = options is null ? null : Label(studies[r.StudyId].FirstAuthor, r.Year, studies[r.StudyId].Key),
            }).ToList();
            if (options is not null)
            {
                listed = Disambiguate(listed);
            }
            listedExcluded = listedExcluded.Select(e => e with { Key = studies[e.StudyId].Key, Title = studies[e.StudyId].Title }).ToList();
        }

        return new SynthesisResult
        {
            Definition = Describe(measure, scoreMeasure, threshold, query.Timepoint ?? "last"),
            Studies = pooledStudies,
            Patients = patients,
            Responders = responders,
            Proportion = patients == 0 ? null : (double)responders / patients,
            Wilson = patients == 0 ? null : ProportionInterval.Wilson(responders, patients),
            ClopperPearson = patients == 0 ? null : ProportionInterval.ClopperPearson(responders, patients),
            Rows = listed,
            RowsOmitted = pooledStudies - listed.Count,
            Excluded = listedExcluded,
            ExcludedOmitted = Math.Max(0, excludedStudies - MaxListed),
            Method = Method + reviewNote,
            MetaAnalysis = metaAnalysis,
        };

        IEnumerable<int> ChooseListed(double[] weights, bool plot) => plot
            ? Enumerable.Range(0, weights.Length).OrderByDescending(i => weights[i]).ThenBy(i => i).Take(ForestPlot.MaxStudies).Order()
            : Enumerable.Range(0, Math.Min(weights.Length, MaxListed));
    }

    /// <summary>"Chen 2016" from the first author ("Chen H") and the year; the study key when the source names no author.</summary>
    internal static string Label(string? firstAuthor, int? year, string key)
    {
        if (string.IsNullOrWhiteSpace(firstAuthor))
        {
            return key;
        }

        // Vancouver style puts the initials last ("De Jesus MM"): drop them, keep the surname.
        var parts = firstAuthor.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var surname = parts.Length > 1 && parts[^1].Length <= 3 && parts[^1].All(char.IsUpper)
            ? string.Join(' ', parts[..^1])
            : string.Join(' ', parts);
        return year is null ? surname : string.Create(CultureInfo.InvariantCulture, $"{surname} {year}");
    }

    /// <summary>Two listed studies with the same label become "Chen 2016a" and "Chen 2016b", in id order.</summary>
    private static List<SynthesisRow> Disambiguate(List<SynthesisRow> rows)
    {
        var seen = rows.GroupBy(r => r.Label, StringComparer.Ordinal).Where(g => g.Count() > 1)
            .SelectMany(g => g.OrderBy(r => r.StudyId).Select((r, i) => (r.StudyId, Suffix: i < 26 ? ((char)('a' + i)).ToString() : $"-{i + 1}")))
            .ToDictionary(x => x.StudyId, x => x.Suffix);
        return seen.Count == 0 ? rows : rows.Select(r => seen.TryGetValue(r.StudyId, out var suffix) ? r with { Label = r.Label + suffix } : r).ToList();
    }

    /// <summary>For PASI-X the raw PASI of a single patient can also answer; a score measure always needs its threshold.</summary>
    private static (string? ScoreMeasure, decimal? Threshold) ResponseDefinition(string measure, decimal? threshold) => measure switch
    {
        _ when SynthesisQuery.ScoreMeasures.Contains(measure) => (measure, threshold),
        "pasi_40" or "pasi_50" or "pasi_75" or "pasi_90" or "pasi_100" => ("pasi", decimal.Parse(measure[5..], CultureInfo.InvariantCulture)),
        _ => (null, null),
    };

    /// <summary>Each patient's score (assessed, baseline, value) of the outcomes in scope that are made from patients, by outcome.</summary>
    private static async Task<Dictionary<long, List<PatientScore>>> PatientScoresAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, SqlFilter filter, string outcomeScope, string scoreMeasure, CancellationToken cancellationToken)
    {
        var parameters = new DynamicParameters(filter.Parameters);
        parameters.Add("ScoreMeasure", scoreMeasure);
        var sql = PatientScores.Replace("{0}", filter.Conditions, StringComparison.Ordinal).Replace("{1}", outcomeScope, StringComparison.Ordinal);
        var scores = await connection.QueryAsync<(long OutcomeId, int Assessed, decimal? BaselineValue, decimal? Value)>(
            new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken));
        return scores.GroupBy(s => s.OutcomeId).ToDictionary(g => g.Key, g => g.Select(s => new PatientScore(s.Assessed, s.BaselineValue, s.Value)).ToList());
    }

    /// <summary>
    /// The row a study is pooled from: the chosen timepoint; at the same timepoint a directly reported count before one
    /// derived from scores, then the most patients, then the first outcome. One pass, no sorting: it runs for every study in
    /// scope, up to a million of them.
    /// </summary>
    private static SynthesisRow? Choose(List<CandidateRow> rows, ResponseRule rule)
    {
        CandidateRow? best = null;
        ResponseCount bestCount = default;
        foreach (var row in rows)
        {
            if (row.OutcomeId is not null && Count(row, rule) is { } count && (best is null || IsPreferred(row, count, best, bestCount, rule.FirstTimepoint)))
            {
                (best, bestCount) = (row, count);
            }
        }

        return best is null ? null : ToRow(best, bestCount);
    }

    // Unknown timepoints rank last either way, so that "last" prefers a dated result and "first" an undated one only if nothing else.
    private static bool IsPreferred(CandidateRow row, ResponseCount count, CandidateRow best, ResponseCount bestCount, bool firstTimepoint)
    {
        var timepoint = firstTimepoint
            ? (best.TimepointWeeks ?? decimal.MaxValue).CompareTo(row.TimepointWeeks ?? decimal.MaxValue)
            : (row.TimepointWeeks ?? decimal.MinValue).CompareTo(best.TimepointWeeks ?? decimal.MinValue);
        if (timepoint != 0)
        {
            return timepoint > 0;
        }

        if (count.Derived != bestCount.Derived)
        {
            return !count.Derived;
        }

        return count.Assessed != bestCount.Assessed ? count.Assessed > bestCount.Assessed : row.OutcomeId < best.OutcomeId;
    }

    /// <summary>Patients assessed and responding in one outcome row, or null when the row cannot say.</summary>
    private static ResponseCount? Count(CandidateRow row, ResponseRule rule)
    {
        if (row.Measure == rule.Measure && rule.MeasureCountsResponders)
        {
            return row.Assessed is { } assessed and not 0 && row.Responders is { } responders ? new ResponseCount(assessed, responders, Derived: false) : null;
        }

        if (row.Measure != rule.ScoreMeasure || rule.Threshold is not { } threshold)
        {
            return null;
        }

        // A score can be turned into a response only patient by patient: a mean of several says nothing about each. So
        // an outcome made from patients counts each one's own scores, any other outcome only when it is one patient's.
        if (rule.PatientScores.TryGetValue(row.OutcomeId!.Value, out var scores))
        {
            var (measured, responding) = (0, 0);
            foreach (var score in scores)
            {
                if (score.IsMeasured)
                {
                    measured++;
                    responding += score.Improvement >= threshold ? 1 : 0;
                }
            }

            return measured == 0 ? null : new ResponseCount(measured, responding, Derived: true);
        }

        var single = new PatientScore(1, row.BaselineValue, row.Value);
        return (row.Assessed == 1 || (row.Assessed is null && row.Participants == 1)) && single.IsMeasured
            ? new ResponseCount(1, single.Improvement >= threshold ? 1 : 0, Derived: true)
            : null;
    }

    private static SynthesisRow ToRow(CandidateRow row, ResponseCount count) => new()
    {
        StudyId = row.StudyId,
        Key = "",
        Title = "",
        Design = "",
        Year = row.Year,
        Assessed = count.Assessed,
        Responders = count.Responders,
        Measure = row.Measure!,
        Derived = count.Derived,
        TimepointWeeks = row.TimepointWeeks,
        OutcomeId = row.OutcomeId!.Value,
        Quote = "",
        Evidence = "",
        Subgroup = row.Subgroup,
    };

    private static string Describe(string measure, string? scoreMeasure, decimal? threshold, string timepoint)
    {
        var at = $"at each study's {timepoint} reported timepoint";
        return scoreMeasure switch
        {
            null => $"{measure} as reported (responders of patients assessed), {at}",
            _ when scoreMeasure == measure => $"improvement of {scoreMeasure.ToUpperInvariant()} from baseline of at least {threshold?.ToString("0.##", CultureInfo.InvariantCulture)} % per patient, {at}",
            _ => $"{measure} as reported, or derived for a single patient as an improvement of {scoreMeasure.ToUpperInvariant()} from baseline of at least {threshold?.ToString("0.##", CultureInfo.InvariantCulture)} %, {at}",
        };
    }

    /// <summary>One patient's score in an outcome: counted when the patient was assessed with a baseline above zero and a value.</summary>
    private readonly record struct PatientScore(int Assessed, decimal? BaselineValue, decimal? Value)
    {
        public bool IsMeasured => Assessed == 1 && BaselineValue > 0 && Value is not null;

        /// <summary>Percent improvement from baseline (negative when worse).</summary>
        public decimal? Improvement => (BaselineValue - Value) / BaselineValue * 100;
    }

    /// <summary>How a study's rows answer: the measure, the score and threshold it can be derived from, and the timepoint.</summary>
    private sealed record ResponseRule(
        string Measure, bool MeasureCountsResponders, string? ScoreMeasure, decimal? Threshold, bool FirstTimepoint,
        Dictionary<long, List<PatientScore>> PatientScores);

    private readonly record struct ResponseCount(int Assessed, int Responders, bool Derived);

    /// <summary>One row of <see cref="Candidates"/>: a study in scope and one of its outcomes (all null without one).</summary>
    private sealed record CandidateRow
    {
        public long StudyId { get; init; }

        public bool Registered { get; init; }

        public bool IsReview { get; init; }

        public int? Year { get; init; }

        public int? Participants { get; init; }

        public long? OutcomeId { get; init; }

        public string? Measure { get; init; }

        public decimal? TimepointWeeks { get; init; }

        public decimal? BaselineValue { get; init; }

        public decimal? Value { get; init; }

        public int? Assessed { get; init; }

        public int? Responders { get; init; }

        public string? Subgroup { get; init; }

        // Typed reads by position, in the order of the query's columns: a synthesis reads one row per study in scope (a
        // million at full scale), and a mapper that boxes every value would allocate several times what the rows hold.
        public static CandidateRow Read(System.Data.Common.DbDataReader reader) => new()
        {
            StudyId = reader.GetInt64(0),
            Registered = reader.GetBoolean(1),
            IsReview = reader.GetBoolean(2),
            Year = reader.GetFieldValue<int?>(3),
            Participants = reader.GetFieldValue<int?>(4),
            OutcomeId = reader.GetFieldValue<long?>(5),
            Measure = reader.IsDBNull(6) ? null : reader.GetString(6),
            TimepointWeeks = reader.GetFieldValue<decimal?>(7),
            BaselineValue = reader.GetFieldValue<decimal?>(8),
            Value = reader.GetFieldValue<decimal?>(9),
            Assessed = reader.GetFieldValue<int?>(10),
            Responders = reader.GetFieldValue<int?>(11),
            Subgroup = reader.FieldCount > 12 && !reader.IsDBNull(12) ? reader.GetString(12) : null,
        };
    }
}
