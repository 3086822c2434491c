"""RandomResolution: per-batch sizes in training, fixed size at inference."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_resize_layers.layers import RandomResolution, Resize

SIZES = [(16, 16), (24, 20), (32, 32)]


def test_training_draws_sizes_from_the_list_and_inference_is_fixed(photos):
    x = np.stack([photos["chelsea"]] * 2)
    layer = RandomResolution(SIZES, (20, 20), method="bicubic", seed=0)
    seen = {tuple(layer(x, training=True).shape[1:3]) for _ in range(30)}
    assert seen == set(SIZES)
    np.testing.assert_array_equal(
        np.asarray(layer(x)), np.asarray(Resize(20, 20, method="bicubic")(x)))


def test_same_seed_same_sequence(photos):
    x = photos["chelsea"][None]
    a, b = RandomResolution(SIZES, (20, 20), seed=3), RandomResolution(SIZES, (20, 20), seed=3)
    assert [a(x, training=True).shape for _ in range(8)] == [
        b(x, training=True).shape for _ in range(8)]


def test_fully_convolutional_model_trains_with_varying_sizes(photos):
    inputs = keras.Input((None, None, 3), dtype="uint8")
    x = RandomResolution(SIZES, (24, 24), seed=1)(inputs)
    x = keras.layers.Conv2D(4, 3)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    model.compile("sgd", "sparse_categorical_crossentropy")
    ds = tf.data.Dataset.from_tensor_slices(
        (np.stack([photos["chelsea"]] * 8), np.arange(8) % 2)).batch(2)
    history = model.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    config = model.layers[1].get_config()
    assert config["sizes"] == [list(s) for s in SIZES]
    assert RandomResolution.from_config(config).get_config() == config


def test_bad_sizes():
    with pytest.raises(ValueError, match="at least one"):
        RandomResolution([], (8, 8))
    with pytest.raises(ValueError, match="height"):
        RandomResolution([(0, 8)], (8, 8))
