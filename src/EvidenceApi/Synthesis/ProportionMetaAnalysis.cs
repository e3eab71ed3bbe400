using System.Globalization;

namespace EvidenceApi.Synthesis;

/// <summary>One study's count for the meta-analysis.</summary>
/// <param name="Responders">Responders (x).</param>
/// <param name="Assessed">Patients assessed (n, at least 1).</param>
/// <param name="Subgroup">Its subgroup, when subgroups are asked for.</param>
public readonly record struct StudyCount(int Responders, int Assessed, string? Subgroup = null);

/// <summary>What to compute: model (random or fixed), scale, τ² estimator and subgroup variable.</summary>
public sealed record MetaOptions(string Model, string Transform, string Tau2Method, string? By)
{
    public static MetaOptions From(SynthesisQuery query) => new(
        query.Model ?? "random",
        query.Transform ?? ProportionScale.FreemanTukey,
        query.Model == "fixed" ? InverseVariance.DerSimonianLaird : query.Tau2 ?? InverseVariance.DerSimonianLaird,
        query.By);

    public bool Random => Model == "random";
}

/// <summary>The per-study weights (percent) behind a meta-analysis, in the order of its input.</summary>
/// <param name="Overall">Each study's weight in the overall estimate.</param>
/// <param name="InSubgroup">Each study's weight in its subgroup's estimate; null without subgroups.</param>
public sealed record StudyWeights(double[] Overall, double[]? InSubgroup);

/// <summary>Inverse-variance meta-analysis of single proportions, overall and by subgroup.</summary>
public static class ProportionMetaAnalysis
{
    public static (MetaAnalysis Result, StudyWeights Weights) Analyse(IReadOnlyList<StudyCount> studies, MetaOptions options)
    {
        var (overall, weights) = Pool(studies, options, subgroup: null, out _);
        if (options.By is null)
        {
            return (Build(options, overall, null, null), new StudyWeights(weights, null));
        }

        var inSubgroup = new double[studies.Count];
        var subgroups = new List<PooledEstimate>();
        var fits = new List<PooledFit>();
        var groups = Enumerable.Range(0, studies.Count)
            .GroupBy(i => studies[i].Subgroup ?? "none", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var members = group.ToList();
            var (estimate, groupWeights) = Pool(members.Select(i => studies[i]).ToList(), options, group.Key, out var fit);
            for (var j = 0; j < members.Count; j++)
            {
                inSubgroup[members[j]] = groupWeights[j];
            }

            subgroups.Add(estimate with { Weight = members.Sum(i => weights[i]) });
            fits.Add(fit!);
        }

        SubgroupDifferences? differences = null;
        if (fits.Count >= 2)
        {
            var (q, df, p) = InverseVariance.SubgroupDifferences(fits);
            differences = new SubgroupDifferences(q, df, p);
        }

        return (Build(options, overall, subgroups, differences), new StudyWeights(weights, inSubgroup));
    }

    /// <summary>I² in words, after Higgins et al. (2003): 25 %, 50 % and 75 % as low, moderate and high.</summary>
    public static string Describe(double i2) => i2 switch
    {
        < 25 => "little",
        < 50 => "low",
        < 75 => "moderate",
        _ => "high",
    };

    private static (PooledEstimate Estimate, double[] Weights) Pool(IReadOnlyList<StudyCount> studies, MetaOptions options, string? subgroup, out PooledFit? fit)
    {
        fit = null;
        var k = studies.Count;
        if (k == 0)
        {
            return (new PooledEstimate { Subgroup = subgroup, Notes = ["No study could be pooled."] }, []);
        }

        var values = new double[k];
        var variances = new double[k];
        var corrected = 0;
        double inverseN = 0;
        for (var i = 0; i < k; i++)
        {
            (values[i], variances[i]) = ProportionScale.Transform(options.Transform, studies[i].Responders, studies[i].Assessed);
            corrected += ProportionScale.NeedsCorrection(options.Transform, studies[i].Responders, studies[i].Assessed) ? 1 : 0;
            inverseN += 1.0 / studies[i].Assessed;
        }

        fit = options.Random ? InverseVariance.Random(values, variances, options.Tau2Method) : InverseVariance.Fixed(values, variances);
        var harmonicMeanN = k / inverseN;
        var freemanTukey = options.Transform == ProportionScale.FreemanTukey;
        Interval Back((double Lower, double Upper) bounds) => new(
            ProportionScale.BackTransform(options.Transform, bounds.Lower, harmonicMeanN),
            ProportionScale.BackTransform(options.Transform, bounds.Upper, harmonicMeanN));

        var notes = new List<string>();
        if (k == 1)
        {
            notes.Add("One study: its own proportion. Heterogeneity (τ², Q, I²) needs at least two studies, a prediction interval three.");
        }
        else if (options.Random && k == 2)
        {
            notes.Add("Two studies: a prediction interval needs at least three (t with k − 2 degrees of freedom).");
        }

        if (!options.Random && k >= 2)
        {
            notes.Add("Fixed effect: one true proportion is assumed for every study, so there is no τ² and no prediction interval.");
        }

        if (!fit.Converged)
        {
            notes.Add($"REML did not converge in {InverseVariance.RemlMaxIterations} Fisher scoring steps; the DerSimonian-Laird τ² was used.");
        }

        if (corrected > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{corrected} {(corrected == 1 ? "study" : "studies")} with 0 % or 100 % responders: 0.5 added to responders and non-responders of {(corrected == 1 ? "that study" : "those studies")} only (logit)."));
        }

        var random = options.Random && k >= 2;
        var estimate = new PooledEstimate
        {
            Subgroup = subgroup,
            Studies = k,
            Patients = studies.Sum(s => s.Assessed),
            Responders = studies.Sum(s => s.Responders),
            Proportion = ProportionScale.BackTransform(options.Transform, fit.Estimate, harmonicMeanN),
            Interval = Back(fit.ConfidenceInterval),
            PredictionInterval = random && fit.PredictionInterval is { } prediction ? Back(prediction) : null,
            Estimate = fit.Estimate,
            StandardError = fit.StandardError,
            HarmonicMeanN = freemanTukey ? harmonicMeanN : null,
            Heterogeneity = k < 2 ? null : new Heterogeneity(
                fit.Q, fit.Df, fit.P ?? 1, fit.I2,
                random ? fit.Tau2 : null,
                random ? Math.Sqrt(fit.Tau2) : null,
                Describe(fit.I2),
                random ? fit.Iterations : null),
            Notes = notes,
        };
        return (estimate, fit.Weights);
    }

    private static MetaAnalysis Build(MetaOptions options, PooledEstimate overall, IReadOnlyList<PooledEstimate>? subgroups, SubgroupDifferences? differences) => new()
    {
        Model = options.Model,
        Transform = options.Transform,
        Tau2Method = options.Random ? options.Tau2Method : null,
        By = options.By,
        Overall = overall,
        Subgroups = subgroups,
        SubgroupDifferences = differences,
        Method = Method(options),
    };

    private static string Method(MetaOptions options)
    {
        var scale = options.Transform == ProportionScale.FreemanTukey
            ? "Freeman-Tukey double arcsine, ½[asin √(x/(n+1)) + asin √((x+1)/(n+1))] with variance 1/(4n+2); pooled values and " +
              "interval bounds back-transformed with Miller's (1978) inversion at the harmonic mean of the pooled studies' sizes " +
              "(as metafor's transf.ipft.hm and Barendregt et al. 2013 do)"
            : "logit, ln(x/(n−x)) with variance 1/x + 1/(n−x); a study with 0 % or 100 % responders gets 0.5 added to its " +
              "responders and non-responders (that study only, as metafor's default add=1/2, to=\"only0\")";
        var model = options.Random
            ? "Random effects, inverse-variance weights 1/(v + τ²), τ² by " + (options.Tau2Method == InverseVariance.Reml
                ? "restricted maximum likelihood (Fisher scoring from the DerSimonian-Laird value until a step changes τ² by less than 1e-10, at most 100 steps)"
                : "DerSimonian and Laird (1986)") +
              "; 95 % prediction interval after Higgins, Thompson and Spiegelhalter (2009), estimate ± t(0.975; k−2)·√(τ² + SE²), with three studies or more"
            : "Fixed effect (common effect), inverse-variance weights 1/v";
        var subgroups = options.By is null ? "" :
            $" Subgroups by {options.By}: each pooled on its own (own τ² under random effects); test for subgroup differences " +
            "Q = Σ W_g(μ_g − μ̄)² with W_g = 1/SE_g² on (subgroups − 1) degrees of freedom. A study counts once: under the value " +
            "of the intervention its outcome belongs to or, for an outcome not tied to one intervention of a study whose " +
            "interventions differ, under their combination (values joined with +); studies without interventions under none.";
        return $"{model}. Scale: {scale}. 95 % confidence interval: estimate ± 1.96·SE on that scale, back-transformed. " +
               "Heterogeneity: Cochran's Q with fixed-effect weights and its chi-square p-value, I² = (Q − df)/Q (Higgins and " +
               "Thompson 2002). Each study's interval in the rows is Clopper-Pearson exact; its weight is its share of the overall " +
               $"estimate.{subgroups} The rows pooled are those of the simple pooling above (one per study).";
    }
}
