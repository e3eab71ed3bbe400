namespace EvidenceApi.CaseReports;

/// <summary>A complete, valid case report: the Swagger UI example, checked by a test. 10.5555 is the DOI prefix reserved for examples.</summary>
public static class CaseReportExample
{
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
}
