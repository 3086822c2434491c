"""Small, exact statistics for comparisons over the same images (NumPy only).

- `wilson`: 95% interval of a proportion (k of n).
- `mcnemar_exact`: two-sided exact McNemar test of paired binary outcomes (the same images
  scored by two pipelines): under the null the discordant pairs split as Binomial(b + c, 1/2).
- `bootstrap_mean`: percentile interval of a mean over images, resampling images.
- `paired_difference`: mean of a paired per-image difference with its bootstrap interval.
- `t_quantile`, `t_interval`: Student's t quantile and the t-based interval of a mean
  (training runs over seeds).
- `crossed_difference`: a training-time difference measured over seeds x test images, with
  both sources of noise (which seed trained the model, which images were drawn).
- `paired_over_seeds`: an evaluation-time difference (one trained model per seed served
  two ways on the same images): per-seed McNemar tests and a bootstrap interval that
  resamples the images jointly for every seed.
"""

import math

import numpy as np

Z95 = 1.959963984540054


def wilson(k, n, z=Z95):
    """(estimate, low, high) of the proportion k / n; (nan, nan, nan) for n = 0."""
    if n == 0:
        return (math.nan, math.nan, math.nan)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (p, max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def _binomial_cdf_half(k, n):
    """P(X <= k) for X ~ Binomial(n, 1/2), exact in log space."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2)
            for i in range(k + 1)]
    top = max(logs)
    return min(1.0, math.exp(top) * sum(math.exp(v - top) for v in logs))


def mcnemar_exact(b, c):
    """Two-sided exact McNemar p-value from the discordant counts: b pairs where only the
    first pipeline is right, c where only the second is. 1.0 when b = c = 0."""
    n = b + c
    if n == 0:
        return 1.0
    return min(1.0, 2.0 * _binomial_cdf_half(min(b, c), n))


def bootstrap_mean(values, resamples=2000, seed=0):
    """(mean, low, high): the 2.5 and 97.5 percentiles of the mean over resampled images."""
    values = np.asarray(values, np.float64)
    if values.size == 0:
        return (math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, values.size, (resamples, values.size))
    means = values[index].mean(axis=1)
    return (float(values.mean()), float(np.percentile(means, 2.5)),
            float(np.percentile(means, 97.5)))


def paired_difference(a, b, resamples=2000, seed=0):
    """(mean of b - a, low, high) over the same images, bootstrap percentile interval."""
    return bootstrap_mean(np.asarray(b, np.float64) - np.asarray(a, np.float64),
                          resamples, seed)


def _betacf(a, b, x):
    """Continued fraction of the regularized incomplete beta (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _betainc(a, b, x):
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t, df):
    """P(T <= t) for Student's t with `df` (> 0, may be fractional) degrees of freedom."""
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p, df):
    """The `p` quantile of Student's t (bisection on `t_cdf`, to 1e-10)."""
    if not 0.0 < p < 1.0 or not df > 0:
        raise ValueError(f"t_quantile needs 0 < p < 1 and df > 0; got p={p}, df={df}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    while hi - lo > 1e-10 * max(1.0, hi):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if t_cdf(mid, df) < p else (lo, mid)
    return 0.5 * (lo + hi)


def t_interval(values, level=0.95):
    """(mean, low, high, sd): t-based interval of the mean of independent runs.
    One value: (value, nan, nan, nan)."""
    values = np.asarray(values, np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return (mean, math.nan, math.nan, math.nan)
    sd = float(values.std(ddof=1))
    half = t_quantile(0.5 + level / 2, values.size - 1) * sd / math.sqrt(values.size)
    return (mean, mean - half, mean + half, sd)


def crossed_difference(a, b, level=0.95):
    """Difference of two training configurations, `b - a`, each a (seeds, images) array
    of per-image scores (1 = correct) of the model trained with that seed.

    Seeds pair the runs (same initialisation and data order), images pair the scores.
    The standard error has a seed part (spread of the per-seed mean differences) and an
    image part (spread of the per-image differences averaged over seeds), and the
    interval uses Student's t with Welch-Satterthwaite degrees of freedom. Returns
    dict(mean, low, high, se, df); low/high are nan with a single seed."""
    d = np.asarray(b, np.float64) - np.asarray(a, np.float64)
    if d.ndim != 2 or d.size == 0:
        raise ValueError(f"crossed_difference needs (seeds, images) arrays; got {d.shape}")
    seeds, images = d.shape
    mean = float(d.mean())
    if seeds < 2 or images < 2:
        return dict(mean=mean, low=math.nan, high=math.nan, se=math.nan, df=math.nan)
    v_seed = float(d.mean(axis=1).var(ddof=1)) / seeds
    v_image = float(d.mean(axis=0).var(ddof=1)) / images
    se = math.sqrt(v_seed + v_image)
    if se == 0.0:
        return dict(mean=mean, low=mean, high=mean, se=0.0, df=math.inf)
    df = (v_seed + v_image) ** 2 / (v_seed ** 2 / (seeds - 1) + v_image ** 2 / (images - 1))
    half = t_quantile(0.5 + level / 2, df) * se
    return dict(mean=mean, low=mean - half, high=mean + half, se=se, df=df)


def paired_over_seeds(a, b, resamples=2000, seed=0):
    """Evaluation-time difference `b - a`: per seed, the same trained model scored on the
    same images two ways; `a`, `b` are (seeds, images) arrays of 1 = correct.

    Returns dict(mean, low, high, per_seed): the mean over seeds of the accuracy
    difference with a percentile interval from resampling the images (the same draw for
    every seed, so their dependence is kept), and per seed its difference, discordant
    counts b (only `a` right) and c (only `b` right) and exact McNemar p-value."""
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    if a.shape != b.shape or a.ndim != 2 or a.size == 0:
        raise ValueError(f"paired_over_seeds needs two equal (seeds, images) arrays; got "
                         f"{a.shape} and {b.shape}")
    d = b.astype(np.float64) - a.astype(np.float64)
    # Averaged over seeds first: resampling these per-image values resamples the same
    # images for every seed.
    mean, low, high = bootstrap_mean(d.mean(axis=0), resamples, seed)
    per_seed = []
    for s in range(d.shape[0]):
        only_a = int(np.sum(a[s] & ~b[s]))
        only_b = int(np.sum(b[s] & ~a[s]))
        per_seed.append(dict(difference=float(d[s].mean()), b=only_a, c=only_b,
                             p=mcnemar_exact(only_a, only_b)))
    return dict(mean=mean, low=low, high=high, per_seed=per_seed)
