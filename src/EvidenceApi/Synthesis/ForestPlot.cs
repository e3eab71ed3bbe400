using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace EvidenceApi.Synthesis;

/// <summary>
/// Draws a synthesis with its meta-analysis as a forest plot in plain SVG: one row per study (label, responders and
/// patients, the proportion as a box sized by weight on its Clopper-Pearson interval, the proportion and interval in
/// figures, the weight), subgroup blocks with their diamonds, the overall diamond, the prediction interval,
/// heterogeneity in words and an axis from 0 to 1. No script, no style sheet (the API's Content-Security-Policy
/// forbids both): presentation attributes only. The same data always gives the same bytes.
/// </summary>
public static class ForestPlot
{
    /// <summary>Studies drawn at most; with more, those with most weight (the rest are pooled, and the plot says so).</summary>
    public const int MaxStudies = 100;

    private const double Width = 960;
    private const double Left = 24;
    private const double RespondersRight = 300;
    private const double PatientsRight = 364;
    private const double AxisLeft = 400;
    private const double AxisRight = 720;
    private const double EstimateRight = 872;
    private const double WeightRight = 936;
    private const double RowHeight = 20;
    private const double LargestBox = 14;
    private const int LabelCharacters = 34;
    private const int LineCharacters = 150;

    private const string Ink = "#1a1a1a";
    private const string Muted = "#5a5a5a";
    private const string Box = "#4a4a4a";
    private const string Pooled = "#1f4e79";
    private const string SubgroupFill = "#a9bfd8";
    private const string Prediction = "#b03a2e";

    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    public static string Render(SynthesisResult result)
    {
        var meta = result.MetaAnalysis ?? throw new ArgumentException("A forest plot needs the meta-analysis.", nameof(result));
        var overall = meta.Overall;
        var random = meta.Model == "random";
        var modelName = random ? "Random-effects model" : "Fixed-effect model";
        var body = new List<XElement>();
        var y = 0.0;

        void Text(double x, string text, string anchor = "start", string? weight = null, string? style = null, string fill = Ink, double size = 12, string? cssClass = null) =>
            body.Add(new XElement(Svg + "text",
                new XAttribute("x", F(x)), new XAttribute("y", F(y + 14)),
                anchor == "start" ? null : new XAttribute("text-anchor", anchor),
                weight is null ? null : new XAttribute("font-weight", weight),
                style is null ? null : new XAttribute("font-style", style),
                fill == Ink ? null : new XAttribute("fill", fill),
                size == 12 ? null : new XAttribute("font-size", F(size)),
                cssClass is null ? null : new XAttribute("class", cssClass),
                text));

        // Title and the response definition.
        Text(Left, $"Proportion of responders: {Plural(overall.Studies, "study", "studies")}, {Count(overall.Patients)} patients", weight: "bold", size: 14);
        y += 20;
        foreach (var line in Wrap(result.Definition, LineCharacters))
        {
            Text(Left, line, fill: Muted);
            y += 16;
        }

        y += 8;
        if (overall.Studies == 0)
        {
            Text(Left, $"No study could be pooled ({Plural(result.Excluded.Count + result.ExcludedOmitted, "study", "studies")} in scope left out).");
            y += RowHeight + 8;
            return Document(result, meta, body, y);
        }

        // Column headers.
        Text(Left, "Study", weight: "bold");
        Text(RespondersRight, "Responders", "end", "bold");
        Text(PatientsRight, "Patients", "end", "bold");
        Text((AxisLeft + AxisRight) / 2, "Proportion", "middle", "bold");
        Text(EstimateRight, "Proportion [95% CI]", "end", "bold");
        Text(WeightRight, "Weight", "end", "bold");
        y += RowHeight + 2;
        body.Add(Line(Left, y, WeightRight, y, "#9a9a9a", 1));
        y += 4;
        var firstRow = y;

        var largest = result.Rows.Select(r => r.Weight ?? 0).DefaultIfEmpty(0).Max();
        void Study(SynthesisRow row)
        {
            var p = row.Proportion ?? 0;
            var interval = row.Interval ?? new Interval(p, p);
            var side = largest <= 0 ? 6 : Math.Max(3, LargestBox * Math.Sqrt((row.Weight ?? 0) / largest));
            var centre = y + (RowHeight / 2);
            var label = row.Label ?? row.Key;
            var g = new XElement(Svg + "g", new XAttribute("class", "study"),
                new XElement(Svg + "title", string.Create(CultureInfo.InvariantCulture,
                    $"{label}: {row.Responders} of {row.Assessed}, {P(p)} [{P(interval.Lower)}; {P(interval.Upper)}], weight {row.Weight:0.0}%")),
                Line(X(interval.Lower), centre, X(interval.Upper), centre, Ink, 1.3),
                new XElement(Svg + "rect", new XAttribute("class", "box"),
                    new XAttribute("x", F(X(p) - (side / 2))), new XAttribute("y", F(centre - (side / 2))),
                    new XAttribute("width", F(side)), new XAttribute("height", F(side)), new XAttribute("fill", Box)));
            body.Add(g);
            Text(Left, Truncate(label, LabelCharacters));
            Text(RespondersRight, Count(row.Responders), "end");
            Text(PatientsRight, Count(row.Assessed), "end");
            Text(EstimateRight, $"{P(p)} [{P(interval.Lower)}; {P(interval.Upper)}]", "end");
            Text(WeightRight, Percent(row.Weight ?? 0), "end");
            y += RowHeight;
        }

        void Diamond(PooledEstimate estimate, string label, string cssClass, string fill, double? weight)
        {
            if (estimate.Proportion is not { } p || estimate.Interval is not { } interval)
            {
                return;
            }

            var centre = y + (RowHeight / 2);
            body.Add(new XElement(Svg + "polygon", new XAttribute("class", $"diamond {cssClass}"),
                new XAttribute("points", $"{F(X(interval.Lower))},{F(centre)} {F(X(p))},{F(centre - 6)} {F(X(interval.Upper))},{F(centre)} {F(X(p))},{F(centre + 6)}"),
                new XAttribute("fill", fill), new XAttribute("stroke", Pooled), new XAttribute("stroke-width", "1")));
            Text(Left, label, weight: "bold");
            Text(RespondersRight, Count(estimate.Responders), "end", "bold");
            Text(PatientsRight, Count(estimate.Patients), "end", "bold");
            Text(EstimateRight, $"{P(p)} [{P(interval.Lower)}; {P(interval.Upper)}]", "end", "bold");
            if (weight is { } w)
            {
                Text(WeightRight, Percent(w), "end", "bold");
            }

            y += RowHeight;
        }

        void PredictionRow(PooledEstimate estimate)
        {
            if (estimate.PredictionInterval is not { } interval)
            {
                return;
            }

            var centre = y + (RowHeight / 2);
            body.Add(new XElement(Svg + "g", new XAttribute("class", "prediction"),
                Line(X(interval.Lower), centre, X(interval.Upper), centre, Prediction, 2.5),
                Line(X(interval.Lower), centre - 4, X(interval.Lower), centre + 4, Prediction, 1.5),
                Line(X(interval.Upper), centre - 4, X(interval.Upper), centre + 4, Prediction, 1.5)));
            Text(Left, "Prediction interval", style: "italic");
            Text(EstimateRight, $"[{P(interval.Lower)}; {P(interval.Upper)}]", "end", style: "italic");
            y += RowHeight;
        }

        void HeterogeneityRow(PooledEstimate estimate)
        {
            Text(Left, HeterogeneityInWords(estimate, random), fill: Muted, size: 11, cssClass: "heterogeneity");
            y += RowHeight - 2;
        }

        var drawn = result.Rows.OrderBy(r => r.Year ?? int.MaxValue).ThenBy(r => r.Label, StringComparer.Ordinal).ThenBy(r => r.StudyId).ToList();
        if (meta.Subgroups is { } subgroups)
        {
            foreach (var subgroup in subgroups)
            {
                Text(Left, $"{Humanise(meta.By ?? "")}: {Humanise(subgroup.Subgroup ?? "")}", weight: "bold", cssClass: "subgroup");
                y += RowHeight;
                foreach (var row in drawn.Where(r => r.Subgroup == subgroup.Subgroup))
                {
                    Study(row);
                }

                // A subgroup's prediction interval is in the JSON; drawn for each block it would crowd the plot (as meta's forest leaves it out).
                Diamond(subgroup, $"{modelName} ({Plural(subgroup.Studies, "study", "studies")})", "subgroup", SubgroupFill, subgroup.Weight);
                HeterogeneityRow(subgroup);
                y += 6;
            }

            body.Add(Line(Left, y, WeightRight, y, "#d0d0d0", 1));
            y += 4;
        }
        else
        {
            foreach (var row in drawn)
            {
                Study(row);
            }

            y += 4;
        }

        var lastStudyRow = y;
        Diamond(overall, $"{modelName} ({Plural(overall.Studies, "study", "studies")})", "overall", Pooled, 100);
        PredictionRow(overall);
        HeterogeneityRow(overall);
        if (meta.SubgroupDifferences is { } differences)
        {
            Text(Left, string.Create(CultureInfo.InvariantCulture,
                $"Test for subgroup differences: Q = {differences.Q:0.00} on {differences.Df} df ({PValue(differences.P)})"), fill: Muted, size: 11, cssClass: "subgroup-test");
            y += RowHeight - 2;
        }

        // The pooled estimate as a dashed line through the study rows.
        if (overall.Proportion is { } pooled)
        {
            body.Insert(0, Line(X(pooled), firstRow, X(pooled), lastStudyRow + RowHeight, Pooled, 1, dashed: true, cssClass: "pooled-line"));
        }

        // Axis from 0 to 1.
        y += 8;
        body.Add(Line(AxisLeft, y, AxisRight, y, Ink, 1, cssClass: "axis"));
        for (var tick = 0; tick <= 5; tick++)
        {
            var value = tick / 5.0;
            body.Add(new XElement(Svg + "line", new XAttribute("class", "tick"), new XAttribute("data-value", F(value)),
                new XAttribute("x1", F(X(value))), new XAttribute("y1", F(y)), new XAttribute("x2", F(X(value))), new XAttribute("y2", F(y + 5)),
                new XAttribute("stroke", Ink), new XAttribute("stroke-width", "1")));
            body.Add(new XElement(Svg + "text", new XAttribute("x", F(X(value))), new XAttribute("y", F(y + 18)), new XAttribute("text-anchor", "middle"),
                value.ToString("0.0", CultureInfo.InvariantCulture)));
        }

        y += 22;
        Text((AxisLeft + AxisRight) / 2, "Proportion of responders", "middle");
        y += RowHeight + 6;
        foreach (var line in Footnotes(result, meta).SelectMany(note => Wrap(note, LineCharacters + 10)))
        {
            Text(Left, line, fill: Muted, size: 10);
            y += 14;
        }

        return Document(result, meta, body, y + 10);
    }

    private static string Document(SynthesisResult result, MetaAnalysis meta, List<XElement> body, double height)
    {
        var root = new XElement(Svg + "svg",
            new XAttribute("width", F(Width)), new XAttribute("height", F(Math.Ceiling(height))),
            new XAttribute("viewBox", $"0 0 {F(Width)} {F(Math.Ceiling(height))}"),
            new XAttribute("role", "img"), new XAttribute("aria-labelledby", "forest-title forest-desc"),
            new XAttribute("font-family", "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"), new XAttribute("font-size", "12"),
            new XAttribute("fill", Ink),
            new XElement(Svg + "title", new XAttribute("id", "forest-title"), $"Forest plot of the proportion of responders: {result.Definition}"),
            new XElement(Svg + "desc", new XAttribute("id", "forest-desc"), Description(result, meta)),
            new XElement(Svg + "rect", new XAttribute("width", "100%"), new XAttribute("height", "100%"), new XAttribute("fill", "#ffffff")),
            body);
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", NewLineChars = "\n", Encoding = new UTF8Encoding(false), OmitXmlDeclaration = false };
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, settings))
        {
            new XDocument(root).Save(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>What a screen reader says instead of the picture.</summary>
    private static string Description(SynthesisResult result, MetaAnalysis meta)
    {
        var overall = meta.Overall;
        var model = meta.Model == "random" ? "random-effects" : "fixed-effect";
        if (overall.Proportion is not { } p || overall.Interval is not { } ci)
        {
            return "No study could be pooled.";
        }

        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"{Plural(overall.Studies, "study", "studies")} with {Count(overall.Patients)} patients. Pooled {model} proportion {P(p)} (95% CI {P(ci.Lower)} to {P(ci.Upper)})."));
        if (overall.PredictionInterval is { } prediction)
        {
            text.Append(CultureInfo.InvariantCulture, $" 95% prediction interval {P(prediction.Lower)} to {P(prediction.Upper)}.");
        }

        text.Append(' ').Append(HeterogeneityInWords(overall, meta.Model == "random")).Append('.');
        foreach (var subgroup in meta.Subgroups ?? [])
        {
            text.Append(CultureInfo.InvariantCulture, $" {Humanise(meta.By ?? "")} {Humanise(subgroup.Subgroup ?? "")}: {Plural(subgroup.Studies, "study", "studies")}, {(subgroup.Proportion is { } sp ? P(sp) : "none")}.");
        }

        if (meta.SubgroupDifferences is { } differences)
        {
            text.Append(CultureInfo.InvariantCulture, $" Test for subgroup differences {PValue(differences.P)}.");
        }

        text.Append(" Each study row shows its label, responders, patients, proportion with its Clopper-Pearson 95% interval, and weight.");
        if (result.RowsOmitted > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" {Count(result.RowsOmitted)} further studies are pooled but not drawn.");
        }

        return text.ToString();
    }

    private static IEnumerable<string> Footnotes(SynthesisResult result, MetaAnalysis meta)
    {
        var overall = meta.Overall;
        var scale = meta.Transform == ProportionScale.FreemanTukey
            ? string.Create(CultureInfo.InvariantCulture, $"Freeman-Tukey double arcsine scale, back-transformed at the harmonic mean n = {overall.HarmonicMeanN:0.0} (Miller 1978)")
            : "logit scale (0.5 added to both cells of a study with 0% or 100%)";
        var model = meta.Model == "random"
            ? $"Random effects, τ² by {(meta.Tau2Method == InverseVariance.Reml ? "REML" : "DerSimonian-Laird")}, prediction interval with t on k − 2 df"
            : "Fixed effect";
        yield return $"{model}; inverse-variance weights on the {scale}. Study intervals: Clopper-Pearson exact.";
        if (result.RowsOmitted > 0)
        {
            yield return $"The {Count(result.Rows.Count)} studies with most weight are drawn; {Count(result.RowsOmitted)} more are pooled but not drawn (narrow the filters to see them all).";
        }

        foreach (var note in overall.Notes)
        {
            yield return note;
        }
    }

    private static string HeterogeneityInWords(PooledEstimate estimate, bool random)
    {
        if (estimate.Heterogeneity is not { } h)
        {
            return "Heterogeneity: not estimable from one study";
        }

        var tau2 = random && h.Tau2 is { } t ? string.Create(CultureInfo.InvariantCulture, $", τ² = {t:0.0000}") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"Heterogeneity: {h.Words} (I² = {h.I2:0}%{tau2}, Q = {h.Q:0.00} on {h.Df} df, {PValue(h.P)})");
    }

    private static double X(double proportion) => AxisLeft + (Math.Clamp(proportion, 0, 1) * (AxisRight - AxisLeft));

    private static XElement Line(double x1, double y1, double x2, double y2, string stroke, double width, bool dashed = false, string? cssClass = null) =>
        new(Svg + "line",
            cssClass is null ? null : new XAttribute("class", cssClass),
            new XAttribute("x1", F(x1)), new XAttribute("y1", F(y1)), new XAttribute("x2", F(x2)), new XAttribute("y2", F(y2)),
            new XAttribute("stroke", stroke), new XAttribute("stroke-width", F(width)),
            dashed ? new XAttribute("stroke-dasharray", "4 3") : null);

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string P(double proportion) => proportion.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Percent(double percent) => percent.ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string Count(int count) => count.ToString("#,0", CultureInfo.InvariantCulture);

    private static string Plural(int count, string one, string many) => $"{Count(count)} {(count == 1 ? one : many)}";

    private static string PValue(double p) => p switch
    {
        < 0.001 => "p < 0.001",
        < 0.01 => string.Create(CultureInfo.InvariantCulture, $"p = {p:0.000}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"p = {p:0.00}"),
    };

    private static string Truncate(string text, int characters) => text.Length <= characters ? text : text[..(characters - 1)] + "…";

    /// <summary>"umbilical_cord" → "Umbilical cord", "adipose+umbilical_cord" → "Adipose + umbilical cord", "cellSource" → "Cell source".</summary>
    internal static string Humanise(string code)
    {
        var words = code switch
        {
            "rct" => "RCT",
            "cellSource" => "cell source",
            _ => code.Replace("+", " + ", StringComparison.Ordinal).Replace('_', ' '),
        };
        return words.Length == 0 ? words : char.ToUpperInvariant(words[0]) + words[1..];
    }

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }

            line.Append(line.Length > 0 ? " " : "").Append(word);
        }

        if (line.Length > 0)
        {
            yield return line.ToString();
        }
    }
}
