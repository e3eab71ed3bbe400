using System.Text.Json;
using System.Text.Json.Serialization;
using EvidenceApi.Interventions;
using EvidenceApi.Outcomes;
using EvidenceApi.Querying;
using EvidenceApi.Studies;

namespace EvidenceApi.Http;

/// <summary>
/// Serializers generated at build time for the answers of the read endpoints, so serializing them needs no
/// reflection. Other types fall back to the reflection-based resolver; both follow the same (web) options.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(Page<StudySummary>))]
[JsonSerializable(typeof(StudyDetail))]
[JsonSerializable(typeof(Page<OutcomeListItem>))]
[JsonSerializable(typeof(Page<InterventionListItem>))]
internal sealed partial class EvidenceJsonContext : JsonSerializerContext;
