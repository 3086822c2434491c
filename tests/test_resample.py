"""Separable weight matrices: rows, boxes, padding, and the einsum resampler."""

import numpy as np
import pytest
import tensorflow as tf

from keras_resize_layers._core import backend
from keras_resize_layers._core import geometry
from keras_resize_layers._core import resample

BK = backend.get("tensorflow")


def _weights(out, size, start, length, place_start, place_len, method, antialias=True):
    one = tf.ones((1,), tf.int32)
    return resample.axis_weights(BK, out, size, one * start, one * length, one * place_start,
                                 one * place_len, method, antialias)[0].numpy()


@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic", "area", "lanczos3",
                                    "lanczos5", "gaussian", "mitchellcubic"])
@pytest.mark.parametrize("antialias", [True, False])
def test_rows_sum_to_one_and_stay_inside_the_box(method, antialias):
    w = _weights(12, 40, 7, 25, 2, 9, method, antialias)
    assert w.shape == (12, 40)
    placed = np.arange(12)
    inside = (placed >= 2) & (placed < 11)
    np.testing.assert_allclose(w[inside].sum(axis=1), 1.0, atol=1e-5)
    assert np.all(w[~inside] == 0)  # padding rows
    assert np.all(w[:, :7] == 0) and np.all(w[:, 32:] == 0)  # outside the source box


def test_nearest_weights_are_one_hot_on_half_pixel_centres():
    w = _weights(2, 4, 0, 4, 0, 2, "nearest")
    np.testing.assert_array_equal(w, [[0, 1, 0, 0], [0, 0, 0, 1]])


def test_antialias_widens_the_support_when_shrinking():
    wide = (_weights(10, 40, 0, 40, 0, 10, "bilinear", True)[5] != 0).sum()
    narrow = (_weights(10, 40, 0, 40, 0, 10, "bilinear", False)[5] != 0).sum()
    assert narrow == 2 and wide >= 7


def test_resample_batch_of_boxes_equals_each_box(photos):
    image = photos["coffee"].astype("float32")
    boxes = dict(box_y=tf.constant([0, 50]), box_x=tf.constant([0, 100]),
                 box_h=tf.constant([400, 200]), box_w=tf.constant([600, 300]))
    g = dict(boxes, place_y=tf.constant([0, 0]), place_x=tf.constant([0, 0]),
             place_h=tf.constant([30, 30]), place_w=tf.constant([40, 40]))
    batch = tf.constant(np.stack([image, image]))
    out = resample.resample(BK, batch, (30, 40), g, "bicubic", True, 0.0, "stretch",
                            False).numpy()
    ref = tf.image.resize(image[50:250, 100:400], (30, 40), method="bicubic",
                          antialias=True).numpy()
    np.testing.assert_allclose(out[1], ref, atol=1e-3)


def test_placement_mask_marks_the_letterbox():
    g = geometry.letterbox(BK, tf.constant([4]), tf.constant([8]), (4, 4))
    mask = resample.placement_mask(BK, (4, 4), g)[0].numpy()
    np.testing.assert_array_equal(mask, [[0] * 4, [1] * 4, [1] * 4, [0] * 4])
