using System.Globalization;

namespace EvidenceApi.Tests.Querying.Oracle;

/// <summary>What pooling should give: the studies pooled (with the outcome chosen for each) and those left out.</summary>
public sealed record PoolExpectation(IReadOnlyList<(long StudyId, long OutcomeId)> Rows, IReadOnlyList<long> Excluded, int Patients, int Responders);

/// <summary>
/// Selects from the generated records what the README says each endpoint returns, in plain LINQ: written from the
/// documented meaning of each filter, never from the API's SQL.
/// </summary>
public sealed class EvidenceOracle(EvidenceSet set)
{
    private readonly ILookup<long, GeneratedIntervention> armsOf = set.Interventions.ToLookup(i => i.StudyId);
    private readonly ILookup<long, GeneratedOutcome> outcomesOf = set.Outcomes.ToLookup(o => o.StudyId);
    private readonly Dictionary<long, GeneratedIntervention> arm = set.Interventions.ToDictionary(i => i.Id);

    public IReadOnlyList<long> Studies(StudyQuery query)
    {
        var measures = List(query.Measure);
        var matching = set.Studies.Where(s => StudyMatches(s, query.Filter)
            && (measures is null || outcomesOf[s.Id].Any(o => measures.Contains(o.Measure)))
            && (query.Q is null || TextMatches(s, query.Q)));

        // Default order: newest first, or most relevant first with a search text; ties by id in the same direction.
        var sort = query.Sort ?? (query.Q is null ? "-year" : "-relevance");
        var descending = sort.StartsWith('-');
        Func<GeneratedStudy, IComparable> key = sort.TrimStart('-') switch
        {
            "year" => s => s.Year ?? 0,
            "title" => s => s.Title,
            "participants" => s => s.Participants ?? -1,
            "id" or "relevance" => s => s.Id,
            var other => throw new ArgumentException($"No sort {other}"),
        };
        var ordered = descending
            ? matching.OrderByDescending(key, Comparer<IComparable>.Create(CompareOrdinal)).ThenByDescending(s => s.Id)
            : matching.OrderBy(key, Comparer<IComparable>.Create(CompareOrdinal)).ThenBy(s => s.Id);
        return ordered.Select(s => s.Id).ToList();
    }

    public IReadOnlyList<long> Interventions(InterventionQuery query) => set.Interventions
        .Where(i => StudyOwnMatches(Study(i.StudyId), query.Filter) && ArmMatches(i, query.Filter)
            && (query.StudyId is null || i.StudyId == query.StudyId))
        .OrderBy(i => i.Id).Select(i => i.Id).ToList();

    public IReadOnlyList<long> Outcomes(OutcomeQuery query)
    {
        var measures = List(query.Measure);
        var evidence = List(query.Evidence);
        return set.Outcomes
            .Where(o => StudyOwnMatches(Study(o.StudyId), query.Filter) && OutcomeArmMatches(o, query.Filter)
                && (query.StudyId is null || o.StudyId == query.StudyId)
                && (measures is null || measures.Contains(o.Measure))
                && (evidence is null || evidence.Contains(o.Evidence))
                && (query.MinWeeks is null || o.TimepointWeeks >= query.MinWeeks)
                && (query.MaxWeeks is null || o.TimepointWeeks <= query.MaxWeeks))
            .OrderBy(o => o.Id).Select(o => o.Id).ToList();
    }

    /// <summary>Null when the review named does not exist (404).</summary>
    public PoolExpectation? Pool(PoolQuery query)
    {
        var designs = List(query.Filter.Design);
        var includeReviews = designs?.Any(EvidenceSet.IsReview) == true;
        var scope = set.Studies.Where(s => StudyMatches(s, query.Filter)).ToList();
        if (query.Review is { } name)
        {
            var review = set.Studies.FirstOrDefault(s => EvidenceSet.IsReview(s.Design)
                && (string.Equals(s.Key, name, StringComparison.OrdinalIgnoreCase) || s.Id.ToString(CultureInfo.InvariantCulture) == name));
            if (review is null)
            {
                return null;
            }

            var covered = set.Inclusions.Where(r => r.ReviewId == review.Id).Select(r => r.IncludedId).ToHashSet();
            if (covered.Count > 0)
            {
                scope = scope.Where(s => covered.Contains(s.Id)).ToList();
            }
            else
            {
                scope = scope.Where(s => s.Id == review.Id).ToList();
                includeReviews = true;
            }
        }

        var (scoreMeasure, threshold) = query.Measure switch
        {
            "pasi" or "pssi" or "bsa" or "dlqi" => (query.Measure, query.Threshold),
            "pasi_40" or "pasi_50" or "pasi_75" or "pasi_90" or "pasi_100" => ("pasi", decimal.Parse(query.Measure[5..], CultureInfo.InvariantCulture)),
            _ => ((string?)null, (decimal?)null),
        };

        var rows = new List<(long, long)>();
        var excluded = new List<long>();
        int patients = 0, responders = 0;
        foreach (var study in scope.OrderBy(s => s.Id))
        {
            var usable = (EvidenceSet.IsReview(study.Design) && !includeReviews) || study.Status == "registered"
                ? []
                : outcomesOf[study.Id]
                    .Where(o => OutcomeArmMatches(o, query.Filter))
                    .Select(o => Count(study, o, query.Measure, scoreMeasure, threshold))
                    .OfType<(GeneratedOutcome Outcome, int Assessed, int Responders, bool Derived)>()
                    .ToList();
            if (usable.Count == 0)
            {
                excluded.Add(study.Id);
                continue;
            }

            // One result per study: the chosen timepoint (a dated one before an undated one), a reported count before a
            // derived one, then the most patients, then the first recorded.
            var byTime = query.Timepoint == "first"
                ? usable.OrderBy(u => u.Outcome.TimepointWeeks ?? decimal.MaxValue)
                : usable.OrderByDescending(u => u.Outcome.TimepointWeeks ?? decimal.MinValue);
            var chosen = byTime.ThenBy(u => u.Derived).ThenByDescending(u => u.Assessed).ThenBy(u => u.Outcome.Id).First();
            rows.Add((study.Id, chosen.Outcome.Id));
            patients += chosen.Assessed;
            responders += chosen.Responders;
        }

        return new PoolExpectation(rows, excluded, patients, responders);
    }

    /// <summary>
    /// A responder count as reported (patients assessed, at least one), or for a score a single patient's improvement
    /// from a baseline above zero, compared with the threshold.
    /// </summary>
    private static (GeneratedOutcome, int, int, bool)? Count(GeneratedStudy study, GeneratedOutcome o, string measure, string? scoreMeasure, decimal? threshold)
    {
        if (o.Measure == measure && scoreMeasure != measure)
        {
            return o.Assessed is > 0 && o.Responders is { } r ? (o, o.Assessed.Value, r, false) : null;
        }

        if (o.Measure == scoreMeasure && (o.Assessed == 1 || (o.Assessed is null && study.Participants == 1))
            && o.BaselineValue is > 0 && o.Value is { } value)
        {
            var improvement = (o.BaselineValue.Value - value) / o.BaselineValue.Value * 100;
            return (o, 1, improvement >= threshold ? 1 : 0, true);
        }

        return null;
    }

    private GeneratedStudy Study(long id) => set.Studies[(int)id - 1];

    /// <summary>Everything about the study itself, and at least one of its interventions matching all intervention filters.</summary>
    private bool StudyMatches(GeneratedStudy study, FilterValues filter) =>
        StudyOwnMatches(study, filter) && (!HasArmCriteria(filter) || armsOf[study.Id].Any(i => ArmMatches(i, filter)));

    /// <summary>An outcome's own intervention must match; an outcome tied to none counts for any matching intervention of its study.</summary>
    private bool OutcomeArmMatches(GeneratedOutcome outcome, FilterValues filter) =>
        !HasArmCriteria(filter)
        || (outcome.InterventionId is { } id ? ArmMatches(arm[id], filter) : armsOf[outcome.StudyId].Any(i => ArmMatches(i, filter)));

    /// <summary>Condition, subtype and country compare case-insensitively, surrounding spaces ignored; years are the source's.</summary>
    private static bool StudyOwnMatches(GeneratedStudy study, FilterValues filter) =>
        SameText(study.Condition, filter.Condition)
        && SameText(study.Subtype, filter.Subtype)
        && In(study.Design, filter.Design)
        && SameText(study.Country, filter.Country)
        && (filter.YearFrom is null || study.Year >= filter.YearFrom)
        && (filter.YearTo is null || study.Year <= filter.YearTo);

    private static bool HasArmCriteria(FilterValues filter) =>
        List(filter.Product) is not null || List(filter.CellSource) is not null || List(filter.Route) is not null || List(filter.Donor) is not null;

    private static bool ArmMatches(GeneratedIntervention arm, FilterValues filter) =>
        In(arm.Product, filter.Product) && In(arm.CellSource, filter.CellSource) && In(arm.Route, filter.Route) && In(arm.Donor, filter.Donor);

    private bool TextMatches(GeneratedStudy study, TextQuery query)
    {
        var fields = new[] { study.Title, study.Summary }
            .Concat(armsOf[study.Id].Select(i => i.Description))
            .Concat(outcomesOf[study.Id].Select(o => o.Quote))
            .OfType<string>()
            .Select(text => text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToList();
        bool Has(TextTerm term) => term.Next is null
            ? fields.Any(words => words.Contains(term.Word))
            : fields.Any(words => words.Zip(words.Skip(1)).Any(pair => pair.First == term.Word && pair.Second == term.Next));
        return query.Alternatives.Any(terms => terms.All(term => Has(term) != term.Excluded));
    }

    private static bool SameText(string? value, string? filter) =>
        string.IsNullOrWhiteSpace(filter) || string.Equals(value, filter.Trim(), StringComparison.OrdinalIgnoreCase);

    private static bool In(string value, string? filter) => List(filter) is not { } values || values.Contains(value);

    /// <summary>A comma-separated list: any of its values; spaces around a value and empty entries are ignored.</summary>
    private static string[]? List(string? filter) =>
        string.IsNullOrWhiteSpace(filter) ? null : filter.Split(',').Select(v => v.Trim()).Where(v => v.Length > 0).ToArray();

    private static int CompareOrdinal(IComparable? a, IComparable? b) =>
        a is string x && b is string y ? string.CompareOrdinal(x, y) : Comparer<IComparable>.Default.Compare(a!, b!);
}
