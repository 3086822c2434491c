"""Small, exact statistics for comparisons over the same images (NumPy only).

- `wilson`: 95% interval of a proportion (k of n).
- `mcnemar_exact`: two-sided exact McNemar test of paired binary outcomes (the same images
  scored by two pipelines): under the null the discordant pairs split as Binomial(b + c, 1/2).
- `bootstrap_mean`: percentile interval of a mean over images, resampling images.
- `paired_difference`: mean of a paired per-image difference with its bootstrap interval.
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
