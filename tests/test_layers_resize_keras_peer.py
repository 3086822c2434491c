"""Keras's own `Resizing` test cases, written anew for `Resize` (a peer suite).

The cases of keras/src/layers/preprocessing/image_preprocessing/resizing_test.py
with Keras's arguments mapped to ours (`interpolation` -> `method`,
`crop_to_aspect_ratio` -> `policy="crop"`, `pad_to_aspect_ratio` ->
`policy="pad"`). Runs under every backend: `.ci/run` runs this module again
under KERAS_BACKEND=jax and torch. One expected value differs on purpose: see
`test_resize_bounding_boxes` (crop).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_resize_layers.layers import Resize

POLICIES = {(False, False): "stretch", (True, False): "crop", (False, True): "pad"}


@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic", "lanczos5"])
@pytest.mark.parametrize("crop_pad", list(POLICIES))
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_resizing_basics(method, crop_pad, antialias, data_format):
    shape = (2, 12, 12, 3) if data_format == "channels_last" else (2, 3, 12, 12)
    expected = (2, 6, 6, 3) if data_format == "channels_last" else (2, 3, 6, 6)
    layer = Resize(6, 6, method=method, policy=POLICIES[crop_pad], antialias=antialias,
                   data_format=data_format)
    out = layer(np.random.random(shape).astype("float32"))
    assert tuple(out.shape) == expected
    assert not layer.weights and not layer.losses
    assert layer.compute_output_shape(shape) == expected
    clone = Resize.from_config(layer.get_config())
    np.testing.assert_array_equal(np.asarray(clone(np.ones(shape, "float32"))),
                                  np.asarray(layer(np.ones(shape, "float32"))))


def _to(data_format, array):
    return array if data_format == "channels_last" else np.moveaxis(array, -1, -3)


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
def test_down_sampling_numeric(data_format):
    img = _to(data_format, np.arange(16, dtype="float32").reshape(1, 4, 4, 1))
    out = Resize(2, 2, method="nearest", data_format=data_format)(img)
    ref = _to(data_format, np.array([[5, 7], [13, 15]], "float32").reshape(1, 2, 2, 1))
    np.testing.assert_allclose(out, ref)


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
def test_up_sampling_numeric(data_format):
    img = _to(data_format, np.arange(4, dtype="float32").reshape(1, 2, 2, 1))
    out = Resize(4, 4, method="nearest", data_format=data_format)(img)
    ref = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]], "float32")
    np.testing.assert_allclose(out, _to(data_format, ref.reshape(1, 4, 4, 1)))


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
def test_crop_to_aspect_ratio(data_format):
    img = _to(data_format, np.arange(16, dtype="float32").reshape(1, 4, 4, 1))
    out = Resize(4, 2, method="nearest", policy="crop", data_format=data_format)(img)
    ref = np.array([[1, 2], [5, 6], [9, 10], [13, 14]], "float32").reshape(1, 4, 2, 1)
    np.testing.assert_allclose(out, _to(data_format, ref))


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
def test_unbatched_image(data_format):
    img = np.arange(16, dtype="float32").reshape(4, 4, 1)
    img = img if data_format == "channels_last" else img.transpose(2, 0, 1)
    out = Resize(2, 2, method="nearest", data_format=data_format)(img)
    ref = np.array([[5, 7], [13, 15]], "float32").reshape(2, 2, 1)
    np.testing.assert_allclose(out, ref if data_format == "channels_last" else
                               ref.transpose(2, 0, 1))


def test_tf_data_compatibility():
    layer = Resize(8, 9)
    data = np.random.random((2, 10, 12, 3))
    out = next(iter(tf.data.Dataset.from_tensor_slices(data).batch(2).map(layer))).numpy()
    assert out.shape == (2, 8, 9, 3)
    if keras.backend.backend() != "tensorflow":
        return  # as in Keras's suite: Sequential + tf.data only works with TF
    sequential = keras.Sequential([Resize(8, 9)])
    out = next(iter(tf.data.Dataset.from_tensor_slices(data).batch(2).map(sequential)))
    assert tuple(out.shape) == (2, 8, 9, 3)


@pytest.mark.parametrize("size", [(15, 10), (15, 100)])
def test_data_stretch(size):
    # Keras's case feeds a (1, 1, 4, 4) array as channels-last: 1x4 images, 4 channels.
    out = Resize(*size, policy="crop", data_format="channels_last")(np.random.rand(1, 1, 4, 4))
    assert out.shape == (1, *size, 4)


# Keras's expected boxes; ours agree for stretch and pad. For crop Keras moves
# the boxes by 0.2 input pixels against its own pixel crop (the 10x8 image is
# cropped to rows 1..8, so a box edge at y=1 lands on 0, not 0.5): ours
# follow the pixels, which tests/test_annotations.py checks on drawn boxes.
BOX_CASES = [
    ("pad", [[6.0, 2.0, 10.0, 6.0], [14.0, 8.0, 18.0, 12.0]]),
    ("crop", [[5.0, 0.0, 10.0, 5.0], [15.0, 7.5, 20.0, 12.5]]),  # Keras: [5, .5, 10, 5.5], ...
    ("stretch", [[5.0, 2.0, 10.0, 6.0], [15.0, 8.0, 20.0, 12.0]]),
]


@pytest.mark.parametrize("policy, expected", BOX_CASES)
def test_resize_bounding_boxes(policy, expected):
    inputs = {"images": np.random.random((10, 8, 3)),
              "bounding_boxes": {"boxes": np.array([[2, 1, 4, 3], [6, 4, 8, 6]], "float32"),
                                 "labels": np.array([1, 2])}}
    out = Resize(20, 20, policy=policy, bounding_box_format="xyxy")(inputs)
    np.testing.assert_allclose(out["bounding_boxes"]["boxes"], expected)


@pytest.mark.parametrize("policy, expected", BOX_CASES)
def test_resize_tf_data_bounding_boxes(policy, expected):
    inputs = {"images": np.random.random((1, 10, 8, 3)),
              "bounding_boxes": {"boxes": np.array([[[2, 1, 4, 3], [6, 4, 8, 6]]], "float32"),
                                 "labels": np.array([[1, 2]])}}
    ds = tf.data.Dataset.from_tensor_slices(inputs).map(
        Resize(20, 20, policy=policy, bounding_box_format="xyxy"))
    out = next(iter(ds))
    np.testing.assert_allclose(out["bounding_boxes"]["boxes"], expected)
