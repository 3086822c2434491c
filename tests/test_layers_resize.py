"""The `Resize` layer: serialization, models, tf.data, ragged batches, other backends."""


import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_resize_layers as krl
from keras_resize_layers import data
from keras_resize_layers.layers import RandomResizedCrop, Resize

CONFIG = dict(height=48, width=64, method="lanczos3", antialias=True, policy="pad",
              crop_fraction=0.875, fill_value=7.0, output_dtype="float32")


def test_matches_core_function(photos):
    layer = Resize(**CONFIG)
    for photo in photos.values():
        ref = np.asarray(krl.resize(photo, (48, 64), method="lanczos3", policy="pad",
                         crop_fraction=0.875, fill_value=7.0))
        np.testing.assert_array_equal(np.asarray(layer(photo)), ref)


def test_get_config_round_trip():
    layer = Resize(**CONFIG, name="resize_in")
    config = layer.get_config()
    for key, value in CONFIG.items():
        assert config[key] == value
    clone = Resize.from_config(config)
    assert clone.get_config() == config


def test_compute_output_shape():
    layer = Resize(10, 20)
    assert layer.compute_output_shape((None, None, None, 3)) == (None, 10, 20, 3)
    assert layer.compute_output_shape((None, None, 1)) == (10, 20, 1)


def _model():
    inputs = keras.Input(shape=(None, None, 3), dtype="uint8")
    x = Resize(32, 32, policy="crop", crop_fraction=0.875)(inputs)
    x = keras.layers.Rescaling(1 / 255)(x)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def test_functional_model_trains_from_tf_data_and_survives_keras_save(tmp_path, photos):
    images = np.stack([photos["coffee"][:300, :451], photos["chelsea"]])
    labels = np.array([0, 1])
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy")
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(2)
    history = model.fit(ds, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    path = str(tmp_path / "model.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(reloaded.predict(images, verbose=0),
                               model.predict(images, verbose=0), atol=1e-6)
    # Images of another size go through the same saved model.
    assert reloaded.predict(photos["astronaut"][None], verbose=0).shape == (1, 2)


@pytest.mark.tensorflow_only  # ragged batches are TensorFlow's
def test_ragged_batch_in_model_and_tf_data(photos):
    images = list(photos.values())
    ragged = data.to_ragged(images)
    layer = Resize(40, 40, method="bicubic", policy="crop")
    out = np.asarray(layer(ragged))
    for i, image in enumerate(images):
        # Ragged: taps planned per image in the graph; one fixed-size image: the static plan.
        np.testing.assert_allclose(out[i], np.asarray(layer(image)), atol=5e-4, rtol=0)
    ds = tf.data.Dataset.from_generator(
        lambda: iter(images), output_signature=tf.TensorSpec([None, None, 3], tf.uint8)
    ).ragged_batch(3).map(layer)
    # In tf.data beyond 16 taps (these ~10x shrinks) TF's kernels, in the model the taps.
    np.testing.assert_allclose(np.asarray(next(iter(ds))), out, atol=5e-4, rtol=0)


def test_batched_map_in_tf_data(photos):
    photo = photos["astronaut"]
    layer = Resize(30, 30)
    ds = tf.data.Dataset.from_tensor_slices(np.stack([photo] * 4)).batch(2).map(layer)
    batches = list(ds)
    assert [b.shape for b in batches] == [(2, 30, 30, 3)] * 2
    if keras.backend.backend() == "tensorflow":  # the same TensorFlow ops in both places
        np.testing.assert_array_equal(np.asarray(batches[0][0]), np.asarray(layer(photo)))
    else:  # tf.data runs TensorFlow's path, the eager call the backend's: float rounding
        np.testing.assert_allclose(np.asarray(batches[0][0]), np.asarray(layer(photo)),
                                   atol=5e-4, rtol=0)


def test_integer_output_dtype(photos):
    out = Resize(20, 20, method="bicubic", output_dtype="uint8")(photos["chelsea"])
    assert keras.backend.standardize_dtype(out.dtype) == "uint8"
    assert np.asarray(out).max() > 100  # rounded levels, not a cast of 0..1 floats


def test_bad_arguments():
    with pytest.raises(ValueError, match="Unknown `method`: 'bogus'"):
        Resize(10, 10, method="bogus")
    with pytest.raises(ValueError, match="height"):
        Resize(0, 10)


@pytest.mark.backends("jax")
def test_jax_under_jit_gives_tensorflows_pixels(photos):
    """Under `KERAS_BACKEND=jax` (.ci/run): the layers and functions under `jax.jit`
    against the same call on TensorFlow's kernels, in the same process."""
    import jax

    x = np.stack([photos["coffee"][:300, :451], photos["chelsea"]])
    for policy in ("stretch", "crop", "pad"):
        layer = Resize(40, 56, method="lanczos3", policy=policy, crop_fraction=0.875,
                       fill_value=5.0)
        ref = krl.resize(x, (40, 56), method="lanczos3", policy=policy, crop_fraction=0.875,
                         fill_value=5.0, backend="tensorflow")
        np.testing.assert_allclose(np.asarray(jax.jit(layer)(x)), np.asarray(ref), atol=1e-3,
                                   rtol=0)
    for method in ("bilinear", "area", "lanczos3"):
        taps = jax.jit(lambda a: krl.resize(a, (40, 56), method=method))(x)
        dense = jax.jit(lambda a: krl.resize(a, (40, 56), method=method,
                                             implementation="matmul"))(x)
        np.testing.assert_allclose(np.asarray(taps), np.asarray(dense), atol=5e-4, rtol=0)
    boxes = np.array([[0, 0, 50, 60], [7, 3, 200, 300]])
    crop_taps = jax.jit(lambda a: krl.resized_crop(a, boxes, (8, 8), implementation="taps"))(x)
    crop_dense = krl.resized_crop(x, boxes, (8, 8), implementation="matmul")
    np.testing.assert_allclose(np.asarray(crop_taps), np.asarray(crop_dense), atol=5e-4, rtol=0)
    with pytest.raises(ValueError, match=r"within the padded batch.*Received: image_sizes="
                       r"\[\[0, 5\], \[3, 3\]\]"):
        krl.resize(x, (8, 8), image_sizes=[[0, 5], [3, 3]])
    assert RandomResizedCrop(24, 24, seed=1)(x, training=True).shape == (2, 24, 24, 3)


def test_differences_from_keras_resizing_are_the_documented_ones(photos):
    """README's "Switching from keras.layers.Resizing" figures, measured here."""
    chelsea = photos["chelsea"][None].astype("float32")  # 300 x 451
    # Pad: Keras pads the input to the aspect ratio, then resizes; we place the
    # scaled image on whole output pixels. Same kernel, no antialias.
    ours = np.asarray(Resize(224, 224, policy="pad", antialias=False)(chelsea))
    theirs = np.asarray(keras.layers.Resizing(224, 224, pad_to_aspect_ratio=True)(chelsea))
    pad = np.abs(ours - theirs).mean()
    assert 1.0 < pad < 5.0, pad
    # Crop with a fractional box: Keras truncates it, we round half up.
    noise = np.random.default_rng(0).integers(0, 256, (1, 7, 10, 1)).astype("float32")
    ours = np.asarray(Resize(5, 4, policy="crop", method="nearest")(noise))
    theirs = np.asarray(keras.layers.Resizing(5, 4, crop_to_aspect_ratio=True,
                                   interpolation="nearest")(noise))
    # Our box: height 7, width round(7 * 4 / 5 = 5.6) = 6, x = (10 - 6) // 2 = 2;
    # Keras's: width int(5.6) = 5.
    box = noise[:, :, 2:8]
    np.testing.assert_array_equal(ours, np.asarray(Resize(5, 4, method="nearest")(box)))
    crop = np.abs(ours - theirs).max()
    assert crop > 0, crop
    # Antialias: Keras defaults to False, we to True (identical when False).
    np.testing.assert_allclose(
        np.asarray(Resize(100, 150, antialias=False)(chelsea)),
        np.asarray(keras.layers.Resizing(100, 150)(chelsea)), atol=1e-3)
    print(f"pad mean difference {pad:.2f}, crop max difference {crop:.0f}")


def test_image_sizes_with_a_dict_input_is_refused():
    from keras_resize_layers.layers import RandomResizedCrop

    images = {"images": np.zeros((1, 8, 8, 3), np.uint8)}
    for layer in (Resize(4, 4), RandomResizedCrop(4, 4, seed=0)):
        with pytest.raises(ValueError, match="`image_sizes` is for a batch of images, not a "
                                             "dict input"):
            layer(images, image_sizes=[[8, 8]])
