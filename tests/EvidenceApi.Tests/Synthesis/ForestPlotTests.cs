using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Xml.Linq;
using EvidenceApi.Synthesis;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Synthesis;

/// <summary>The forest plot: read back as SVG, and looked at through a headless Chromium.</summary>
public sealed class ForestPlotTests(ForestPlotTests.Api api) : IClassFixture<ForestPlotTests.Api>
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private readonly HttpClient client = api.CreateClient();

    public sealed class Api : EvidenceApiFactory
    {
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await SeedAsync(MetaAnalysisSeeds.Files());
            await SeedAsync(MetaAnalysisSeeds.ManyFiles());
        }
    }

    private static string Query(string condition, string extra = "") =>
        $"?measure=clinical_response&condition={Uri.EscapeDataString(condition)}{extra}";

    private async Task<(string Text, XElement Root)> ForestAsync(string query)
    {
        var response = await client.GetAsync("/v1/synthesis/forest.svg" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
        return (text, XDocument.Parse(text).Root!);
    }

    private async Task<SynthesisResult> JsonAsync(string query) =>
        await (await client.GetAsync("/v1/synthesis" + query)).ShouldBeOkAsync<SynthesisResult>();

    /// <summary>The x of a proportion, read from the axis ticks the plot draws at 0 and 1.</summary>
    private static Func<double, double> AxisOf(XElement root)
    {
        var ticks = root.Descendants(Svg + "line").Where(l => (string?)l.Attribute("class") == "tick")
            .ToDictionary(l => (string)l.Attribute("data-value")!, l => double.Parse((string)l.Attribute("x1")!, CultureInfo.InvariantCulture));
        Assert.Equal(6, ticks.Count);
        return p => ticks["0"] + (p * (ticks["1"] - ticks["0"]));
    }

    private static (double Left, double Middle, double Right, double Y) Diamond(XElement polygon)
    {
        var points = ((string)polygon.Attribute("points")!).Split(' ')
            .Select(p => p.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(4, points.Length);
        return (points[0][0], points[1][0], points[2][0], points[0][1]);
    }

    /// <summary>Coordinates are written with two decimals (a box centre adds two roundings).</summary>
    private static void SameX(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 0.01, $"x: expected {expected}, drawn at {actual}");

    private static string Texts(XElement root) => string.Join("\n", root.Descendants(Svg + "text").Select(t => t.Value));

    [Fact]
    public async Task Forest_DrawsOneRowPerStudyAndTheDiamondAtThePooledEstimate()
    {
        var (_, root) = await ForestAsync(Query(MetaAnalysisSeeds.ZerosAndOnes));
        var json = await JsonAsync(Query(MetaAnalysisSeeds.ZerosAndOnes, "&model=random"));
        var overall = json.MetaAnalysis!.Overall;
        var x = AxisOf(root);

        var studies = root.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "study").ToList();
        Assert.Equal(5, studies.Count);
        foreach (var row in json.Rows)
        {
            var study = Assert.Single(studies, g => g.Element(Svg + "title")!.Value.StartsWith(row.Label + ":", StringComparison.Ordinal));
            var box = study.Element(Svg + "rect")!;
            var centre = double.Parse((string)box.Attribute("x")!, CultureInfo.InvariantCulture) + (double.Parse((string)box.Attribute("width")!, CultureInfo.InvariantCulture) / 2);
            SameX(x(row.Proportion!.Value), centre);
            var line = study.Element(Svg + "line")!;
            SameX(x(row.Interval!.Lower), double.Parse((string)line.Attribute("x1")!, CultureInfo.InvariantCulture));
            SameX(x(row.Interval.Upper), double.Parse((string)line.Attribute("x2")!, CultureInfo.InvariantCulture));
        }

        // Boxes are sized by weight: the heaviest study's box is the largest.
        var heaviest = json.Rows.MaxBy(r => r.Weight)!;
        var sides = studies.ToDictionary(g => g.Element(Svg + "title")!.Value.Split(':')[0], g => double.Parse((string)g.Element(Svg + "rect")!.Attribute("width")!, CultureInfo.InvariantCulture));
        Assert.Equal(sides.Values.Max(), sides[heaviest.Label!]);

        var diamond = Diamond(Assert.Single(root.Descendants(Svg + "polygon"), p => ((string?)p.Attribute("class"))!.Contains("overall", StringComparison.Ordinal)));
        SameX(x(overall.Proportion!.Value), diamond.Middle);
        SameX(x(overall.Interval!.Lower), diamond.Left);
        SameX(x(overall.Interval.Upper), diamond.Right);

        var prediction = Assert.Single(root.Descendants(Svg + "g"), g => (string?)g.Attribute("class") == "prediction");
        SameX(x(overall.PredictionInterval!.Lower), double.Parse((string)prediction.Element(Svg + "line")!.Attribute("x1")!, CultureInfo.InvariantCulture));

        var texts = Texts(root);
        Assert.Contains("Heterogeneity: high (I² = 92%, τ² = 0.2004, Q = 52.67 on 4 df, p < 0.001)", texts, StringComparison.Ordinal);
        Assert.Contains("Random-effects model (5 studies)", texts, StringComparison.Ordinal);
        Assert.Contains("0.58 [0.17; 0.94]", texts, StringComparison.Ordinal);
        Assert.Contains("Beta 2012a", texts, StringComparison.Ordinal);
        Assert.Equal(["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"], root.Descendants(Svg + "text").Select(t => t.Value).Where(v => v.Length == 3 && v[1] == '.'));
    }

    [Fact]
    public async Task Forest_WithSubgroups_DrawsABlockPerSubgroupAndTheTest()
    {
        var (_, root) = await ForestAsync(Query(MetaAnalysisSeeds.Subgroups, "&by=cellSource"));
        var json = await JsonAsync(Query(MetaAnalysisSeeds.Subgroups, "&by=cellSource"));
        var x = AxisOf(root);

        var headers = root.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "subgroup").Select(t => t.Value);
        Assert.Equal(["Cell source: Adipose", "Cell source: Adipose + umbilical cord", "Cell source: Bone marrow", "Cell source: Umbilical cord"], headers);
        var diamonds = root.Descendants(Svg + "polygon").Where(p => ((string?)p.Attribute("class"))!.Contains("subgroup", StringComparison.Ordinal)).Select(Diamond).ToList();
        Assert.Equal(4, diamonds.Count);
        foreach (var (diamond, subgroup) in diamonds.Zip(json.MetaAnalysis!.Subgroups!))
        {
            SameX(x(subgroup.Proportion!.Value), diamond.Middle);
        }

        // Each study sits in its subgroup's block: above its diamond and below its header.
        Assert.Equal(9, root.Descendants(Svg + "g").Count(g => (string?)g.Attribute("class") == "study"));
        Assert.Contains("Test for subgroup differences: Q = 8.30 on 3 df (p = 0.04)", Texts(root), StringComparison.Ordinal);
        Assert.Contains("Heterogeneity: not estimable from one study", Texts(root), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forest_IsPlainAccessibleSvgWithTheSameBytesForTheSameData()
    {
        var (text, root) = await ForestAsync(Query(MetaAnalysisSeeds.Subgroups, "&by=route&tau2=reml"));

        Assert.Equal("img", (string?)root.Attribute("role"));
        Assert.Equal("forest-title forest-desc", (string?)root.Attribute("aria-labelledby"));
        Assert.StartsWith("Forest plot of the proportion of responders", root.Element(Svg + "title")!.Value, StringComparison.Ordinal);
        var description = root.Element(Svg + "desc")!.Value;
        Assert.Contains("9 studies with 135 patients. Pooled random-effects proportion", description, StringComparison.Ordinal);
        Assert.Contains("Heterogeneity: moderate (I² = 72%", description, StringComparison.Ordinal);
        Assert.DoesNotContain(root.DescendantsAndSelf(), e => e.Name.LocalName is "script" or "style" or "foreignObject" or "image");
        Assert.DoesNotContain(root.DescendantsAndSelf().Attributes(), a => a.Name.LocalName.StartsWith("on", StringComparison.OrdinalIgnoreCase) || a.Name.LocalName == "style");
        Assert.DoesNotContain(DateTime.UtcNow.Year.ToString(CultureInfo.InvariantCulture) + "-", text, StringComparison.Ordinal);

        // The same studies asked for another way (the condition is matched case-insensitively, so the read cache cannot
        // answer it) give the same bytes; so does drawing the same answer under a culture with a decimal comma.
        var (again, _) = await ForestAsync(Query(MetaAnalysisSeeds.Subgroups.ToUpperInvariant(), "&by=route&tau2=reml"));
        Assert.Equal(text, again);
        var result = await JsonAsync(Query(MetaAnalysisSeeds.Subgroups, "&by=route&tau2=reml"));
        var invariant = ForestPlot.Render(result);
        var culture = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            Assert.Equal(invariant, ForestPlot.Render(result));
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public async Task AcceptSvg_OnSynthesis_IsTheForestPlotAndIsCachedApartFromJson()
    {
        var url = "/v1/synthesis" + Query(MetaAnalysisSeeds.ZerosAndOnes, "&model=random");
        using var svgRequest = new HttpRequestMessage(HttpMethod.Get, url);
        svgRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("image/svg+xml"));
        var svg = await client.SendAsync(svgRequest);
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await (await client.GetAsync("/v1/synthesis/forest.svg" + Query(MetaAnalysisSeeds.ZerosAndOnes, "&model=random"))).Content.ReadAsStringAsync(),
            await svg.Content.ReadAsStringAsync());
        Assert.Contains("Accept", svg.Headers.Vary);

        // The same URL for JSON, just after the SVG went into the cache: JSON, with an ETag of its own.
        var json = await client.GetAsync(url);
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        Assert.InRange(JsonDocument.Parse(await json.Content.ReadAsStringAsync()).RootElement.GetProperty("metaAnalysis").GetProperty("overall").GetProperty("proportion").GetDouble(), 0.58, 0.59);
        Assert.NotEqual(svg.Headers.ETag, json.Headers.ETag);
        Assert.Contains("Accept", json.Headers.Vary);

        // And the other way round: each representation revalidates against its own tag only.
        using var revalidate = new HttpRequestMessage(HttpMethod.Get, url);
        revalidate.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("image/svg+xml"));
        revalidate.Headers.IfNoneMatch.Add(svg.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(revalidate)).StatusCode);
        using var crossed = new HttpRequestMessage(HttpMethod.Get, url);
        crossed.Headers.IfNoneMatch.Add(svg.Headers.ETag!);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(crossed)).StatusCode);

        // A browser's page (text/html, */*) and curl (*/*) still get JSON; an <img> tag's Accept gets SVG.
        foreach (var (accept, expected) in new[]
        {
            ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"),
            ("*/*", "application/json"),
            ("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "image/svg+xml"),
            ("application/json, image/svg+xml;q=0.5", "application/json"),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.TryAddWithoutValidation("Accept", accept);
            Assert.Equal(expected, (await client.SendAsync(request)).Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Forest_FixedEffect_HasNoPredictionIntervalNorTau2()
    {
        var (_, root) = await ForestAsync(Query(MetaAnalysisSeeds.ZerosAndOnes, "&model=fixed"));
        var texts = Texts(root);
        Assert.Contains("Fixed-effect model (5 studies)", texts, StringComparison.Ordinal);
        Assert.Contains("0.69 [0.57; 0.79]", texts, StringComparison.Ordinal);
        var heterogeneity = Assert.Single(root.Descendants(Svg + "text"), t => (string?)t.Attribute("class") == "heterogeneity").Value;
        Assert.Equal("Heterogeneity: high (I² = 92%, Q = 52.67 on 4 df, p < 0.001)", heterogeneity);
        Assert.Contains("Fixed effect: one true proportion is assumed for every study", texts, StringComparison.Ordinal);
        Assert.DoesNotContain(root.Descendants(Svg + "g"), g => (string?)g.Attribute("class") == "prediction");
    }

    [Fact]
    public async Task Forest_OfMoreStudiesThanItDraws_DrawsThoseWithMostWeightAndSaysHowManyMore()
    {
        var (_, root) = await ForestAsync(Query(MetaAnalysisSeeds.Many));
        var labels = root.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "study")
            .Select(g => g.Element(Svg + "title")!.Value.Split(':')[0]).ToList();
        Assert.Equal(ForestPlot.MaxStudies, labels.Count);
        Assert.DoesNotContain(labels, l => l.StartsWith("Small", StringComparison.Ordinal));
        Assert.Contains("Random-effects model (105 studies)", Texts(root), StringComparison.Ordinal);
        Assert.Contains("The 100 studies with most weight are drawn; 5 more are pooled but not drawn", Texts(root), StringComparison.Ordinal);
        Assert.Contains("5 further studies are pooled but not drawn.", root.Element(Svg + "desc")!.Value, StringComparison.Ordinal);

        // The JSON lists its rows by id as before, with every study's weight.
        var json = await JsonAsync(Query(MetaAnalysisSeeds.Many, "&model=random"));
        Assert.Equal((105, 105, 0), (json.Studies, json.Rows.Count, json.RowsOmitted));
        Assert.All(json.Rows.Where(r => r.Assessed == 2), r => Assert.True(r.Weight < json.Rows.Where(x => x.Assessed == 20).Min(x => x.Weight)));
    }

    [Fact]
    public async Task Forest_WithNothingToPoolOrAnUnknownReview_SaysSo()
    {
        var (_, root) = await ForestAsync("?measure=relapse_free&condition=" + Uri.EscapeDataString(MetaAnalysisSeeds.ZerosAndOnes));
        Assert.Contains("No study could be pooled (5 studies in scope left out).", Texts(root), StringComparison.Ordinal);
        Assert.Equal("No study could be pooled.", root.Element(Svg + "desc")!.Value);

        await (await client.GetAsync("/v1/synthesis/forest.svg?measure=pasi_75&review=no-such-review")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync("/v1/synthesis/forest.svg?measure=pasi_75&route=oral")).ShouldBeFieldErrorAsync("route");
    }

    [Fact]
    public async Task OpenApi_DocumentsTheSvgAnswers()
    {
        var paths = (await (await client.GetAsync("/swagger/v1/swagger.json")).ShouldBeOkAsync<JsonElement>()).GetProperty("paths");
        var forest = paths.GetProperty("/v1/synthesis/forest.svg").GetProperty("get");
        var content = forest.GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.Equal(["image/svg+xml"], content.EnumerateObject().Select(p => p.Name));
        Assert.Equal("string", content.GetProperty("image/svg+xml").GetProperty("schema").GetProperty("type").GetString());
        foreach (var code in new[] { "400", "404", "429" })
        {
            Assert.True(forest.GetProperty("responses").TryGetProperty(code, out _), $"forest.svg does not document {code}");
        }

        var parameters = forest.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Superset(new HashSet<string?> { "measure", "model", "transform", "tau2", "by", "condition", "cellSource" }, parameters.ToHashSet());

        var synthesis = paths.GetProperty("/v1/synthesis").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.Contains("SynthesisResult", synthesis.GetProperty("application/json").GetProperty("schema").GetRawText(), StringComparison.Ordinal);
        Assert.Equal("string", synthesis.GetProperty("image/svg+xml").GetProperty("schema").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Forest_RendersInChromiumAsDrawn()
    {
        var (text, root) = await ForestAsync(Query(MetaAnalysisSeeds.Subgroups, "&by=cellSource"));
        var width = (int)double.Parse((string)root.Attribute("width")!, CultureInfo.InvariantCulture);
        var height = (int)double.Parse((string)root.Attribute("height")!, CultureInfo.InvariantCulture);
        var directory = HeadlessChromium.ArtifactsDirectory;
        var svgFile = Path.Combine(directory, "forest-plot.svg");
        var pngFile = Path.Combine(directory, "forest-plot.png");
        await File.WriteAllTextAsync(svgFile, text);

        await HeadlessChromium.ScreenshotAsync(svgFile, width, height, pngFile);

        var png = Png.Read(await File.ReadAllBytesAsync(pngFile));
        Assert.Equal((width, height), (png.Width, png.Height));
        static bool Close((byte R, byte G, byte B) pixel, (int R, int G, int B) colour) =>
            Math.Abs(pixel.R - colour.R) + Math.Abs(pixel.G - colour.G) + Math.Abs(pixel.B - colour.B) < 30;

        // The overall diamond is drawn where the SVG says, in its colour; so is every study's box.
        var overall = Diamond(root.Descendants(Svg + "polygon").Single(p => ((string?)p.Attribute("class"))!.Contains("overall", StringComparison.Ordinal)));
        Assert.True(Close(png[(int)Math.Round(overall.Middle), (int)Math.Round(overall.Y)], (0x1f, 0x4e, 0x79)),
            $"no diamond colour at ({overall.Middle}, {overall.Y}): {png[(int)Math.Round(overall.Middle), (int)Math.Round(overall.Y)]}");
        foreach (var box in root.Descendants(Svg + "rect").Where(r => (string?)r.Attribute("class") == "box"))
        {
            double At(string name) => double.Parse((string)box.Attribute(name)!, CultureInfo.InvariantCulture);
            var (cx, cy) = ((int)Math.Round(At("x") + (At("width") / 2)), (int)Math.Round(At("y") + (At("height") / 2)));
            Assert.True(Close(png[cx, cy], (0x4a, 0x4a, 0x4a)), $"no box at ({cx}, {cy}): {png[cx, cy]}");
        }

        // Text was drawn (dark pixels in the label column) and the background is white.
        Assert.True(Close(png[width - 3, 3], (255, 255, 255)));
        var dark = 0;
        for (var y = 0; y < height; y++)
        {
            for (var x = 20; x < 200; x++)
            {
                dark += png[x, y].R < 100 ? 1 : 0;
            }
        }

        Assert.InRange(dark, 500, height * 180 / 2);
    }
}
