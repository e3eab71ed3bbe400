namespace EvidenceApi.CaseReports;

/// <summary>Complete, valid case reports, checked by tests. 10.5555 is the DOI prefix reserved for examples.</summary>
public static class CaseReportExample
{
    /// <summary>A single-patient report (patient, outcomes, relapse), the form every report had before patients[].</summary>
    public const string Json = """
        {
          "source": {
            "doi": "10.5555/evidence.example.2025.001",
            "url": "https://doi.org/10.5555/evidence.example.2025.001",
            "title": "Example case: topical adipose MSC conditioned medium for scalp psoriasis",
            "authors": ["Doe J", "Roe R"],
            "journal": "Example Journal of Dermatology Case Reports",
            "year": 2025,
            "publishedOn": "2025-03-14"
          },
          "title": "Example case: topical adipose MSC conditioned medium for scalp psoriasis",
          "summary": "A 38-year-old man with scalp psoriasis for 2 years applied allogeneic adipose MSC conditioned medium once daily for 4 weeks. PSSI fell from 28 to 0; no relapse or adverse event over 26 weeks.",
          "patient": {
            "age": 38,
            "sex": "male",
            "condition": "psoriasis",
            "conditionSubtype": "scalp",
            "diseaseDurationYears": 2,
            "country": "India",
            "baselineScores": [ { "measure": "pssi", "value": 28 } ],
            "priorTreatments": ["topical corticosteroids"]
          },
          "interventions": [
            {
              "product": "conditioned_medium",
              "cellSource": "adipose",
              "donor": "allogeneic",
              "route": "topical",
              "doseText": "Conditioned medium applied to the affected scalp",
              "administrations": 28,
              "schedule": "once daily for 4 weeks",
              "startedOn": "2024-09-02"
            }
          ],
          "outcomes": [
            {
              "intervention": 0,
              "measure": "pssi",
              "timepointWeeks": 4,
              "timepoint": "4 weeks",
              "baselineValue": 28,
              "value": 0,
              "unit": "points",
              "assessed": 1,
              "responders": 1,
              "result": "Complete regression of scalp plaques (PSSI 28 to 0)"
            },
            {
              "intervention": 0,
              "measure": "clinical_response",
              "timepointWeeks": 4,
              "assessed": 1,
              "responders": 1,
              "result": "Scales and plaques cleared"
            }
          ],
          "followUpWeeks": 26,
          "relapse": { "occurred": false },
          "adverseEvents": { "noneReported": true, "events": [] },
          "informedConsent": true,
          "contributor": {
            "name": "Dr. Jane Doe",
            "email": "jane.doe@example.org",
            "affiliation": "Department of Dermatology, Example University Hospital",
            "orcid": "0000-0002-1825-0097"
          }
        }
        """;

    /// <summary>
    /// A two-patient report, the Swagger UI example: ages, sexes, disease durations, dose, results and relapse are those of
    /// Chen et al. 2016 (seeds/2016-chen-uc-msc-psoriasis.json, read on the journal's article page); the DOI and the
    /// contributor are the example's, and so is the adverse-event statement (the case text does not report one).
    /// </summary>
    public const string TwoPatientsJson = """
        {
          "source": {
            "doi": "10.5555/evidence.example.2016.002",
            "title": "Example case report: umbilical cord MSCs in two patients with psoriasis vulgaris",
            "authors": ["Doe J"],
            "journal": "Example Journal of Dermatology Case Reports",
            "year": 2016
          },
          "summary": "Two patients with psoriasis vulgaris received umbilical cord-derived MSCs; both remained relapse free for 4 or 5 years.",
          "patients": [
            {
              "label": "Patient 1",
              "age": 35,
              "sex": "male",
              "condition": "psoriasis",
              "conditionSubtype": "plaque",
              "diseaseDurationYears": 12,
              "outcomes": [
                {
                  "intervention": 0,
                  "measure": "clinical_response",
                  "timepointWeeks": 52,
                  "timepoint": "within 12 months",
                  "assessed": 1,
                  "responders": 1,
                  "result": "Skin returned to normal within 12 months"
                }
              ],
              "relapse": { "occurred": false, "description": "No symptoms of psoriatic relapse after nearly 5 years" }
            },
            {
              "label": "Patient 2",
              "age": 26,
              "sex": "female",
              "condition": "psoriasis",
              "conditionSubtype": "plaque",
              "diseaseDurationYears": 18,
              "outcomes": [],
              "relapse": { "occurred": false, "description": "Relapse free for 4 years" }
            }
          ],
          "interventions": [
            {
              "product": "msc_cells",
              "cellSource": "umbilical_cord",
              "donor": "allogeneic",
              "route": "intravenous",
              "doseText": "1 × 10^6 cells/kg per infusion",
              "cotreatment": "auto-HSCT (patient 1 only)"
            }
          ],
          "followUpWeeks": 208,
          "adverseEvents": { "noneReported": true, "events": [] },
          "informedConsent": true,
          "contributor": {
            "name": "Dr. Jane Doe",
            "email": "jane.doe@example.org",
            "affiliation": "Department of Dermatology, Example University Hospital"
          }
        }
        """;
}
