"""RandomResizedCrop box sampling: ranges, distributions, fallback, fixed uniforms."""

import math

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from keras_resize_layers._core import augment
from keras_resize_layers._core import backend

BK = backend.get("tensorflow")
SCALE, RATIO = (0.08, 1.0), (3 / 4, 4 / 3)


def _boxes(uniforms, h, w, scale=SCALE, ratio=RATIO):
    n = uniforms.shape[0]
    out = augment.random_resized_crop_boxes(
        BK, tf.constant(uniforms, tf.float32), tf.fill([n], h), tf.fill([n], w),
        scale, ratio)
    return {k: v.numpy() for k, v in out.items()}


def test_fixed_uniforms_give_the_hand_computed_box():
    u = np.zeros((1, augment.ATTEMPTS, 4), "float32")
    u[0, 0] = [0.5, 0.5, 0.0, 1.0 - 1e-7]  # area 0.54, ratio 1, top, right-most
    b = _boxes(u, 100, 200)
    side = round(math.sqrt(0.54 * 100 * 200))  # 104 > 100 rows: does not fit
    assert side > 100
    # First candidate does not fit; the second (all zeros) does: area 0.08, ratio 3/4.
    w = round(math.sqrt(0.08 * 20000 * 0.75))
    h = round(math.sqrt(0.08 * 20000 / 0.75))
    assert (b["box_y"][0], b["box_x"][0], b["box_h"][0], b["box_w"][0]) == (0, 0, h, w)


def test_fallback_is_the_centre_crop_clipped_to_ratio():
    u = np.full((1, augment.ATTEMPTS, 4), 0.999, "float32")  # area 1, ratio 4/3: never fits
    b = _boxes(u, 100, 400)  # a 4:1 panorama -> widest allowed box is 100 x 133
    assert (b["box_y"][0], b["box_x"][0], b["box_h"][0], b["box_w"][0]) == (0, 133, 100, 133)
    b = _boxes(u, 90, 100)  # within ratio -> whole image
    assert (b["box_y"][0], b["box_x"][0], b["box_h"][0], b["box_w"][0]) == (0, 0, 90, 100)


def test_ten_thousand_draws_stay_in_scale_and_ratio_and_follow_the_recipe():
    n, h, w = 10000, 480, 640
    u = np.random.default_rng(0).random((n, augment.ATTEMPTS, 4), dtype=np.float32)
    b = _boxes(u, h, w)
    assert (b["box_y"] >= 0).all() and (b["box_x"] >= 0).all()
    assert (b["box_y"] + b["box_h"] <= h).all() and (b["box_x"] + b["box_w"] <= w).all()
    area = b["box_h"] * b["box_w"] / (h * w)
    ratio = b["box_w"] / b["box_h"]
    # Integer rounding of the sides moves area and ratio by about one pixel's worth.
    assert area.min() >= SCALE[0] - 0.01 and area.max() <= SCALE[1]
    assert ratio.min() >= RATIO[0] - 0.02 and ratio.max() <= RATIO[1] + 0.02
    # The same recipe in NumPy, float64: first fitting candidate of the same uniforms.
    a = h * w * (SCALE[0] + u[..., 0] * (SCALE[1] - SCALE[0]))
    r = np.exp(np.log(RATIO[0]) + u[..., 1] * (np.log(RATIO[1]) - np.log(RATIO[0])))
    cw, ch = np.floor(np.sqrt(a * r) + 0.5), np.floor(np.sqrt(a / r) + 0.5)
    fits = (cw <= w) & (ch <= h)
    assert fits.any(axis=1).mean() > 0.999
    first = fits.argmax(axis=1)
    ref_w = cw[np.arange(n), first]
    assert np.mean(ref_w == b["box_w"]) > 0.995  # float32 vs float64 rounding ties
    # Distributions: accepted area fractions are those of the recipe (two-sample KS).
    ref_area = ref_w * ch[np.arange(n), first] / (h * w)
    assert stats.ks_2samp(area, ref_area).pvalue > 0.01
    # A scale range where every candidate fits: area ~ U(scale), log ratio ~ U(log ratio).
    b = _boxes(u, 1000, 1000, scale=(0.1, 0.3))
    area = b["box_h"] * b["box_w"] / 1e6
    assert stats.kstest(area, "uniform", args=(0.1, 0.2)).pvalue > 0.001
    log_ratio = np.log(b["box_w"] / b["box_h"])
    lo, hi = np.log(RATIO[0]), np.log(RATIO[1])
    assert stats.kstest(log_ratio, "uniform", args=(lo, hi - lo)).pvalue > 0.001
    # Positions are uniform over the free range.
    free = 1000 - b["box_h"]
    assert stats.kstest(b["box_y"] / (free + 1), "uniform").pvalue > 0.001


@pytest.mark.parametrize("value", [(0.0, 1.0), (0.5, 0.2), (0.1, 1.5), "x"])
def test_bad_scale(value):
    with pytest.raises((ValueError, TypeError), match="scale"):
        augment.check_range("scale", value, 0.0, 1.0)
