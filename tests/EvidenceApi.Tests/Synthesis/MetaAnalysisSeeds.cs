using System.Text.Json.Nodes;

namespace EvidenceApi.Tests.Synthesis;

/// <summary>
/// Synthetic studies whose meta-analyses are known from reference/metaprop_reference.py, as seed files. Each data set
/// has a condition of its own, so a query selects exactly its studies.
/// </summary>
public static class MetaAnalysisSeeds
{
    /// <summary>An intervention of a synthetic study: its key, cell source and route (product: msc_cells).</summary>
    public sealed record Arm(string Key, string CellSource, string Route);

    /// <summary>
    /// A study with one clinical_response outcome of Responders/Assessed at week 12,
    /// tied to the arm OutcomeArm (or to none).
    /// </summary>
    public sealed record Study(string Key, string Author, int Year, int Responders, int Assessed, Arm[] Arms, string? OutcomeArm = null, string Design = "single_arm_trial");

    public const string ZerosAndOnes = "metaprop zeros and ones";
    public const string Subgroups = "metaprop subgroups";
    public const string OneStudy = "metaprop single";

    private static readonly Arm CordIv = new("uc-iv", "umbilical_cord", "intravenous");

    /// <summary>D1 of the reference script: 0/10, 4/10, 9/15, 16/20, 20/20. Two share first author and year.</summary>
    public static readonly Study[] D1 =
    [
        new("metaprop-d1-alpha", "Alpha A", 2011, 0, 10, [CordIv]),
        new("metaprop-d1-beta-one", "Beta B", 2012, 4, 10, [CordIv]),
        new("metaprop-d1-beta-two", "Beta BC", 2012, 9, 15, [CordIv]),
        new("metaprop-d1-gamma", "Gamma C", 2013, 16, 20, [CordIv]),
        new("metaprop-d1-delta", "De Lta MM", 2014, 20, 20, [CordIv]),
    ];

    /// <summary>
    /// D3 of the reference script, by cell source. 9/14 has an adipose and an umbilical-cord arm and an outcome tied to
    /// neither (so it counts under adipose+umbilical_cord); 6/8 has a bone-marrow and an adipose arm and an outcome
    /// tied to the bone-marrow arm (so it counts under bone_marrow).
    /// </summary>
    public static readonly Study[] D3 =
    [
        new("metaprop-d3-adipose-1", "Adams A", 2015, 3, 12, [new("ad-iv", "adipose", "intravenous")]),
        new("metaprop-d3-adipose-2", "Adams B", 2016, 5, 10, [new("ad-iv", "adipose", "intravenous")]),
        new("metaprop-d3-adipose-3", "Adams C", 2017, 2, 9, [new("ad-sc", "adipose", "subcutaneous")], Design: "case_series"),
        new("metaprop-d3-both", "Both B", 2018, 9, 14, [new("ad-top", "adipose", "topical"), CordIv]),
        new("metaprop-d3-marrow", "Marrow M", 2019, 6, 8, [new("bm-iv", "bone_marrow", "intravenous"), new("ad-sc", "adipose", "subcutaneous")], OutcomeArm: "bm-iv"),
        new("metaprop-d3-cord-1", "Cord A", 2020, 12, 20, [CordIv]),
        new("metaprop-d3-cord-2", "Cord B", 2021, 20, 22, [CordIv]),
        new("metaprop-d3-cord-3", "Cord C", 2022, 5, 15, [CordIv]),
        new("metaprop-d3-cord-4", "Cord D", 2023, 18, 25, [CordIv], Design: "case_series"),
    ];

    /// <summary>D6 of the reference script: one study, 7/9.</summary>
    public static readonly Study[] D6 = [new("metaprop-d6-only", "Solo S", 2020, 7, 9, [CordIv])];

    public const string Many = "metaprop many";

    /// <summary>More studies than a forest plot draws: 100 of 12/20 and 5 small ones of 1/2, which weigh least.</summary>
    public static readonly Study[] ManyStudies =
    [
        .. Enumerable.Range(1, 100).Select(i => new Study($"metaprop-many-{i:000}", $"Many {i:000}", 2000 + (i % 20), 12, 20, [CordIv])),
        .. Enumerable.Range(1, 5).Select(i => new Study($"metaprop-small-{i}", $"Small {i}", 2020, 1, 2, [CordIv])),
    ];

    /// <summary>The seed files of the three reference data sets, one per study.</summary>
    public static Dictionary<string, string> Files() =>
        D1.Select(s => (s, ZerosAndOnes)).Concat(D3.Select(s => (s, Subgroups))).Concat(D6.Select(s => (s, OneStudy)))
            .ToDictionary(x => $"{x.s.Key}.json", x => File(x.s, x.Item2));

    /// <summary>The seed files of <see cref="ManyStudies"/>.</summary>
    public static Dictionary<string, string> ManyFiles() => ManyStudies.ToDictionary(s => $"{s.Key}.json", s => File(s, Many));

    private static string File(Study study, string condition)
    {
        var arms = new JsonArray(study.Arms.Select(a => (JsonNode)new JsonObject
        {
            ["key"] = a.Key, ["product"] = "msc_cells", ["cellSource"] = a.CellSource, ["route"] = a.Route,
        }).ToArray());
        var file = new JsonObject
        {
            ["source"] = new JsonObject { ["title"] = $"Synthetic {study.Key}", ["authors"] = new JsonArray(study.Author, "Second S"), ["year"] = study.Year },
            ["studies"] = new JsonArray(new JsonObject
            {
                ["key"] = study.Key,
                ["title"] = $"Synthetic study {study.Key}",
                ["design"] = study.Design,
                ["condition"] = condition,
                ["participants"] = study.Assessed,
                ["followUpWeeks"] = 12,
                ["interventions"] = arms,
                ["outcomes"] = new JsonArray(new JsonObject
                {
                    ["intervention"] = study.OutcomeArm,
                    ["measure"] = "clinical_response",
                    ["timepoint"] = "12 weeks",
                    ["timepointWeeks"] = 12,
                    ["assessed"] = study.Assessed,
                    ["responders"] = study.Responders,
                    ["quote"] = $"Synthetic: {study.Responders} of {study.Assessed} responded.",
                }),
            }),
        };
        return file.ToJsonString();
    }
}
