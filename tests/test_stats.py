"""The accuracy study's statistics (`audit/stats.py`) on cases computed by hand.

Wilson, McNemar and the bootstrap of the audit are in test_audit.py."""

import math

import numpy as np
import pytest

from keras_resize_layers.audit import stats


@pytest.mark.parametrize("df, expected", [
    (1, 12.706204736174707), (2, 4.302652729911275), (4, 2.7764451051977987),
    (10, 2.2281388519649385), (30, 2.0422724563012373)])
def test_t_quantile_matches_the_table(df, expected):
    # Values of Student's t 0.975 quantile (tables; scipy.stats.t.ppf agrees).
    assert stats.t_quantile(0.975, df) == pytest.approx(expected, rel=1e-8)
    assert stats.t_quantile(0.025, df) == pytest.approx(-expected, rel=1e-8)


def test_t_cdf_closed_forms():
    # df = 1 is Cauchy: F(t) = 1/2 + atan(t)/pi; df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2)).
    for t in (-3.0, -0.5, 0.0, 0.7, 5.0):
        assert stats.t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)
        assert stats.t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)),
                                                  abs=1e-12)
    assert stats.t_quantile(0.975, 1e6) == pytest.approx(stats.Z95, abs=1e-5)
    with pytest.raises(ValueError, match="0 < p < 1"):
        stats.t_quantile(1.0, 3)


def test_t_interval_by_hand():
    # mean 0.72, sd 0.02, n 3: half width = t(0.975, 2) * 0.02 / sqrt(3) = 0.0496827.
    mean, low, high, sd = stats.t_interval([0.70, 0.72, 0.74])
    assert (mean, sd) == (pytest.approx(0.72), pytest.approx(0.02))
    assert low == pytest.approx(0.72 - 0.0496827, abs=1e-6)
    assert high == pytest.approx(0.72 + 0.0496827, abs=1e-6)
    assert math.isnan(stats.t_interval([0.5])[1])


def test_crossed_difference_by_hand():
    a = np.zeros((2, 4))
    b = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], float)
    r = stats.crossed_difference(a, b)
    # Seed means 0.5, 0.25: variance 0.03125, over 2 seeds 0.015625.
    # Image means 1, 0.5, 0, 0 (mean 0.375): variance 0.6875 / 3, over 4 images 0.0572917.
    v_seed, v_image = 0.015625, 0.6875 / 3 / 4
    assert r["mean"] == pytest.approx(0.375)
    assert r["se"] == pytest.approx(math.sqrt(v_seed + v_image))
    df = (v_seed + v_image) ** 2 / (v_seed ** 2 / 1 + v_image ** 2 / 3)
    assert r["df"] == pytest.approx(df) and r["df"] == pytest.approx(3.97297, abs=1e-4)
    half = stats.t_quantile(0.975, df) * math.sqrt(v_seed + v_image)
    assert (r["low"], r["high"]) == (pytest.approx(0.375 - half), pytest.approx(0.375 + half))
    assert half == pytest.approx(0.7517, abs=1e-3)  # t(0.975, 3.973) = 2.7839
    # Identical configurations: zero difference, zero width; one seed: no interval.
    same = stats.crossed_difference(b, b)
    assert (same["mean"], same["low"], same["high"]) == (0.0, 0.0, 0.0)
    assert math.isnan(stats.crossed_difference(a[:1], b[:1])["low"])
    with pytest.raises(ValueError, match="seeds, images"):
        stats.crossed_difference(np.zeros(3), np.ones(3))


def test_crossed_difference_counts_the_test_set_noise():
    # Seeds that agree exactly leave only the images' sampling error: a 5-point gain on
    # 400 images (20 more right, none fewer) is not an exact, zero-width certainty.
    a = np.zeros((3, 400))
    b = a.copy()
    b[:, :20] = 1
    r = stats.crossed_difference(a, b)
    assert r["mean"] == pytest.approx(0.05)
    se_images = math.sqrt(0.05 * 0.95 * 400 / 399 / 400)  # sd of the 0/1 diffs / sqrt(N)
    assert r["se"] == pytest.approx(se_images)
    assert r["low"] > 0 and r["high"] - r["low"] == pytest.approx(
        2 * stats.t_quantile(0.975, 399) * se_images)


def test_paired_over_seeds_by_hand():
    a = np.array([[1, 1, 0, 0, 1], [1, 0, 1, 0, 1]], bool)
    b = np.array([[1, 0, 1, 1, 1], [0, 0, 1, 1, 1]], bool)
    r = stats.paired_over_seeds(a, b)
    # Seed 0: only a right on image 1 (b=1), only b on images 2, 3 (c=2): +1/5;
    # p = 2 P(X <= 1 | n=3) = 2 * 4/8 = 1. Seed 1: b = c = 1: difference 0, p = 1.
    assert [(s["b"], s["c"]) for s in r["per_seed"]] == [(1, 2), (1, 1)]
    assert [s["difference"] for s in r["per_seed"]] == [pytest.approx(0.2), 0.0]
    assert [s["p"] for s in r["per_seed"]] == [1.0, 1.0]
    assert r["mean"] == pytest.approx(0.1) and r["low"] <= 0.1 <= r["high"]
    # The images are resampled jointly: per-image differences averaged over seeds are
    # 0.5 (image 0), -0.5, 0.5, 1, 0, so no resample can leave [-0.5, 1].
    assert -0.5 <= r["low"] and r["high"] <= 1.0
    # Every image one point better under b in every seed: a zero-width interval at +1.
    ones = stats.paired_over_seeds(np.zeros((3, 50), bool), np.ones((3, 50), bool))
    assert (ones["mean"], ones["low"], ones["high"]) == (1.0, 1.0, 1.0)
    assert ones["per_seed"][0]["p"] == pytest.approx(2 / 2 ** 50)
    with pytest.raises(ValueError, match="equal"):
        stats.paired_over_seeds(a, b[:, :3])
