"""Aspect-ratio geometry: hand-computed boxes and placements."""

import numpy as np
import pytest

from keras_resize_layers._core import backend
from keras_resize_layers._core import geometry


def _g(policy, h, w, size, crop_fraction=1.0):
    bk = backend.get("tensorflow")
    g = geometry.for_policy(bk, policy, np.array([h]), np.array([w]), size,
                            crop_fraction)
    return {k: int(np.asarray(v)[0]) for k, v in g.items()}


@pytest.mark.parametrize("h, w, size, crop_fraction, box", [
    (4, 8, (4, 4), 1.0, (0, 2, 4, 4)),        # wide image, square target
    (8, 4, (4, 4), 1.0, (2, 0, 4, 4)),        # tall image
    (480, 640, (224, 224), 0.875, (30, 110, 420, 420)),  # ImageNet eval recipe
    (300, 451, (224, 224), 1.0, (0, 75, 300, 300)),
    (100, 100, (50, 100), 1.0, (25, 0, 50, 100)),
    (3, 3, (10, 10), 0.1, (1, 1, 1, 1)),      # never an empty box
])
def test_center_crop_boxes(h, w, size, crop_fraction, box):
    g = _g("crop", h, w, size, crop_fraction)
    assert (g["box_y"], g["box_x"], g["box_h"], g["box_w"]) == box
    assert (g["place_y"], g["place_x"], g["place_h"], g["place_w"]) == (0, 0) + size


@pytest.mark.parametrize("h, w, size, place", [
    (4, 8, (4, 4), (1, 0, 2, 4)),
    (8, 4, (4, 4), (0, 1, 4, 2)),
    (300, 451, (224, 224), (37, 0, 149, 224)),
    (10, 1000, (20, 20), (9, 0, 1, 20)),      # never an empty placement
    (5, 5, (7, 9), (0, 1, 7, 7)),
])
def test_letterbox_placements(h, w, size, place):
    g = _g("pad", h, w, size)
    assert (g["place_y"], g["place_x"], g["place_h"], g["place_w"]) == place
    assert (g["box_y"], g["box_x"], g["box_h"], g["box_w"]) == (0, 0, h, w)


def test_stretch_uses_whole_image():
    g = _g("stretch", 7, 9, (3, 5))
    assert (g["box_h"], g["box_w"], g["place_h"], g["place_w"]) == (7, 9, 3, 5)


def test_no_int32_overflow_for_huge_sides():
    import tensorflow as tf

    from keras_resize_layers._core import backend

    bk = backend.get("tensorflow")
    g = geometry.for_policy(bk, "crop", tf.constant([1]), tf.constant([150000]), (16384, 16384))
    # A 1x150000 strip cropped to a square: the 1x1 box at the centre.
    assert {k: int(v[0]) for k, v in g.items() if k.startswith("box")} == dict(
        box_y=0, box_x=74999, box_h=1, box_w=1)
    big = 2**31 - 1
    g = geometry.for_policy(bk, "pad", tf.constant([big]), tf.constant([3]), (big, 7))
    assert [int(g[k][0]) for k in ("place_y", "place_x", "place_h", "place_w")] == [
        0, 2, big, 3]
    g = geometry.for_policy(bk, "crop", tf.constant([big]), tf.constant([big]), (big, big // 2))
    assert [int(g[k][0]) for k in ("box_h", "box_w")] == [big, big // 2]


def test_the_host_plan_forms_side_products_in_int64():
    """The taps' host plan (plain NumPy): 150000 x 15000 overflows int32, which put the
    crop box of a 1x150000 strip in the wrong place (wrong pixels, no error)."""
    bk = backend.numpy_backend()
    g = geometry.for_policy(bk, "crop", np.array([1]), np.array([150000]), (15000, 10))
    assert {k: int(v[0]) for k, v in g.items() if k.startswith("box")} == dict(
        box_y=0, box_x=74999, box_h=1, box_w=1)


@pytest.mark.parametrize("method, implementation", [
    *[(m, "taps") for m in ("nearest", "bilinear", "area", "lanczos3")],  # the host plan
    ("bilinear", "auto"), ("nearest", "auto"), ("bilinear", "matmul")])
def test_a_strip_cropped_to_a_tall_output_gives_its_centre_pixel(method, implementation):
    import keras_resize_layers as krl

    strip = (np.arange(150000 * 3).reshape(1, 150000, 3) % 251 + 1).astype(np.uint8)
    out = np.asarray(krl.resize(strip, (15000, 10), policy="crop", method=method,
                                implementation=implementation))
    assert out.shape == (15000, 10, 3)
    np.testing.assert_array_equal(out, np.broadcast_to(strip[0, 74999], out.shape))
