"""tf.data map functions: element structures and parity with the layers.

A map function sees images whose size is unknown while tracing, so it runs
TensorFlow's kernels where the layer on a fixed-size input runs the XLA taps:
the two agree to float rounding (PIXEL_TOL on the 0..255 scale)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_resize_layers import data
from keras_resize_layers.layers import Resize

OPTIONS = dict(method="bicubic", antialias=True, policy="crop", crop_fraction=0.875)
PIXEL_TOL = 5e-4


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "area", "lanczos5", "nearest"])
@pytest.mark.parametrize("policy", ["stretch", "crop", "pad"])
def test_map_fn_matches_layer(photos, method, policy):
    layer = Resize(56, 72, method=method, policy=policy, fill_value=2.0)
    fn = data.resize_fn(56, 72, method=method, policy=policy, fill_value=2.0)
    images = list(photos.values())
    ds = tf.data.Dataset.from_generator(
        lambda: iter(images), output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
    for image, out in zip(images, ds.map(fn)):
        np.testing.assert_allclose(out.numpy(), layer(image).numpy(), atol=PIXEL_TOL, rtol=0)
    # Ragged batches: the same kernels in the pipeline and in the layer.
    ragged = next(iter(ds.ragged_batch(3).map(fn)))
    np.testing.assert_array_equal(ragged.numpy(), layer(
        data.to_ragged(images)).numpy())


def test_tuple_and_dict_elements(photos):
    photo = photos["chelsea"]
    fn = data.resize_fn(32, 32, **OPTIONS)
    expected = Resize(32, 32, **OPTIONS)(photo).numpy()
    ds = tf.data.Dataset.from_tensors((photo, 3, "x")).map(fn)
    image, label, tag = next(iter(ds))
    np.testing.assert_array_equal(image.numpy(), expected)
    assert int(label) == 3 and tag.numpy() == b"x"
    ds = tf.data.Dataset.from_tensors({"image": photo, "label": 1}).map(fn)
    element = next(iter(ds))
    np.testing.assert_array_equal(element["image"].numpy(), expected)
    assert int(element["label"]) == 1


def test_batched_dense_dataset(photos):
    photo = photos["astronaut"]
    ds = tf.data.Dataset.from_tensor_slices((np.stack([photo] * 4), np.arange(4)))
    ds = ds.batch(2).map(data.resize_fn(16, 16), num_parallel_calls=2)
    shapes = [(x.shape, y.shape) for x, y in ds]
    assert shapes == [((2, 16, 16, 3), (2,))] * 2


def test_dict_without_image_key(photos):
    ds = tf.data.Dataset.from_tensors({"pixels": photos["chelsea"]})
    with pytest.raises(KeyError, match="without an 'image' key"):
        ds.map(data.resize_fn(8, 8))


def test_bad_options_fail_when_built():
    with pytest.raises(ValueError, match="crop_fraction"):
        data.resize_fn(8, 8, crop_fraction=2)
