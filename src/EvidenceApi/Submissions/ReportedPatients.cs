using System.Globalization;
using EvidenceApi.CaseReports;

namespace EvidenceApi.Submissions;

/// <summary>
/// One patient's own result, counted in one outcome of the study: the patient by position in the report (0 is the
/// first), the result in the report's words if it gives them, and a statement of it (those words, or made from the numbers).
/// </summary>
public sealed record PatientResult(
    int Patient, string? Timepoint, decimal? BaselineValue, decimal? Value, string? Unit, decimal? ScaleMax, int Assessed, int? Responders,
    string? Result, string Statement);

/// <summary>
/// An outcome of the study made from its patients' results for one measure, intervention and timepoint: assessed and
/// responders are sums over the patients (responders null when one patient's is unknown), baseline and value their means.
/// The intervention is its position in the report (null for relapse and adverse events); the result and statement are
/// the one patient's own, or each patient's in turn.
/// </summary>
public sealed record DerivedOutcome(
    int? Intervention, string Measure, decimal? TimepointWeeks, string? Timepoint, decimal? BaselineValue, decimal? Value, string? Unit,
    decimal? ScaleMax, int Assessed, int? Responders, string? Result, string Statement, IReadOnlyList<PatientResult> Patients);

/// <summary>
/// The patients a case report describes, and what the study made from it says about them: a single-patient report
/// (patient, outcomes, relapse) is one patient, so both forms publish the same way.
/// </summary>
public static class ReportedPatients
{
    /// <summary>The report's patients: its <c>patients</c>, or its single patient with the report's outcomes and relapse.</summary>
    public static IReadOnlyList<CaseReportPatientData> Of(CaseReport report) => report.Patients ??
    [
        new CaseReportPatientData
        {
            Age = report.Patient!.Age,
            Sex = report.Patient.Sex,
            Condition = report.Patient.Condition,
            ConditionSubtype = report.Patient.ConditionSubtype,
            DiseaseDurationYears = report.Patient.DiseaseDurationYears,
            Country = report.Patient.Country,
            BaselineScores = report.Patient.BaselineScores,
            PriorTreatments = report.Patient.PriorTreatments,
            Outcomes = report.Outcomes,
            Relapse = report.Relapse,
        },
    ];

    /// <summary>
    /// The study's outcomes: each patient's outcomes grouped by intervention, measure and timepoint (a patient's second
    /// outcome with the same key goes with the others' second), then relapse-free and adverse events over all patients.
    /// </summary>
    public static IReadOnlyList<DerivedOutcome> Outcomes(CaseReport report)
    {
        var patients = Of(report);
        var single = patients.Count == 1;
        var measured = patients
            .SelectMany((patient, position) =>
            {
                var seen = new Dictionary<(int, string, decimal?), int>();
                return (patient.Outcomes ?? []).Select(outcome =>
                {
                    var key = (outcome.Intervention ?? 0, outcome.Measure!, outcome.TimepointWeeks);
                    var occurrence = seen[key] = seen.GetValueOrDefault(key, -1) + 1;
                    return (Key: key, Occurrence: occurrence, Result: OwnResult(patient, position, outcome));
                });
            })
            .GroupBy(item => (item.Key, item.Occurrence))
            .Select(group => Combine(group.Key.Key.Item1, group.Key.Key.Item2, group.Key.Key.Item3, group.Select(g => g.Result).ToList(), patients, single))
            .ToList();

        var followUp = report.FollowUpWeeks;
        var relapses = patients.Select((patient, position) =>
        {
            var relapse = patient.Relapse!;
            var text = relapse.Description ?? (relapse.Occurred == true ? "Relapse during follow-up" : "No relapse during follow-up");
            var weeks = relapse.Occurred == true ? relapse.AtWeeks ?? followUp : followUp;
            return (Weeks: weeks, Result: new PatientResult(position, Weeks(weeks), null, null, null, null, 1, relapse.Occurred == true ? 0 : 1, text, text));
        }).ToList();
        var relapseWeeks = single ? relapses[0].Weeks : followUp;
        measured.Add(Sum(null, "relapse_free", relapseWeeks, relapses.Select(r => r.Result).ToList(), patients, single));

        var events = report.AdverseEvents!.Events ?? [];
        var adverse = patients.Select((_, position) =>
        {
            var own = events.Where(e => single || e.Patient == position).ToList();
            var text = own.Count == 0
                ? "No adverse events reported"
                : string.Join("; ", own.Select(e => e.Severity is null ? e.Description : $"{e.Description} ({e.Severity})"));
            return new PatientResult(position, Weeks(followUp), null, null, null, null, 1, own.Count > 0 ? 1 : 0, text, text);
        }).ToList();
        measured.Add(Sum(null, "adverse_events", followUp, adverse, patients, single));
        return measured;
    }

    /// <summary>How the study describes its population: the one patient, or each patient in turn.</summary>
    public static string Describe(IReadOnlyList<CaseReportPatientData> patients) => patients.Count == 1
        ? DescribePatient(patients[0])
        : string.Join(". ", patients.Select((p, i) => $"{Label(p, i)}: {DescribePatient(p)}")) + ".";

    public static string Label(CaseReportPatientData patient, int position) =>
        string.IsNullOrWhiteSpace(patient.Label) ? $"Patient {position + 1}" : patient.Label.Trim();

    public static string? Weeks(decimal? weeks) => weeks is null ? null : $"{weeks.Value.ToString("0.##", CultureInfo.InvariantCulture)} weeks";

    private static PatientResult OwnResult(CaseReportPatientData patient, int position, CaseReportOutcome outcome)
    {
        var baseline = (patient.BaselineScores ?? []).FirstOrDefault(s => s.Measure == outcome.Measure);
        var assessed = outcome.Assessed ?? 1;
        return new PatientResult(
            position, outcome.Timepoint, outcome.BaselineValue ?? baseline?.Value, outcome.Value, outcome.Unit, outcome.ScaleMax ?? baseline?.ScaleMax,
            assessed, outcome.Responders, outcome.Result, outcome.Result ?? DescribeValue(outcome, assessed));
    }

    private static DerivedOutcome Combine(
        int intervention, string measure, decimal? weeks, IReadOnlyList<PatientResult> results, IReadOnlyList<CaseReportPatientData> patients, bool single)
    {
        var sum = Sum(intervention, measure, weeks, results, patients, single);
        return sum with
        {
            Timepoint = results.Select(r => r.Timepoint).FirstOrDefault(t => t is not null) ?? Weeks(weeks),
            BaselineValue = Mean(results.Select(r => r.BaselineValue)),
            Value = Mean(results.Select(r => r.Value)),
            Unit = results.Select(r => r.Unit).FirstOrDefault(u => u is not null),
            ScaleMax = results.Max(r => r.ScaleMax),
        };
    }

    private static DerivedOutcome Sum(
        int? intervention, string measure, decimal? weeks, IReadOnlyList<PatientResult> results, IReadOnlyList<CaseReportPatientData> patients, bool single) => new(
        intervention, measure, weeks, Weeks(weeks), null, null, null, null,
        results.Sum(r => r.Assessed),
        results.All(r => r.Responders is not null) ? results.Sum(r => r.Responders) : null,
        single ? results[0].Result : Each(results, patients),
        single ? results[0].Statement : Each(results, patients),
        results);

    private static string Each(IReadOnlyList<PatientResult> results, IReadOnlyList<CaseReportPatientData> patients) =>
        string.Join("; ", results.Select(r => $"{Label(patients[r.Patient], r.Patient)}: {r.Statement}"));

    private static decimal? Mean(IEnumerable<decimal?> values)
    {
        var known = values.OfType<decimal>().ToList();
        // One patient's value as given; a mean of several to two decimals, as scores are reported.
        return known.Count switch { 0 => null, 1 => known[0], _ => Math.Round(known.Average(), 2) };
    }

    private static string DescribeValue(CaseReportOutcome outcome, int assessed) =>
        $"{outcome.Measure} {outcome.BaselineValue?.ToString(CultureInfo.InvariantCulture) ?? "?"} -> {outcome.Value?.ToString(CultureInfo.InvariantCulture) ?? "?"}"
        + (outcome.Responders is null ? "" : $", {outcome.Responders} of {assessed} responding");

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
