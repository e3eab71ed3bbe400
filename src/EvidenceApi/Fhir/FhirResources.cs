using System.Globalization;
using System.Text;
using EvidenceApi.Interventions;
using EvidenceApi.Outcomes;
using EvidenceApi.Studies;
using EvidenceApi.Vocabularies;
using Hl7.Fhir.Model;
using static EvidenceApi.Fhir.FhirTerminology;

namespace EvidenceApi.Fhir;

/// <summary>What every resource is made with: the FHIR base of the request, the data version and the vocabularies' labels.</summary>
/// <param name="BaseUrl">Absolute base of the facade, e.g. https://host/fhir (no trailing slash).</param>
/// <param name="Version">The data version the answer was read at: every resource's meta.versionId.</param>
/// <param name="VersionTime">When that version was made: meta.lastUpdated of resources that are not one study's.</param>
/// <param name="Vocabularies">Codes and labels of the controlled vocabularies.</param>
public sealed record FhirContext(string BaseUrl, long Version, DateTimeOffset VersionTime, Vocabularies.Vocabularies Vocabularies)
{
    public Meta Meta(DateTimeOffset? lastUpdated = null) => new()
    {
        VersionId = Version.ToString(CultureInfo.InvariantCulture),
        LastUpdated = lastUpdated ?? VersionTime,
    };

    public string Url(string type, string id) => $"{BaseUrl}/{type}/{id}";
}

/// <summary>Maps what the feature queries return (studies, outcomes, vocabularies) to FHIR R4 resources.</summary>
public static class FhirResources
{
    private static readonly HashSet<string> Trials = ["rct", "non_randomised_trial", "single_arm_trial"];

    public static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Study → ResearchStudy: identifiers, design, condition, arms, population Group, source citation, review links.</summary>
    public static ResearchStudy ResearchStudy(StudyDetail study, FhirContext context)
    {
        var vocabularies = context.Vocabularies;
        var resource = new ResearchStudy
        {
            Id = Id(study.Id),
            Meta = context.Meta(study.UpdatedAt),
            Identifier = Identifiers(study),
            Title = study.Title,
            // published: results reported, the study is over; registered: a registry entry, results not (yet) reported.
            Status = study.Status == "registered" ? Hl7.Fhir.Model.ResearchStudy.ResearchStudyStatus.Active : Hl7.Fhir.Model.ResearchStudy.ResearchStudyStatus.Completed,
            Category = [Concept(StudyDesign, study.Design, Label(vocabularies.Designs, study.Design))],
            Condition = [Condition(study.Condition, study.ConditionSubtype)],
            Enrollment = [new ResourceReference($"Group/{Id(study.Id)}", $"Participants of study {study.Key}")],
            Arm = study.Interventions.Select(i => new ResearchStudy.ArmComponent { Name = i.Key, Description = Describe(i, vocabularies) }).ToList(),
        };

        // Phase applies to trials; our data does not record a trial's phase, so only "not applicable" is ever stated.
        if (!Trials.Contains(study.Design))
        {
            resource.Phase = new CodeableConcept("http://terminology.hl7.org/CodeSystem/research-study-phase", "n-a", "N/A", "Not applicable: not a trial");
        }

        if (!string.IsNullOrWhiteSpace(study.Summary))
        {
            resource.Description = study.Summary;
        }

        if (study.Country is { } country)
        {
            resource.Location = [new CodeableConcept { Text = country }];
        }

        if (study.Source is { } source)
        {
            resource.RelatedArtifact.Add(new RelatedArtifact
            {
                Type = RelatedArtifact.RelatedArtifactType.Citation,
                Label = "source",
                Display = source.Title,
                Citation = Citation(source),
                Url = source.Doi is { } doi ? $"https://doi.org/{doi}" : source.Url,
            });
        }

        foreach (var included in study.IncludedStudies)
        {
            resource.RelatedArtifact.Add(new RelatedArtifact
            {
                Type = RelatedArtifact.RelatedArtifactType.ComposedOf,
                Label = "included study",
                Display = included.Title,
                Url = context.Url("ResearchStudy", Id(included.Id)),
            });
        }

        var notes = new List<string>();
        if (study.FollowUpWeeks is { } weeks)
        {
            notes.Add($"Longest follow-up reported: {weeks.ToString("0.##", CultureInfo.InvariantCulture)} weeks.");
        }

        if (!string.IsNullOrWhiteSpace(study.PopulationDescription))
        {
            notes.Add($"Population: {study.PopulationDescription}");
        }

        foreach (var review in study.IncludedInReviews)
        {
            notes.Add($"Covered by the review \"{review.Title}\" ({context.Url("ResearchStudy", Id(review.Id))}).");
        }

        resource.Note = notes.Select(text => new Annotation { Text = text }).ToList();
        return resource;
    }

    /// <summary>Study participants → Group: how many, age, sex counts and condition as characteristics.</summary>
    public static Group Group(StudyDetail study, FhirContext context)
    {
        var group = new Group
        {
            Id = Id(study.Id),
            Meta = context.Meta(study.UpdatedAt),
            Type = Hl7.Fhir.Model.Group.GroupType.Person,
            Actual = true,
            Name = $"Participants of {study.Title}",
            Quantity = study.Participants,
        };
        group.Characteristic.Add(Characteristic("condition", "Condition studied", Condition(study.Condition, study.ConditionSubtype)));
        if (study.AgeMin is not null || study.AgeMax is not null)
        {
            group.Characteristic.Add(Characteristic("age-range", "Age range of the participants, in years", new Hl7.Fhir.Model.Range
            {
                Low = study.AgeMin is { } min ? Years(min) : null,
                High = study.AgeMax is { } max ? Years(max) : null,
            }));
        }

        if (study.AgeMean is { } mean)
        {
            group.Characteristic.Add(Characteristic("mean-age", "Mean age of the participants, in years", Years(mean)));
        }

        if (study.MaleCount is { } male)
        {
            group.Characteristic.Add(Characteristic("male-participants", "Number of male participants", Count(male)));
        }

        if (study.FemaleCount is { } female)
        {
            group.Characteristic.Add(Characteristic("female-participants", "Number of female participants", Count(female)));
        }

        return group;
    }

    /// <summary>Outcome → Observation: the measure, the study as focus and its Group as subject, the numbers, the timepoint and the quote.</summary>
    public static Observation Observation(OutcomeItem outcome, string? armKey, FhirContext context)
    {
        var measureLabel = context.Vocabularies.Measures.FirstOrDefault(m => m.Code == outcome.Measure)?.Label;
        var observation = new Observation
        {
            Id = Id(outcome.Id),
            Meta = context.Meta(),
            Status = ObservationStatus.Final,
            Code = Concept(FhirTerminology.Measure, outcome.Measure, measureLabel),
            Focus = [new ResourceReference($"ResearchStudy/{Id(outcome.StudyId)}")],
            Subject = new ResourceReference($"Group/{Id(outcome.StudyId)}"),
        };

        var unit = outcome.Unit ?? (Vocabulary.ScoreRange(outcome.Measure) is not null || Vocabulary.HasDeclaredScale(outcome.Measure) ? "points" : null);
        if (outcome is { Responders: { } responders, Assessed: { } assessed })
        {
            observation.Value = new Ratio(Count(responders), Count(assessed));
        }
        else if (outcome.Value is { } value)
        {
            observation.Value = new Quantity { Value = value, Unit = unit };
        }
        else if (outcome.Responders is { } onlyResponders)
        {
            observation.Value = Count(onlyResponders);
        }
        else if (!string.IsNullOrWhiteSpace(outcome.Result))
        {
            observation.Value = new FhirString(outcome.Result);
        }
        else
        {
            observation.DataAbsentReason = new CodeableConcept("http://terminology.hl7.org/CodeSystem/data-absent-reason", "not-asked", "Not Asked",
                "The source reports this outcome without a value.");
        }

        if (outcome.BaselineValue is { } baseline)
        {
            observation.Component.Add(Component("baseline", "Score at baseline", new Quantity { Value = baseline, Unit = unit }));
        }

        if (outcome.ScaleMax is { } scaleMax)
        {
            observation.Component.Add(Component("scale-max", "Top of the declared scale", new Quantity { Value = scaleMax, Unit = unit }));
        }

        if (outcome.TimepointWeeks is not null || outcome.Timepoint is not null)
        {
            var words = outcome.Timepoint is null ? "Timepoint" : $"Timepoint: {outcome.Timepoint}";
            observation.Component.Add(Component("timepoint", words, outcome.TimepointWeeks is { } weeks
                ? new Quantity { Value = weeks, Unit = "weeks", System = Ucum, Code = "wk" }
                : new FhirString(outcome.Timepoint)));
        }

        if (armKey is not null)
        {
            observation.Component.Add(Component("arm", "Study arm", new FhirString(armKey)));
        }

        observation.Component.Add(Component("evidence", "Evidence level", new FhirString(outcome.Evidence)));

        // The verbatim quote from the source comes first, unchanged; then the result in words and, for secondary evidence, its source.
        observation.Note.Add(new Annotation { Text = outcome.Quote });
        if (!string.IsNullOrWhiteSpace(outcome.Result) && observation.Value is not FhirString)
        {
            observation.Note.Add(new Annotation { Text = $"Result: {outcome.Result}" });
        }

        if (outcome.SourceNote is { } sourceNote)
        {
            observation.Note.Add(new Annotation { Text = $"Reported by: {sourceNote}" });
        }

        return observation;
    }

    /// <summary>Measure → EvidenceVariable, defined in words.</summary>
    public static EvidenceVariable EvidenceVariable(MeasureTerm measure, FhirContext context)
    {
        var id = MeasureId(measure.Code);
        var definition = MeasureDefinitions.TryGetValue(measure.Code, out var words) ? words : measure.Label;
        return new EvidenceVariable
        {
            Id = id,
            Meta = context.Meta(),
            Url = EvidenceVariableUrl(id),
            Name = measure.Code.ToUpperInvariant(),
            Title = measure.Label,
            Status = PublicationStatus.Active,
            Description = definition,
            Type = measure.IsResponse || measure.Code == "adverse_events" ? VariableTypeCode.Dichotomous
                : measure.MaxValue is not null || measure.MinValue is not null ? VariableTypeCode.Continuous
                : VariableTypeCode.Descriptive,
            Characteristic =
            [
                new EvidenceVariable.CharacteristicComponent
                {
                    Description = definition,
                    Definition = Concept(FhirTerminology.Measure, measure.Code, measure.Label),
                },
            ],
        };
    }

    /// <summary>One of our vocabularies → CodeSystem, complete.</summary>
    public static CodeSystem CodeSystem(string id, string title, string description, IReadOnlyList<Term> concepts, FhirContext context) => new()
    {
        Id = id,
        Meta = context.Meta(),
        Url = CodeSystemUrl(id),
        Name = string.Concat(id.Split('-').Select(part => char.ToUpperInvariant(part[0]) + part[1..])),
        Title = title,
        Status = PublicationStatus.Active,
        Description = description,
        CaseSensitive = true,
        Content = CodeSystemContentMode.Complete,
        Count = concepts.Count,
        Concept = concepts.Select(term => new CodeSystem.ConceptDefinitionComponent { Code = term.Code, Display = term.Label }).ToList(),
    };

    public static CodeableConcept Condition(string condition, string? subtype)
    {
        var text = subtype is null ? condition : $"{condition} ({subtype.Replace('_', ' ')})";
        var concept = new CodeableConcept { Text = text };
        if (SnomedConditions.TryGetValue(condition, out var snomed))
        {
            concept.Coding.Add(new Coding(Snomed, snomed.Code, snomed.Display));
        }

        return concept;
    }

    private static List<Identifier> Identifiers(StudyDetail study)
    {
        var identifiers = new List<Identifier> { new(StudyKeySystem, study.Key) { Use = Identifier.IdentifierUse.Usual } };
        if (study.Source?.Doi is { } doi)
        {
            identifiers.Add(new Identifier(DoiSystem, doi));
        }

        if (study.Source?.Pmid is { } pmid)
        {
            identifiers.Add(new Identifier(PubMedSystem, pmid));
        }

        if (study.Source?.RegistryId is { } registryId)
        {
            identifiers.Add(new Identifier(RegistrySystemOf(registryId), registryId));
        }

        return identifiers;
    }

    public static string RegistrySystemOf(string registryId) =>
        registryId.StartsWith("NCT", StringComparison.OrdinalIgnoreCase) ? ClinicalTrialsGovSystem : RegistrySystem;

    /// <summary>A Vancouver-style reference: authors, title, journal, year;volume(issue):pages, DOI, PMID.</summary>
    public static string Citation(SourceDetail source)
    {
        var text = new StringBuilder();
        if (source.Authors.Length > 0)
        {
            text.Append(string.Join(", ", source.Authors)).Append(". ");
        }

        text.Append(source.Title.TrimEnd('.')).Append('.');
        if (source.Journal is { } journal)
        {
            text.Append(' ').Append(journal).Append('.');
        }

        if (source.Year is { } year)
        {
            text.Append(' ').Append(year.ToString(CultureInfo.InvariantCulture));
            if (source.Volume is { } volume)
            {
                text.Append(';').Append(volume);
            }

            if (source.Issue is { } issue)
            {
                text.Append('(').Append(issue).Append(')');
            }

            if (source.Pages is { } pages)
            {
                text.Append(':').Append(pages);
            }

            text.Append('.');
        }

        if (source.Doi is { } doi)
        {
            text.Append(" doi:").Append(doi).Append('.');
        }

        if (source.Pmid is { } pmid)
        {
            text.Append(" PMID: ").Append(pmid).Append('.');
        }

        if (source.RegistryId is { } registry)
        {
            text.Append(" Registry: ").Append(registry).Append('.');
        }

        return text.ToString();
    }

    /// <summary>An intervention in words: product, cell source, donor, route, dose, administrations, schedule, co-treatment.</summary>
    public static string Describe(InterventionItem intervention, Vocabularies.Vocabularies vocabularies)
    {
        var parts = new List<string>
        {
            $"Product: {Label(vocabularies.Products, intervention.Product) ?? intervention.Product}",
            $"cell source: {Label(vocabularies.CellSources, intervention.CellSource) ?? intervention.CellSource}",
            $"donor: {Label(vocabularies.Donors, intervention.Donor) ?? intervention.Donor}",
            $"route: {Label(vocabularies.Routes, intervention.Route) ?? intervention.Route}",
        };
        var dose = intervention.DoseText
            ?? (intervention.DoseValue is { } value ? $"{value.ToString("0.##########", CultureInfo.InvariantCulture)} {intervention.DoseUnit}" : null);
        if (dose is not null)
        {
            parts.Add($"dose: {dose}");
        }

        if (intervention.Administrations is { } administrations)
        {
            parts.Add($"administrations: {administrations.ToString(CultureInfo.InvariantCulture)}");
        }

        if (intervention.Schedule is { } schedule)
        {
            parts.Add($"schedule: {schedule}");
        }

        if (intervention.Cotreatment is { } cotreatment)
        {
            parts.Add($"with: {cotreatment}");
        }

        var text = string.Join("; ", parts) + ".";
        return intervention.Description is { } description ? $"{text} {description}" : text;
    }

    private static Group.CharacteristicComponent Characteristic(string code, string display, DataType value) => new()
    {
        Code = Concept(PopulationCharacteristic, code, display),
        Value = value,
        Exclude = false,
    };

    private static Observation.ComponentComponent Component(string code, string text, DataType value) => new()
    {
        Code = new CodeableConcept { Coding = [Code(ObservationComponent, code, null)], Text = text },
        Value = value,
    };

    private static Quantity Years(decimal value) => new() { Value = value, Unit = "years", System = Ucum, Code = "a" };

    private static Quantity Count(int value) => new() { Value = value, Unit = "participants" };
}
