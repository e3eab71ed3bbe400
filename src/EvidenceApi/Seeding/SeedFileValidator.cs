using System.Text.RegularExpressions;
using EvidenceApi.Http;
using EvidenceApi.Vocabularies;
using FluentValidation;

namespace EvidenceApi.Seeding;

public sealed partial class SeedFileValidator : AbstractValidator<SeedFile>
{
    public SeedFileValidator()
    {
        RuleFor(f => f.Source!).SetValidator(new SeedSourceValidator()).When(f => f.Source is not null);
        RuleFor(f => f.Studies).NotEmpty().WithMessage("A seed file must hold at least one study.");
        RuleForEach(f => f.Studies).SetValidator(new SeedStudyValidator());
        RuleFor(f => f.Studies)
            .Must(studies => studies.Select(s => s.Key).Distinct(StringComparer.Ordinal).Count() == studies.Count)
            .WithMessage("Study keys must be unique.");
    }

    [GeneratedRegex(@"^[a-z0-9]+(-[a-z0-9]+)*$")]
    internal static partial Regex KebabCase();


}

internal sealed class SeedSourceValidator : AbstractValidator<SeedSource>
{
    public SeedSourceValidator()
    {
        RuleFor(s => s.Title).NotEmpty();
        RuleFor(s => s.Year).InclusiveBetween(1800, 2200);
        RuleFor(s => s.Doi).Matches(Identifiers.Doi()).WithMessage("A DOI looks like 10.1234/abc (no https://doi.org/ prefix).");
        RuleFor(s => s.Pmid).Matches(Identifiers.Pmid()).WithMessage("A PMID is digits only.");
        RuleFor(s => s.Url)
            .Must(url => Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            .When(s => s.Url is not null)
            .WithMessage("The URL must be an absolute http(s) URL.");
    }
}

internal sealed class SeedStudyValidator : AbstractValidator<SeedStudy>
{
    public SeedStudyValidator()
    {
        RuleFor(s => s.Key).Matches(SeedFileValidator.KebabCase()).WithMessage("A study key is kebab-case: lower-case letters, digits and dashes.");
        RuleFor(s => s.Title).NotEmpty();
        RuleFor(s => s.Design).OneOf(Vocabulary.Designs);
        RuleFor(s => s.Status).OneOf(Vocabulary.StudyStatuses).When(s => s.Status is not null);
        RuleFor(s => s.Condition).NotEmpty().Must(c => string.Equals(c, c.ToLowerInvariant(), StringComparison.Ordinal)).WithMessage("The condition is lower case.");
        RuleFor(s => s.ConditionSubtype).ConditionSubtype(s => s.Condition);
        RuleFor(s => s.Participants).GreaterThanOrEqualTo(0);
        RuleFor(s => s.FollowUpWeeks).GreaterThanOrEqualTo(0);
        // The rule submitted case reports meet: a result cannot come later than the follow-up that produced it.
        RuleFor(s => s.FollowUpWeeks)
            .NotNull().WithMessage(s => $"State the follow-up length in weeks: an outcome sits at {LastTimepoint(s)} weeks.")
            .GreaterThanOrEqualTo(s => LastTimepoint(s)).WithMessage(s => $"Follow-up must be at least the last outcome timepoint ({LastTimepoint(s)} weeks).")
            .When(s => LastTimepoint(s) is not null);
        RuleFor(s => s.Population!).SetValidator(new SeedPopulationValidator()).When(s => s.Population is not null);
        RuleForEach(s => s.Includes).Matches(SeedFileValidator.KebabCase());
        RuleForEach(s => s.Interventions).SetValidator(new SeedInterventionValidator());
        RuleForEach(s => s.Outcomes).SetValidator(study => new SeedOutcomeValidator(study));
    }

    private static decimal? LastTimepoint(SeedStudy study) =>
        study.Outcomes?.Where(o => o is not null).Max(o => o.TimepointWeeks);
}

internal sealed class SeedPopulationValidator : AbstractValidator<SeedPopulation>
{
    public SeedPopulationValidator()
    {
        RuleFor(p => p.AgeMin).InclusiveBetween(0, 120);
        RuleFor(p => p.AgeMax).InclusiveBetween(0, 120).GreaterThanOrEqualTo(p => p.AgeMin).When(p => p.AgeMin is not null);
        RuleFor(p => p.AgeMean).InclusiveBetween(0, 120);
        RuleFor(p => p.Male).GreaterThanOrEqualTo(0);
        RuleFor(p => p.Female).GreaterThanOrEqualTo(0);
    }
}

internal sealed class SeedInterventionValidator : AbstractValidator<SeedIntervention>
{
    public SeedInterventionValidator()
    {
        RuleFor(i => i.Key).Matches(SeedFileValidator.KebabCase()).WithMessage("An intervention key is kebab-case.");
        RuleFor(i => i.Product).OneOf(Vocabulary.Products);
        RuleFor(i => i.CellSource).OneOf(Vocabulary.CellSources).When(i => i.CellSource is not null);
        RuleFor(i => i.Donor).OneOf(Vocabulary.Donors).When(i => i.Donor is not null);
        RuleFor(i => i.Route).OneOf(Vocabulary.Routes);
        RuleFor(i => i.DoseValue).GreaterThan(0);
        RuleFor(i => i.DoseUnit).NotEmpty().When(i => i.DoseValue is not null).WithMessage("A dose value needs its unit.");
        RuleFor(i => i.Administrations).GreaterThanOrEqualTo(1);
    }
}

internal sealed class SeedOutcomeValidator : AbstractValidator<SeedOutcome>
{
    public SeedOutcomeValidator(SeedStudy study)
    {
        RuleFor(o => o.Measure).OneOf(Vocabulary.Measures);
        RuleFor(o => o.Intervention)
            .Must(key => study.Interventions?.Any(i => i.Key == key) == true)
            .When(o => o.Intervention is not null)
            .WithMessage(o => $"'{o.Intervention}' is not the key of an intervention of this study.");
        RuleFor(o => o.TimepointWeeks).GreaterThanOrEqualTo(0);
        RuleFor(o => o.Assessed).GreaterThanOrEqualTo(0);
        RuleFor(o => o.Responders).GreaterThanOrEqualTo(0)
            .LessThanOrEqualTo(o => o.Assessed).When(o => o.Assessed is not null)
            .WithMessage("Responders cannot outnumber the participants assessed.");
        RuleFor(o => o.Quote).NotEmpty().WithMessage("Every outcome carries a quote from its source.");
        RuleFor(o => o.Evidence).OneOf(Vocabulary.EvidenceLevels).When(o => o.Evidence is not null);
        RuleFor(o => o.SourceNote).NotEmpty().When(o => o.Evidence == "secondary")
            .WithMessage("A secondary value names the source that reports it.");
        RuleFor(o => o.Baseline).InstrumentScore(o => o.Measure, o => o.ScaleMax);
        RuleFor(o => o.Value).InstrumentScore(o => o.Measure, o => o.ScaleMax);
    }
}
