using System.Text.RegularExpressions;
using EvidenceApi.Http;
using EvidenceApi.Vocabularies;
using FluentValidation;

namespace EvidenceApi.CaseReports;

/// <summary>The rules a submitted case report must meet; every failure is reported with the JSON path of its field.</summary>
public sealed partial class CaseReportValidator : AbstractValidator<CaseReport>
{
    public const int MaxInterventions = 20;
    public const int MaxOutcomes = 50;
    public const int MaxListItems = 50;
    public const int ShortText = 200;
    public const int LongText = 5000;

    /// <summary>The most patients one report describes (in <c>patients</c>).</summary>
    public const int MaxPatients = 50;

    /// <summary>
    /// Every outcome belongs to one patient (the report's only patient, or one of <c>patients</c>), so it assesses at most
    /// that patient; the study's outcome counts are sums over patients and can never exceed the patients described.
    /// </summary>
    public const int MaxAssessedPerOutcome = 1;

    public static readonly IReadOnlyList<string> Sexes = ["female", "male", "other", "unknown"];
    public static readonly IReadOnlyList<string> Severities = ["mild", "moderate", "severe", "serious"];
    public static readonly IReadOnlyList<string> ScoreMeasures = ["pasi", "bsa", "pga", "iga", "dlqi", "pssi"];

    public CaseReportValidator(TimeProvider clock)
    {
        var today = () => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

        RuleFor(r => r.Title)
            .NotEmpty().When(r => string.IsNullOrWhiteSpace(r.Source?.Title))
            .WithMessage("Give the case a title (or a source with its title).")
            .MaximumLength(500);
        RuleFor(r => r.Summary).MaximumLength(LongText);
        RuleFor(r => r.Source)
            .Must(s => s is null || s.Doi is not null || s.Pmid is not null || s.Url is not null || s.Title is not null)
            .WithMessage("A source needs at least a DOI, a PMID, a URL or a title; omit the source for an unpublished case.");
        RuleFor(r => r.Source!).SetValidator(new SourceValidator(today)).When(r => r.Source is not null);

        // Two forms: one patient (patient, outcomes, relapse), as reports always had, or patients[] each with their own
        // outcomes and relapse. Mixing them would leave it open whose results the top-level outcomes are.
        RuleFor(r => r.Patient).NotNull().When(r => r.Patients is null)
            .WithMessage("Describe the patient (condition, sex, age), or the patients in patients.");
        RuleFor(r => r.Patient!).SetValidator(new PatientValidator()).When(r => r.Patient is not null);
        RuleFor(r => r.Patient).Null().When(r => r.Patients is not null)
            .WithMessage("This report describes its patients in patients: leave patient out.");

        RuleFor(r => r.Patients).NotEmpty().When(r => r.Patients is not null)
            .WithMessage($"List 1 to {MaxPatients} patients.")
            .MaxItems(MaxPatients).WithMessage($"At most {MaxPatients} patients in one report.");
        RuleForEach(r => r.Patients).SetValidator(new PatientDataValidator());
        RuleFor(r => r.Patients).Must(patients => patients!.Any(p => p?.Outcomes is { Count: > 0 }))
            .When(r => r.Patients is { Count: > 0 } patients && patients.All(p => p is not null))
            .WithMessage("List at least one measured outcome, in the outcomes of at least one patient.");

        RuleFor(r => r.Interventions).NotEmpty().WithMessage("List at least one intervention.")
            .MaxItems(MaxInterventions).WithMessage($"At most {MaxInterventions} interventions.");
        RuleForEach(r => r.Interventions).SetValidator(new InterventionValidator(today));

        RuleFor(r => r.Outcomes).NotEmpty().When(r => r.Patients is null).WithMessage("List at least one measured outcome.")
            .MaxItems(MaxOutcomes).WithMessage($"At most {MaxOutcomes} outcomes.");
        RuleFor(r => r.Outcomes).Null().When(r => r.Patients is not null)
            .WithMessage("This report describes its patients in patients: give each patient's outcomes in patients[i].outcomes.");
        RuleForEach(r => r.Outcomes).SetValidator(new OutcomeValidator());

        RuleFor(r => r.FollowUpWeeks).NotNull().WithMessage("State the follow-up length in weeks.")
            .InclusiveBetween(0, 5200);
        RuleFor(r => r.FollowUpWeeks)
            .Must((report, weeks) => weeks >= LastTimepoint(report))
            .When(r => r.FollowUpWeeks is not null && LastTimepoint(r) is not null)
            .WithMessage(r => $"Follow-up must be at least the last outcome timepoint ({LastTimepoint(r)} weeks).");

        RuleFor(r => r.Relapse).NotNull().When(r => r.Patients is null).WithMessage("State whether the disease relapsed during follow-up.");
        RuleFor(r => r.Relapse).Null().When(r => r.Patients is not null)
            .WithMessage("This report describes its patients in patients: give each patient's relapse in patients[i].relapse.");
        RuleFor(r => r.Relapse!).SetValidator(new RelapseValidator()).When(r => r.Relapse is not null);

        RuleFor(r => r.AdverseEvents).NotNull().WithMessage("Report adverse events, or state that none were reported (noneReported: true).");
        RuleFor(r => r.AdverseEvents!).SetValidator(new AdverseEventsValidator()).When(r => r.AdverseEvents is not null);

        RuleFor(r => r.InformedConsent).Equal(true)
            .WithMessage("Informed consent must be stated (true): cases are accepted only with the patient's consent.");

        RuleFor(r => r.Contributor).NotNull().WithMessage("Tell the curators who you are (name and email).");
        RuleFor(r => r.Contributor!).SetValidator(new ContributorValidator()).When(r => r.Contributor is not null);
    }

    /// <summary>How many patients the report describes: one for a single-patient report, else the length of <c>patients</c>.</summary>
    public static int PatientsDescribed(CaseReport report) => report.Patients?.Count ?? (report.Patient is null ? 0 : 1);

    /// <summary>
    /// Keeps the whole report at hand for the rules of its parts that depend on other parts (how many interventions and
    /// patients there are, the follow-up), so that each part's validator stays one fixed object whose static rules the
    /// OpenAPI document can state.
    /// </summary>
    protected override bool PreValidate(ValidationContext<CaseReport> context, FluentValidation.Results.ValidationResult result)
    {
        context.RootContextData[ReportKey] = context.InstanceToValidate;
        return true;
    }

    private const string ReportKey = "caseReport";

    private static CaseReport? Report<TPart>(ValidationContext<TPart> context) =>
        context.RootContextData.TryGetValue(ReportKey, out var report) ? report as CaseReport : null;

    private static decimal? LastTimepoint(CaseReport report) =>
        (report.Outcomes ?? []).Concat((report.Patients ?? []).SelectMany(p => p?.Outcomes ?? []))
        .Where(o => o is not null).Max(o => o.TimepointWeeks);


    [GeneratedRegex(@"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")]
    private static partial Regex Orcid();

    private sealed class SourceValidator : AbstractValidator<CaseReportSource>
    {
        public SourceValidator(Func<DateOnly> today)
        {
            RuleFor(s => s.Doi).Matches(Identifiers.Doi()).WithMessage("A DOI looks like 10.1234/abc, without https://doi.org/.");
            RuleFor(s => s.Pmid).Matches(Identifiers.Pmid()).WithMessage("A PMID is 1 to 10 digits.");
            RuleFor(s => s.Url).MaximumLength(2000)
                .Must(url => url is null || (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                .WithMessage("The URL must be an absolute http(s) URL.");
            RuleFor(s => s.Title).MaximumLength(500);
            RuleFor(s => s.Journal).MaximumLength(300);
            RuleFor(s => s.Authors).MaxItems(100).WithMessage("At most 100 authors.");
            RuleForEach(s => s.Authors).NotEmpty().MaximumLength(ShortText);
            RuleFor(s => s.Year).InclusiveBetween(1900, today().Year).WithMessage($"The year must be between 1900 and this year.");
            RuleFor(s => s.PublishedOn).LessThanOrEqualTo(today()).WithMessage("The publication date cannot be in the future.");
            RuleFor(s => s.PublishedOn!.Value.Year).Equal(s => s.Year!.Value).When(s => s.PublishedOn is not null && s.Year is not null)
                .OverridePropertyName("year").WithMessage("The year does not match publishedOn.");
        }
    }

    private sealed class PatientValidator : AbstractValidator<CaseReportPatient>
    {
        public PatientValidator()
        {
            RuleFor(p => p.Age).NotNull().WithMessage("State the patient's age in years.").InclusiveBetween(0, 120);
            RuleFor(p => p.Sex).OneOf(Sexes);
            RuleFor(p => p.Condition).NotEmpty().WithMessage("State the condition treated, e.g. psoriasis.").MaximumLength(ShortText);
            RuleFor(p => p.ConditionSubtype).MaximumLength(ShortText).ConditionSubtype(p => p.Condition);
            RuleFor(p => p.Country).MaximumLength(100);
            RuleFor(p => p.DiseaseDurationYears).InclusiveBetween(0, 120);
            RuleFor(p => p.DiseaseDurationYears).LessThanOrEqualTo(p => p.Age).When(p => p.Age is not null)
                .WithMessage("The disease cannot have lasted longer than the patient's life.");
            RuleFor(p => p.BaselineScores).MaxItems(20).WithMessage("At most 20 baseline scores.");
            RuleForEach(p => p.BaselineScores).ChildRules(score =>
            {
                score.RuleFor(s => s.Measure).OneOf(ScoreMeasures);
                score.RuleFor(s => s.Value).NotNull().WithMessage("A baseline score needs its value.");
                score.RuleFor(s => s.Value).InstrumentScore(s => s.Measure, s => s.ScaleMax);
                score.RuleFor(s => s.ScaleMax).GreaterThan(0);
            });
            RuleFor(p => p.PriorTreatments).MaxItems(MaxListItems).WithMessage($"At most {MaxListItems} prior treatments.");
            RuleForEach(p => p.PriorTreatments).NotEmpty().MaximumLength(ShortText);
        }
    }

    private sealed class PatientDataValidator : AbstractValidator<CaseReportPatientData>
    {
        public PatientDataValidator()
        {
            Include(new PatientValidator());
            RuleFor(p => p.Label).MaximumLength(ShortText);
            RuleFor(p => p.Condition).Custom((condition, context) =>
            {
                var first = Report(context)?.Patients is { Count: > 0 } patients ? patients[0]?.Condition?.Trim() : null;
                if (condition is not null && first is not null && !string.Equals(condition.Trim(), first, StringComparison.OrdinalIgnoreCase))
                {
                    context.AddFailure($"All patients of one report have the same condition ({first}); report other conditions separately.");
                }
            });
            RuleFor(p => p.Outcomes).MaxItems(MaxOutcomes).WithMessage($"At most {MaxOutcomes} outcomes per patient.");
            RuleForEach(p => p.Outcomes).SetValidator(new OutcomeValidator());
            RuleFor(p => p.Relapse).NotNull().WithMessage("State whether this patient's disease relapsed during follow-up.");
            RuleFor(p => p.Relapse!).SetValidator(new RelapseValidator()).When(p => p.Relapse is not null);
        }
    }

    private sealed class InterventionValidator : AbstractValidator<CaseReportIntervention>
    {
        public InterventionValidator(Func<DateOnly> today)
        {
            RuleFor(i => i.Product).OneOf(Vocabulary.Products);
            RuleFor(i => i.CellSource).OptionalOneOf(Vocabulary.CellSources);
            RuleFor(i => i.Donor).OptionalOneOf(Vocabulary.Donors);
            RuleFor(i => i.Route).OneOf(Vocabulary.Routes);
            RuleFor(i => i.DoseValue).GreaterThan(0);
            RuleFor(i => i.DoseUnit).NotEmpty().When(i => i.DoseValue is not null).WithMessage("A dose value needs its unit, e.g. cells/kg.")
                .MaximumLength(50);
            RuleFor(i => i.DoseText).MaximumLength(500);
            RuleFor(i => i.Administrations).InclusiveBetween(1, 10000);
            RuleFor(i => i.Schedule).MaximumLength(500);
            RuleFor(i => i.Cotreatment).MaximumLength(500);
            RuleFor(i => i.StartedOn).LessThanOrEqualTo(today()).WithMessage("The start date cannot be in the future.");
        }
    }

    private sealed class OutcomeValidator : AbstractValidator<CaseReportOutcome>
    {
        public OutcomeValidator()
        {
            RuleFor(o => o.Intervention).GreaterThanOrEqualTo(0).WithMessage("Refer to an intervention by its position, 0 or more.");
            RuleFor(o => o.Intervention).Custom((index, context) =>
            {
                var last = Math.Max(0, (Report(context)?.Interventions?.Count ?? 0) - 1);
                if (index > last)
                {
                    context.AddFailure($"Refer to an intervention by its position, 0 to {last}.");
                }
            });
            RuleFor(o => o.Measure).OneOf(Vocabulary.Measures);
            RuleFor(o => o.TimepointWeeks).NotNull().WithMessage("State when the outcome was measured, in weeks after the start of treatment.")
                .InclusiveBetween(0, 5200);
            RuleFor(o => o.Timepoint).MaximumLength(ShortText);
            RuleFor(o => o.BaselineValue).InstrumentScore(o => o.Measure, o => o.ScaleMax);
            RuleFor(o => o.Value).InstrumentScore(o => o.Measure, o => o.ScaleMax);
            RuleFor(o => o.Value).NotNull()
                .When(o => o.Measure is not null && ScoreMeasures.Contains(o.Measure))
                .WithMessage("A score outcome needs its value.");
            RuleFor(o => o.ScaleMax).GreaterThan(0);
            RuleFor(o => o.Unit).MaximumLength(50);
            RuleFor(o => o.Assessed).InclusiveBetween(0, MaxAssessedPerOutcome)
                .WithMessage($"An outcome belongs to one patient, so the number assessed is 0 to {MaxAssessedPerOutcome}: it cannot exceed " +
                             "the patients the report describes. For several patients, give each one's outcomes in patients[i].outcomes.");
            RuleFor(o => o.Responders).GreaterThanOrEqualTo(0);
            RuleFor(o => o.Responders).LessThanOrEqualTo(o => o.Assessed).When(o => o.Assessed is not null)
                .WithMessage("Responders cannot outnumber the participants assessed.");
            RuleFor(o => o.Responders).NotNull()
                .When(o => o.Measure is not null && o.Measure.StartsWith("pasi_", StringComparison.Ordinal) || o.Measure is "clinical_response" or "relapse_free")
                .WithMessage("A response outcome needs the number of responders (and assessed).");
            RuleFor(o => o.Result).MaximumLength(2000);
        }
    }

    private sealed class RelapseValidator : AbstractValidator<CaseReportRelapse>
    {
        public RelapseValidator()
        {
            RuleFor(r => r.Occurred).NotNull().WithMessage("State whether a relapse occurred (true or false).");
            RuleFor(r => r.AtWeeks).InclusiveBetween(0, 5200);
            RuleFor(r => r.AtWeeks).Custom((weeks, context) =>
            {
                if (weeks > Report(context)?.FollowUpWeeks)
                {
                    context.AddFailure("The relapse must fall within the follow-up.");
                }
            });
            RuleFor(r => r.AtWeeks).Null().When(r => r.Occurred == false)
                .WithMessage("No relapse occurred, so there is no relapse time.");
            RuleFor(r => r.Description).MaximumLength(LongText);
        }
    }

    private sealed class AdverseEventsValidator : AbstractValidator<CaseReportAdverseEvents>
    {
        public AdverseEventsValidator()
        {
            RuleFor(a => a.NoneReported).NotNull().WithMessage("State noneReported: true, or false with the events.");
            RuleFor(a => a.Events).Empty().When(a => a.NoneReported == true)
                .WithMessage("noneReported is true, so events must be empty.");
            RuleFor(a => a.Events).NotEmpty().When(a => a.NoneReported == false)
                .WithMessage("noneReported is false: list the events.");
            RuleFor(a => a.Events).MaxItems(MaxListItems).WithMessage($"At most {MaxListItems} events.");
            RuleForEach(a => a.Events).ChildRules(e =>
            {
                e.RuleFor(x => x.Description).NotEmpty().MaximumLength(1000);
                e.RuleFor(x => x.Severity).OptionalOneOf(Severities);
                e.RuleFor(x => x.Patient).GreaterThanOrEqualTo(0).WithMessage("Refer to a patient by its position, 0 or more.");
                e.RuleFor(x => x.Patient).Custom((patient, context) =>
                {
                    var patients = Report(context)?.Patients;
                    if (patients is null)
                    {
                        if (patient is > 0)
                        {
                            context.AddFailure("This report describes one patient: leave patient out (or 0).");
                        }
                    }
                    else if (patient is null)
                    {
                        context.AddFailure($"Name the patient who had the event, by position in patients (0 to {Math.Max(0, patients.Count - 1)}).");
                    }
                    else if (patient >= patients.Count)
                    {
                        context.AddFailure($"Refer to a patient by its position, 0 to {Math.Max(0, patients.Count - 1)}.");
                    }
                });
            });
        }
    }

    private sealed class ContributorValidator : AbstractValidator<CaseReportContributor>
    {
        public ContributorValidator()
        {
            RuleFor(c => c.Name).NotEmpty().MaximumLength(ShortText);
            RuleFor(c => c.Email).NotEmpty().EmailAddress().MaximumLength(254);
            RuleFor(c => c.Affiliation).MaximumLength(300);
            RuleFor(c => c.Orcid).Matches(Orcid()).WithMessage("An ORCID iD looks like 0000-0002-1825-0097.");
        }
    }
}
