using System.Globalization;
using EvidenceApi.Querying;
using EvidenceApi.Synthesis;
using Hl7.Fhir.Model;
using static EvidenceApi.Fhir.FhirTerminology;

namespace EvidenceApi.Fhir;

/// <summary>A synthesis (GET /v1/synthesis) → RiskEvidenceSynthesis, with the request's filters as its EvidenceVariables.</summary>
public static class FhirSynthesis
{
    private const string RiskEstimateType = "http://terminology.hl7.org/CodeSystem/risk-estimate-type";
    private const string PrecisionEstimateType = "http://terminology.hl7.org/CodeSystem/precision-estimate-type";

    public static RiskEvidenceSynthesis Map(SynthesisResult result, EvidenceFilter filter, SynthesisQuery query, FhirContext context)
    {
        var population = Population(filter, query);
        var exposure = Exposure(filter, context);
        var outcome = Outcome(result, query, context);
        var synthesis = new RiskEvidenceSynthesis
        {
            Meta = context.Meta(),
            Contained = [population, exposure, outcome],
            Name = "PooledProportionOfResponders",
            Title = $"Pooled proportion of responders: {result.Definition}",
            Status = PublicationStatus.Active,
            Description = $"Responders of patients assessed, pooled over the studies that match the request: {result.Definition}.",
            Population = new ResourceReference("#population"),
            Exposure = new ResourceReference("#exposure"),
            Outcome = new ResourceReference("#outcome"),
            SampleSize = new RiskEvidenceSynthesis.SampleSizeComponent
            {
                Description = $"{result.Studies} studies pooled, {result.Patients} patients assessed.",
                NumberOfStudies = result.Studies,
                NumberOfParticipants = result.Patients,
            },
        };

        var estimate = new RiskEvidenceSynthesis.RiskEstimateComponent
        {
            Description = result.Proportion is null ? "Nothing could be pooled." : $"{result.Responders} of {result.Patients} patients responded.",
            Type = new CodeableConcept(RiskEstimateType, "proportion", "proportion", "Proportion of responders"),
            NumeratorCount = result.Responders,
            DenominatorCount = result.Patients,
        };
        if (result.Proportion is { } proportion)
        {
            estimate.Value = (decimal)proportion;
        }

        if (result.Wilson is { } wilson)
        {
            estimate.PrecisionEstimate.Add(Interval("Wilson score interval (no continuity correction)", wilson));
        }

        if (result.ClopperPearson is { } clopperPearson)
        {
            estimate.PrecisionEstimate.Add(Interval("Clopper-Pearson exact interval", clopperPearson));
        }

        synthesis.RiskEstimate = estimate;
        synthesis.RelatedArtifact = result.Rows.Select(row => new RelatedArtifact
        {
            Type = RelatedArtifact.RelatedArtifactType.DerivedFrom,
            Label = "pooled study",
            Display = $"{row.Title}: {row.Responders} of {row.Assessed} ({row.Measure}{(row.Derived ? ", derived from the patient's scores" : "")})",
            Url = context.Url("ResearchStudy", FhirResources.Id(row.StudyId)),
        }).ToList();

        synthesis.Note.Add(new Annotation { Text = $"Method: {result.Method}" });
        if (result.RowsOmitted > 0)
        {
            synthesis.Note.Add(new Annotation { Text = $"{result.RowsOmitted} further pooled studies are counted but not listed." });
        }

        foreach (var excluded in result.Excluded)
        {
            synthesis.Note.Add(new Annotation { Text = $"Excluded: {excluded.Title} ({context.Url("ResearchStudy", FhirResources.Id(excluded.StudyId))}): {excluded.Reason}" });
        }

        if (result.ExcludedOmitted > 0)
        {
            synthesis.Note.Add(new Annotation { Text = $"{result.ExcludedOmitted} further excluded studies are not listed." });
        }

        return synthesis;
    }

    private static RiskEvidenceSynthesis.PrecisionEstimateComponent Interval(string method, Interval interval) => new()
    {
        Type = new CodeableConcept(PrecisionEstimateType, "CI", "confidence interval", $"{method}, 95 %"),
        Level = (decimal)ProportionInterval.Confidence,
        From = (decimal)interval.Lower,
        To = (decimal)interval.Upper,
    };

    private static EvidenceVariable Population(EvidenceFilter filter, SynthesisQuery query)
    {
        var criteria = new List<(string Text, CodeableConcept Definition)>();
        if (filter.Condition is { } condition)
        {
            criteria.Add(($"condition: {condition}", FhirResources.Condition(condition.Trim().ToLowerInvariant(), filter.Subtype?.Trim().ToLowerInvariant())));
        }
        else if (filter.Subtype is { } subtype)
        {
            criteria.Add(($"condition subtype: {subtype}", new CodeableConcept { Text = subtype }));
        }

        foreach (var design in Paging.SplitList(filter.Design) ?? [])
        {
            criteria.Add(($"design: {design}", Concept(StudyDesign, design, null)));
        }

        if (filter.Country is { } country)
        {
            criteria.Add(($"country: {country}", new CodeableConcept { Text = country }));
        }

        if (filter.YearFrom is not null || filter.YearTo is not null)
        {
            var years = $"published {filter.YearFrom?.ToString(CultureInfo.InvariantCulture) ?? "any year"} to {filter.YearTo?.ToString(CultureInfo.InvariantCulture) ?? "now"}";
            criteria.Add((years, new CodeableConcept { Text = years }));
        }

        if (query.Review is { } review)
        {
            criteria.Add(($"the primary studies covered by the review {review}", new CodeableConcept { Text = $"review: {review}" }));
        }

        return Variable("population", "Patients of the studies in scope", criteria, "All patients of all studies in the evidence base.", VariableTypeCode.Descriptive);
    }

    private static EvidenceVariable Exposure(EvidenceFilter filter, FhirContext context)
    {
        var criteria = new List<(string Text, CodeableConcept Definition)>();
        void Add(string? values, string codeSystem, IReadOnlyList<Vocabularies.Term> terms, string what)
        {
            var codes = Paging.SplitList(values);
            if (codes is null)
            {
                return;
            }

            criteria.Add(($"{what}: {string.Join(" or ", codes)}", new CodeableConcept
            {
                Coding = codes.Select(code => Code(codeSystem, code, Label(terms, code))).ToList(),
                Text = $"{what}: {string.Join(" or ", codes.Select(code => Label(terms, code) ?? code))}",
            }));
        }

        var vocabularies = context.Vocabularies;
        Add(filter.Product, Product, vocabularies.Products, "product");
        Add(filter.CellSource, CellSource, vocabularies.CellSources, "cell source");
        Add(filter.Route, FhirTerminology.Route, vocabularies.Routes, "route");
        Add(filter.Donor, Donor, vocabularies.Donors, "donor");
        return Variable("exposure", "The intervention given (all criteria hold for one and the same intervention)", criteria,
            "Any intervention.", VariableTypeCode.Descriptive);
    }

    private static EvidenceVariable Outcome(SynthesisResult result, SynthesisQuery query, FhirContext context)
    {
        var measure = query.Measure ?? "";
        var label = context.Vocabularies.Measures.FirstOrDefault(m => m.Code == measure)?.Label;
        var variable = Variable("outcome", $"Response: {result.Definition}", [(result.Definition, Concept(FhirTerminology.Measure, measure, label))], result.Definition, VariableTypeCode.Dichotomous);
        variable.Characteristic[0].Description = result.Definition;
        return variable;
    }

    private static EvidenceVariable Variable(string id, string title, List<(string Text, CodeableConcept Definition)> criteria, string whenNone, VariableTypeCode type)
    {
        var variable = new EvidenceVariable
        {
            Id = id,
            Name = char.ToUpperInvariant(id[0]) + id[1..],
            Title = title,
            Status = PublicationStatus.Active,
            Description = criteria.Count == 0 ? whenNone : string.Join("; ", criteria.Select(c => c.Text)),
            Type = type,
        };
        variable.Characteristic = criteria.Count == 0
            ? [new EvidenceVariable.CharacteristicComponent { Description = whenNone, Definition = new CodeableConcept { Text = whenNone } }]
            : criteria.Select(c => new EvidenceVariable.CharacteristicComponent { Description = c.Text, Definition = c.Definition }).ToList();
        return variable;
    }
}
