#!/usr/bin/env python3
"""Reference values for the meta-analysis of proportions, computed independently of the API.

Plain Python 3 with the standard library only (math, statistics): no R here, no packages. Written apart from the C#
code on purpose and by other routes where there is a choice:
  - chi-square and t distributions from the regularized incomplete gamma and beta functions (series and continued
    fractions), where the API uses MathNet.Numerics;
  - REML tau^2 as the root of the REML estimating equation, found by bisection, where the API iterates Fisher scoring;
  - the Freeman-Tukey back-transformation written from Miller (1978) on the full (unhalved) double arcsine scale.

Before printing anything it checks itself against published numbers (see PUBLISHED below) and stops if one differs by
more than 0.00005. Run: python3 metaprop_reference.py. Its output is pasted into MetaAnalysisReferenceTests.cs and
SynthesisMetaAnalysisTests.cs, which say which line each value came from.
"""
import math
from statistics import NormalDist

Z = NormalDist().inv_cdf(0.975)


# --- distributions -----------------------------------------------------------------------------------------------
def _gamma_q(a, x):
    """Regularized upper incomplete gamma Q(a, x)."""
    if x <= 0:
        return 1.0
    if x < a + 1:  # series for P, then Q = 1 - P
        term = total = 1.0 / a
        k = a
        for _ in range(10000):
            k += 1
            term *= x / k
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return 1.0 - total * math.exp(-x + a * math.log(x) - math.lgamma(a))
    # Lentz's continued fraction for Q
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi2_sf(q, df):
    return _gamma_q(df / 2, q / 2)


def _beta_cf(a, b, x):
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (tiny if abs(d) < tiny else d)
    h = d
    for m in range(1, 10000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
        d = 1 + aa * d
        d = 1 / (tiny if abs(d) < tiny else d)
        c = 1 + aa / c
        c = tiny if abs(c) < tiny else c
        h *= d * c
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
        d = 1 + aa * d
        d = 1 / (tiny if abs(d) < tiny else d)
        c = 1 + aa / c
        c = tiny if abs(c) < tiny else c
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return h


def _beta_inc(a, b, x):
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_cf(a, b, x) / a
    return 1 - front * _beta_cf(b, a, 1 - x) / b


def t_cdf(t, df):
    tail = 0.5 * _beta_inc(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t > 0 else tail


def t_quantile(p, df):
    lo, hi = 0.0, 1000.0
    for _ in range(200):  # bisection: slow and sure
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# --- transformations ---------------------------------------------------------------------------------------------
def freeman_tukey(x, n):
    """Half the double arcsine (metafor's PFT scale) and its variance 1/(4n+2)."""
    y = 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))
    return y, 1 / (4 * n + 2)


def freeman_tukey_inverse(y, n):
    """Miller (1978), written for the full double arcsine t = 2y; 0 or 1 beyond the values of 0/n and n/n."""
    t = 2 * y
    if y <= freeman_tukey(0, n)[0]:
        return 0.0
    if y >= freeman_tukey(n, n)[0]:
        return 1.0
    s = math.sin(t)
    inner = 1 - (s + (s - 1 / s) / n) ** 2
    return 0.5 * (1 - math.copysign(1, math.cos(t)) * math.sqrt(inner))


def logit(x, n):
    """Log odds; 0.5 added to responders and non-responders of a study with 0/n or n/n only."""
    c = 0.5 if x == 0 or x == n else 0.0
    return math.log((x + c) / (n - x + c)), 1 / (x + c) + 1 / (n - x + c)


def expit(y):
    return 1 / (1 + math.exp(-y))


# --- pooling -----------------------------------------------------------------------------------------------------
def fixed(ys, vs):
    w = [1 / v for v in vs]
    sw = sum(w)
    mu = sum(wi * yi for wi, yi in zip(w, ys)) / sw
    q = sum(wi * (yi - mu) ** 2 for wi, yi in zip(w, ys))
    return mu, math.sqrt(1 / sw), q, w


def tau2_dl(ys, vs):
    _, _, q, w = fixed(ys, vs)
    sw = sum(w)
    return max(0.0, (q - (len(ys) - 1)) / (sw - sum(wi * wi for wi in w) / sw))


def tau2_reml(ys, vs):
    """Root of sum w^2 (y - mu)^2 = sum w - sum w^2 / sum w, with w = 1/(v + tau^2); 0 if it lies below 0."""
    def g(t2):
        w = [1 / (v + t2) for v in vs]
        sw = sum(w)
        mu = sum(wi * yi for wi, yi in zip(w, ys)) / sw
        return sum(wi * wi * (yi - mu) ** 2 for wi, yi in zip(w, ys)) - (sw - sum(wi * wi for wi in w) / sw)

    if g(0.0) <= 0:
        return 0.0
    hi = 1.0
    while g(hi) > 0:
        hi *= 2
    lo = 0.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if g(mid) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def analyse(counts, transform="ft", model="random", tau2_method="dl"):
    k = len(counts)
    ys, vs = zip(*[(freeman_tukey if transform == "ft" else logit)(x, n) for x, n in counts])
    mu_f, se_f, q, _ = fixed(ys, vs)
    tau2 = 0.0
    if model == "random" and k >= 2:
        tau2 = tau2_dl(ys, vs) if tau2_method == "dl" else tau2_reml(ys, vs)
    w = [1 / (v + tau2) for v in vs]
    sw = sum(w)
    mu = sum(wi * yi for wi, yi in zip(w, ys)) / sw
    se = math.sqrt(1 / sw)
    hm = k / sum(1 / n for _, n in counts)

    def back(value):
        return freeman_tukey_inverse(value, hm) if transform == "ft" else expit(value)

    out = {
        "k": k, "estimate": mu, "se": se, "tau2": tau2, "q": q, "df": k - 1,
        "p_q": chi2_sf(q, k - 1) if k >= 2 else None,
        "i2": max(0.0, (q - (k - 1)) / q) * 100 if k >= 2 and q > 0 else 0.0,
        "proportion": back(mu), "ci": (back(mu - Z * se), back(mu + Z * se)),
        "weights": [100 * wi / sw for wi in w], "harmonic_n": hm,
    }
    if model == "random" and k >= 3:
        half = t_quantile(0.975, k - 2) * math.sqrt(tau2 + se * se)
        out["pi"] = (back(mu - half), back(mu + half))
    return out


def subgroups(groups, transform="ft", model="random", tau2_method="dl"):
    fits = {name: analyse(counts, transform, model, tau2_method) for name, counts in groups.items()}
    w = {name: 1 / f["se"] ** 2 for name, f in fits.items()}
    mean = sum(w[g] * fits[g]["estimate"] for g in fits) / sum(w.values())
    q_between = sum(w[g] * (fits[g]["estimate"] - mean) ** 2 for g in fits)
    return fits, q_between, len(fits) - 1, chi2_sf(q_between, len(fits) - 1)


# --- published values this script must reproduce ------------------------------------------------------------------
def check(label, value, expected, tolerance=0.00005):
    if abs(value - expected) > tolerance:
        raise SystemExit(f"{label}: {value:.6f} differs from the published {expected}")


def log_rr(tpos, tneg, cpos, cneg):
    return math.log((tpos / (tpos + tneg)) / (cpos / (cpos + cneg))), 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)


BCG = [(4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619), (33, 5036, 47, 5761),
       (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892), (29, 7470, 45, 7232),
       (17, 1699, 65, 1600), (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825)]


def published_checks():
    # metafor test suite, test_analysis_example_miller1978.r: Miller (1978) p. 138, and proportions of 0 and 1.
    miller = [(3, 11), (6, 17), (10, 21), (1, 6)]
    check("Miller 1978 2*yi study 1", 2 * freeman_tukey(3, 11)[0], 1.1391, 0.00005)
    check("Miller 1978 fixed, back-transformed", analyse(miller, model="fixed")["proportion"], 0.3595)
    check("Miller 1978 fixed, 2*estimate", 2 * analyse(miller, model="fixed")["estimate"], 1.3093)
    edges = [(0, 10), (4, 10), (9, 15), (16, 20), (20, 20)]
    fe = analyse(edges, model="fixed")
    check("0 and 1 fixed", fe["proportion"], 0.6886)
    check("0 and 1 fixed lower", fe["ci"][0], 0.5734)
    check("0 and 1 fixed upper", fe["ci"][1], 0.7943)
    for x, n in edges:
        check(f"ipft({x}/{n})", freeman_tukey_inverse(freeman_tukey(x, n)[0], n), x / n, 1e-9)
    # Viechtbauer on R-help, 16 Dec 2010 (escalc PFT and a fixed-effects model on 0/10, 1/10, 12/20, 38/40, 40/40).
    rhelp = [(0, 10), (1, 10), (12, 20), (38, 40), (40, 40)]
    for (x, n), yi in zip(rhelp, [0.1531387, 0.3733940, 0.8813361, 1.3224900, 1.4923885]):
        check(f"R-help yi {x}/{n}", freeman_tukey(x, n)[0], yi, 5e-7)
    fe = analyse(rhelp, model="fixed")
    check("R-help Q", fe["q"], 96.4471)
    check("R-help estimate", fe["estimate"], 1.1233)
    check("R-help se", fe["se"], 0.0452)
    # BCG vaccine trials (dat.bcg), log risk ratios: metafor's documentation and test suite (against Stata metan).
    ys, vs = zip(*[log_rr(*t) for t in BCG])
    mu, se, q, _ = fixed(ys, vs)
    check("BCG fixed", mu, -0.4303)
    check("BCG Q", q, 152.2330)
    t2 = tau2_dl(ys, vs)
    w = [1 / (v + t2) for v in vs]
    mu = sum(a * b for a, b in zip(w, ys)) / sum(w)
    check("BCG DL tau2", t2, 0.3088)
    check("BCG DL estimate", mu, -0.7141)
    check("BCG DL lower", mu - Z * math.sqrt(1 / sum(w)), -1.0644)
    check("BCG I2", (q - 12) / q * 100, 92.1173)
    t2 = tau2_reml(ys, vs)
    w = [1 / (v + t2) for v in vs]
    check("BCG REML tau2", t2, 0.3132)
    check("BCG REML estimate", sum(a * b for a, b in zip(w, ys)) / sum(w), -0.7145)
    check("BCG REML se", math.sqrt(1 / sum(w)), 0.1798)
    # t quantiles (printed tables): t(0.975; 1) = 12.7062, t(0.975; 3) = 3.1824, t(0.975; 10) = 2.2281.
    for df, value in [(1, 12.7062), (3, 3.1824), (10, 2.2281)]:
        check(f"t quantile {df}", t_quantile(0.975, df), value)
    check("chi2 sf", chi2_sf(3.841459, 1), 0.05, 1e-6)


# --- the data sets the tests use ----------------------------------------------------------------------------------
DATA = {
    # 0/10 and 20/20 among them: the metafor test data of proportions 0 and 1.
    "D1": [(0, 10), (4, 10), (9, 15), (16, 20), (20, 20)],
    # Miller (1978).
    "D2": [(3, 11), (6, 17), (10, 21), (1, 6)],
    # Two studies: heterogeneity but no prediction interval.
    "D5": [(5, 10), (8, 12)],
    # One study.
    "D6": [(7, 9)],
}

# Subgroups by cell source; 9/14 is a study with adipose and umbilical-cord arms whose outcome is not tied to either.
D3 = {
    "adipose": [(3, 12), (5, 10), (2, 9)],
    "adipose+umbilical_cord": [(9, 14)],
    "bone_marrow": [(6, 8)],
    "umbilical_cord": [(12, 20), (20, 22), (5, 15), (18, 25)],
}


def show(name, r):
    def f(v):
        return "null" if v is None else f"{v:.6f}"
    parts = [f"k={r['k']}", f"estimate={f(r['estimate'])}", f"se={f(r['se'])}", f"tau2={f(r['tau2'])}",
             f"Q={f(r['q'])}", f"p={f(r['p_q'])}", f"I2={f(r['i2'])}", f"proportion={f(r['proportion'])}",
             f"ci=[{f(r['ci'][0])}, {f(r['ci'][1])}]"]
    if "pi" in r:
        parts.append(f"pi=[{f(r['pi'][0])}, {f(r['pi'][1])}]")
    parts.append("weights=[" + ", ".join(f"{w:.4f}" for w in r["weights"]) + "]")
    print(f"{name}: " + " ".join(parts))


if __name__ == "__main__":
    published_checks()
    print("published values reproduced")
    for name, counts in DATA.items():
        for transform, model, tau2_method in [("ft", "random", "dl"), ("ft", "random", "reml"), ("ft", "fixed", "dl"),
                                               ("logit", "random", "dl"), ("logit", "random", "reml")]:
            show(f"{name} {transform} {model}{'' if model == 'fixed' else ' ' + tau2_method}",
                 analyse(counts, transform, model, tau2_method))
    everything = [c for counts in D3.values() for c in counts]
    show("D3 all ft random dl", analyse(everything))
    show("D3 all ft random reml", analyse(everything, tau2_method="reml"))
    show("D3 all ft fixed", analyse(everything, model="fixed"))
    for model in ["random", "fixed"]:
        fits, qb, df, p = subgroups(D3, model=model)
        for group, fit in fits.items():
            show(f"D3 {group} ft {model} dl", fit)
        print(f"D3 subgroup differences ft {model} dl: Q={qb:.6f} df={df} p={p:.6f}")
