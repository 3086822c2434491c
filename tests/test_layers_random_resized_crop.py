"""RandomResizedCrop: one-pass crop+resize, determinism, per-image boxes, inference."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_resize_layers as krl
from keras_resize_layers import data
from keras_resize_layers.layers import RandomResizedCrop, Resize


@pytest.fixture(scope="session")  # session: tests run longest first, modules interleave
def batch(photos):
    return np.stack([photos["coffee"][:300, :451], photos["chelsea"],
                     photos["astronaut"][:300, :451], photos["chelsea"][::-1]])


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "area", "lanczos3"])
def test_one_pass_equals_core_resize_of_the_same_box(batch, method):
    layer = RandomResizedCrop(64, 48, method=method, seed=5)
    boxes = layer.get_random_transformation(batch, training=True)
    out = np.asarray(layer.transform_images(batch, boxes))
    b = np.stack([np.asarray(boxes[k]) for k in ("box_y", "box_x", "box_h", "box_w")], 1)
    for i, (y, x, h, w) in enumerate(b):
        ref = np.asarray(krl.resize(batch[i, y:y + h, x:x + w], (64, 48), method=method))
        np.testing.assert_allclose(out[i], ref, atol=1e-3, rtol=0)
    np.testing.assert_allclose(
        out, np.asarray(krl.resized_crop(batch, b, (64, 48), method=method)), atol=1e-3)


def test_same_seed_same_outputs_and_per_image_variation(batch):
    same = np.stack([batch[1]] * 4)
    a = RandomResizedCrop(32, 32, seed=11)
    b = RandomResizedCrop(32, 32, seed=11)
    first = [np.asarray(a(same, training=True)) for _ in range(2)]
    second = [np.asarray(b(same, training=True)) for _ in range(2)]
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert np.abs(first[0] - first[1]).max() > 0  # a new draw per call
    # Four copies of one image get four different boxes.
    assert len({tuple(np.round(x.mean(axis=(0, 1)), 3)) for x in first[0]}) == 4


def test_inference_is_resize_crop_bit_for_bit(batch):
    layer = RandomResizedCrop(56, 56, method="bicubic", crop_fraction=0.875, seed=1)
    ref = Resize(56, 56, method="bicubic", policy="crop", crop_fraction=0.875)(batch)
    np.testing.assert_array_equal(np.asarray(layer(batch)), np.asarray(ref))
    np.testing.assert_array_equal(np.asarray(layer(batch, training=False)), np.asarray(ref))


@pytest.mark.tensorflow_only  # ragged batches are TensorFlow's
def test_ragged_and_unbatched_inputs(photos):
    images = list(photos.values())
    layer = RandomResizedCrop(40, 40, seed=2)
    assert layer(data.to_ragged(images), training=True).shape == (3, 40, 40, 3)
    assert layer(images[0], training=True).shape == (40, 40, 3)


def test_in_tf_data_and_jit(batch):
    layer = RandomResizedCrop(24, 24, seed=3)
    ds = tf.data.Dataset.from_tensor_slices(batch).batch(2).map(
        lambda x: layer(x, training=True))
    assert [x.shape for x in ds] == [(2, 24, 24, 3)] * 2
    fn = tf.function(lambda x: layer(x, training=True), jit_compile=True)
    assert fn(batch).shape == (4, 24, 24, 3)


def test_serialization_and_keras_save(tmp_path, batch):
    layer = RandomResizedCrop(20, 30, scale=(0.2, 0.9), ratio=(0.5, 2.0),
                              method="lanczos3", antialias=False, crop_fraction=0.9,
                              seed=4)
    config = layer.get_config()
    assert config["scale"] == [0.2, 0.9] and config["seed"] == 4
    assert RandomResizedCrop.from_config(config).get_config() == config
    inputs = keras.Input((None, None, 3), dtype="uint8")
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(reloaded.predict(batch, verbose=0),
                                  model.predict(batch, verbose=0))


@pytest.mark.backends("tensorflow")  # a TensorFlow function whatever Keras's backend: once
def test_tf_data_twin_reproducible_across_parallelism(photos):
    images = np.stack([photos["chelsea"]] * 12)
    fn = data.random_resized_crop_fn(32, 32, seed=9)

    def run(parallel, deterministic):
        ds = tf.data.Dataset.from_tensor_slices((images, np.arange(12))).enumerate()
        ds = ds.map(fn, num_parallel_calls=parallel, deterministic=deterministic)
        return {int(label): np.asarray(image) for image, label in ds}

    serial = run(None, True)
    for parallel, deterministic in ((4, True), (4, False)):
        other = run(parallel, deterministic)
        for key in serial:
            np.testing.assert_array_equal(serial[key], other[key])
    means = {tuple(np.round(v.mean(axis=(0, 1)), 3)) for v in serial.values()}
    assert len(means) == 12  # per-element boxes


@pytest.mark.backends("tensorflow")  # a TensorFlow function whatever Keras's backend: once
def test_tf_data_twin_boxes_follow_scale(photos):
    image = photos["astronaut"][..., :1]
    fn = data.random_resized_crop_fn(8, 8, scale=(1.0, 1.0), ratio=(1.0, 1.0), seed=0,
                                     method="area")
    out = next(iter(tf.data.Dataset.from_tensors(image).enumerate().map(fn)))
    np.testing.assert_allclose(np.asarray(out), krl.resize(image, (8, 8), method="area"),
                               atol=1e-3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="scale"):
        RandomResizedCrop(8, 8, scale=(0.5, 0.1))
    with pytest.raises(ValueError, match="ratio"):
        RandomResizedCrop(8, 8, ratio=(0.0, 1.0))
    with pytest.raises(TypeError, match="seed"):
        data.random_resized_crop_fn(8, 8, seed="x")
