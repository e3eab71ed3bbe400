using Hl7.Fhir.Model;

namespace EvidenceApi.Fhir;

/// <summary>The CapabilityStatement: exactly the resources, interactions, search parameters and operations the facade serves.</summary>
public static class FhirCapability
{
    public static CapabilityStatement Statement(FhirContext context)
    {
        var rest = new CapabilityStatement.RestComponent
        {
            Mode = CapabilityStatement.RestfulCapabilityMode.Server,
            Documentation = "Read-only evidence (studies, their participants and outcomes, measures, vocabularies and pooled syntheses). " +
                            "Unsupported search parameters, modifiers and repeated parameters are always refused with an OperationOutcome " +
                            "(as with Prefer: handling=strict). Pages follow the Bundle's next link.",
        };

        foreach (var (type, readable) in FhirEndpoints.ReadableTypes)
        {
            var resource = new CapabilityStatement.ResourceComponent
            {
                Type = type,
                Versioning = CapabilityStatement.ResourceVersionPolicy.Versioned,
                ReadHistory = false,
                Documentation = Documentation(type),
            };
            if (readable)
            {
                resource.Interaction.Add(new CapabilityStatement.ResourceInteractionComponent { Code = CapabilityStatement.TypeRestfulInteraction.Read });
            }

            var parameters = FhirSearch.ByType[type];
            if (parameters.Count > 0)
            {
                resource.Interaction.Add(new CapabilityStatement.ResourceInteractionComponent { Code = CapabilityStatement.TypeRestfulInteraction.SearchType });
                resource.SearchParam = parameters.Select(p => new CapabilityStatement.SearchParamComponent
                {
                    Name = p.Name,
                    Type = p.Type,
                    Documentation = p.Documentation,
                }).ToList();
            }

            rest.Resource.Add(resource);
        }

        rest.Operation.Add(new CapabilityStatement.OperationComponent
        {
            Name = "export",
            Definition = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
            Documentation = "Bulk export of every resource (GET /fhir/$export with Prefer: respond-async): _type and _since are honoured; " +
                            "poll the Content-Location for progress, then read the manifest; DELETE it to cancel.",
        });

        return new CapabilityStatement
        {
            Id = "evidence-api",
            Meta = context.Meta(),
            Url = $"{FhirTerminology.CanonicalBase}/CapabilityStatement/evidence-api",
            Name = "EvidenceApi",
            Title = "EvidenceApi FHIR facade",
            Status = PublicationStatus.Active,
            Date = context.VersionTime.ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture),
            Publisher = "EvidenceApi",
            Description = "Structured clinical evidence as HL7 FHIR R4 resources: studies as ResearchStudy, their participants as Group, " +
                          "outcomes as Observation, measures as EvidenceVariable, vocabularies as CodeSystem, and pooled proportions of " +
                          "responders as RiskEvidenceSynthesis.",
            Kind = CapabilityStatementKind.Instance,
            Software = new CapabilityStatement.SoftwareComponent { Name = "EvidenceApi" },
            Implementation = new CapabilityStatement.ImplementationComponent { Description = "EvidenceApi FHIR facade", Url = context.BaseUrl },
            FhirVersion = FHIRVersion.N4_0_1,
            Format = ["application/fhir+json", "json"],
            Rest = [rest],
        };
    }

    private static string Documentation(string type) => type switch
    {
        "ResearchStudy" => "A study: identifiers (key, DOI, PMID, registry id), design as category, condition, one arm per intervention, the source as a citation, a review's included studies.",
        "Group" => "The participants of a study (same id as its ResearchStudy): how many, age range, sex counts, condition.",
        "Observation" => "An outcome: its measure as code, the study as focus, its Group as subject, the numbers, the timepoint and the verbatim quote in note.",
        "EvidenceVariable" => "An outcome measure, defined in words (id: the measure code with '-' for '_', e.g. pasi-75).",
        "CodeSystem" => "Our controlled vocabularies, so that every code a resource uses resolves.",
        _ => "A pooled proportion of responders with Wilson and Clopper-Pearson 95 % intervals, for the same filters as GET /v1/synthesis.",
    };
}
