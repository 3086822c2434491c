"""tf.data map functions: element structures and parity with the layers.

A map function sees images whose size is unknown while tracing, so it runs
TensorFlow's kernels where the layer on a fixed-size input runs the XLA taps
(planned per image in the graph for ragged and padded batches): all agree to
float rounding (PIXEL_TOL on the 0..255 scale)."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import encode
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


# ---- batched_decode_and_resize ----------------------------------------------------

@pytest.mark.parametrize("policy", ["stretch", "crop", "pad"])
@pytest.mark.parametrize("dct_downscale", [True, False])
def test_batched_decode_and_resize_matches_per_element(photos, policy, dct_downscale):
    """Batches of JPEGs of different sizes: the same pixels as the per-element
    map function (one taps program per batch vs TF's kernels per image)."""
    jpegs = [encode(p, "JPEG", quality=90) for p in photos.values()] * 3  # 9 elements
    kwargs = dict(policy=policy, crop_fraction=0.875, fill_value=5.0,
                  dct_downscale=dct_downscale)
    ds = tf.data.Dataset.from_tensor_slices((jpegs, np.arange(9)))
    batches = list(ds.apply(data.batched_decode_and_resize(4, 60, 80, **kwargs)))
    assert [tuple(b[0].shape) for b in batches] == [(4, 60, 80, 3)] * 2 + [(1, 60, 80, 3)]
    images = np.concatenate([b[0].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    np.testing.assert_array_equal(labels, np.arange(9))
    per_element = [x.numpy() for x, _ in ds.map(data.decode_and_resize_fn(60, 80, **kwargs))]
    np.testing.assert_allclose(images, np.stack(per_element), atol=PIXEL_TOL, rtol=0)


def test_batched_decode_and_resize_element_forms_and_options(photos):
    jpegs = [encode(p, "JPEG") for p in photos.values()]
    plain = tf.data.Dataset.from_tensor_slices(jpegs).apply(
        data.batched_decode_and_resize(2, 16, 16, dtype="uint8", drop_remainder=True))
    assert [(b.shape, b.dtype) for b in plain] == [((2, 16, 16, 3), tf.uint8)]
    dicts = tf.data.Dataset.from_tensor_slices({"image": jpegs, "path": ["a", "b", "c"]})
    (element,) = list(dicts.apply(data.batched_decode_and_resize(3, 16, 16)))
    assert element["image"].shape == (3, 16, 16, 3)
    assert element["path"].numpy().tolist() == [b"a", b"b", b"c"]
    with pytest.raises(KeyError, match="without an 'image' key"):
        tf.data.Dataset.from_tensor_slices({"png": jpegs}).apply(
            data.batched_decode_and_resize(2, 8, 8))
    with pytest.raises(ValueError, match="batch_size"):
        data.batched_decode_and_resize(0, 8, 8)
    with pytest.raises(ValueError, match="Unknown `method`"):
        data.batched_decode_and_resize(2, 8, 8, method="cubic")


def test_batched_decode_and_resize_names_a_bad_element(photos):
    jpeg = encode(photos["chelsea"], "JPEG")
    ds = tf.data.Dataset.from_tensor_slices(
        {"image": [jpeg, b"junk"], "path": ["ok.jpg", "bad.jpg"]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="bad.jpg.*not an image"):
        list(ds.apply(data.batched_decode_and_resize(2, 8, 8, name_key="path")))
    cut = tf.data.Dataset.from_tensor_slices([jpeg, jpeg[: len(jpeg) // 3]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid JPEG data"):
        list(cut.apply(data.batched_decode_and_resize(2, 8, 8)))
