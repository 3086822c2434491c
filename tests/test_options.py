"""`ResizeOptions`: one frozen, validated value that every entry point accepts."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_resize_layers as krl
from keras_resize_layers import data, layers
from keras_resize_layers._core import options as options_lib

BICUBIC_CROP = krl.ResizeOptions(method="bicubic", policy="crop", crop_fraction=0.875,
                                 dtype="uint8")
KEYWORDS = dict(method="bicubic", policy="crop", crop_fraction=0.875)


@pytest.fixture
def images(rng):
    return rng.integers(0, 256, (2, 37, 53, 3), dtype=np.uint8)


def test_validated_and_normalised_once():
    o = krl.ResizeOptions(crop_fraction=1, fill_value=3, dtype=np.dtype("float32"))
    assert o.crop_fraction == 1.0 and isinstance(o.crop_fraction, float)
    assert o.fill_value == 3.0 and o.dtype == "float32"
    for kwargs, error, message in (
            (dict(method="cubic"), ValueError, "Unknown `method`: 'cubic'"),
            (dict(policy="fit"), ValueError, "Unknown `policy`"),
            (dict(antialias=1), TypeError, "`antialias` must be True or False"),
            (dict(crop_fraction=0.0), ValueError, r"`crop_fraction` must be in \(0, 1\]"),
            (dict(fill_value=float("nan")), ValueError, "must be finite"),
            (dict(dtype="int8"), TypeError, "Unsupported dtype: int8"),
            (dict(pad_position="left"), ValueError, "Unknown `pad_position`")):
        with pytest.raises(error, match=message):
            krl.ResizeOptions(**kwargs)


def test_frozen_and_replace_validates_again():
    with pytest.raises(dataclasses.FrozenInstanceError):
        BICUBIC_CROP.method = "nearest"
    assert dataclasses.replace(BICUBIC_CROP, method="area").method == "area"
    with pytest.raises(ValueError, match="Unknown `method`"):
        dataclasses.replace(BICUBIC_CROP, method="box")
    assert krl.ResizeOptions().output_dtype() == "float32"
    assert krl.ResizeOptions().with_dtype("bfloat16").dtype == "bfloat16"
    assert BICUBIC_CROP.with_dtype("float32").dtype == "uint8"  # set: kept


def test_options_and_differing_keywords_clash():
    with pytest.raises(ValueError, match="either `options` or the keyword arguments"):
        krl.resize(np.zeros((4, 4, 3)), (2, 2), method="area", options=BICUBIC_CROP)
    with pytest.raises(ValueError, match="method='area'"):
        layers.Resize(2, 2, method="area", options=BICUBIC_CROP)
    with pytest.raises(TypeError, match="must be a keras_resize_layers.ResizeOptions"):
        krl.resize(np.zeros((4, 4, 3)), (2, 2), options={"method": "area"})


@pytest.mark.backends("tensorflow")  # mostly tf.data functions: once (the layer's options
# run on every backend in the tests below)
def test_every_entry_point_gives_the_keywords_pixels(images):
    expected = np.asarray(krl.resize(images, (16, 24), dtype="uint8", **KEYWORDS))
    np.testing.assert_array_equal(krl.resize(images, (16, 24), options=BICUBIC_CROP),
                                  expected)
    layer = layers.Resize(16, 24, options=BICUBIC_CROP)
    np.testing.assert_array_equal(layer(images), expected)
    ds = tf.data.Dataset.from_tensor_slices(images).batch(2)
    np.testing.assert_array_equal(
        next(iter(ds.map(data.resize_fn(16, 24, options=BICUBIC_CROP)))), expected)
    encoded = [np.asarray(tf.io.encode_png(i)) for i in images]
    files = tf.data.Dataset.from_tensor_slices(encoded)
    one = np.stack([np.asarray(e) for e in files.map(data.decode_and_resize_fn(
        16, 24, options=BICUBIC_CROP, dct_downscale=False))])
    np.testing.assert_array_equal(one, expected)
    batched = np.asarray(next(iter(files.apply(data.batched_decode_and_resize(
        2, 16, 24, options=BICUBIC_CROP, dct_downscale=False)))))
    np.testing.assert_array_equal(batched, expected)
    guarded = np.stack([np.asarray(e) for e in data.decode_images(files, (16, 24),
                                                              options=BICUBIC_CROP)])
    np.testing.assert_array_equal(guarded, expected)


def test_layer_config_stays_flat_and_round_trips(tmp_path, images):
    layer = layers.Resize(16, 24, options=BICUBIC_CROP)
    config = layer.get_config()
    assert "options" not in config
    assert {k: config[k] for k in ("method", "policy", "crop_fraction", "output_dtype")} == {
        "method": "bicubic", "policy": "crop", "crop_fraction": 0.875, "output_dtype": "uint8"}
    clone = layers.Resize.from_config(config)
    assert clone.options == layer.options
    model = keras.Sequential([keras.Input((37, 53, 3), dtype="uint8"), layer])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded(images), model(images))


def test_resolve_returns_the_given_value_itself():
    assert options_lib.resolve(BICUBIC_CROP) is BICUBIC_CROP
    assert options_lib.resolve(None, method="area") == krl.ResizeOptions(method="area")


def test_random_resolution_takes_the_options_value(images):
    layer = layers.RandomResolution([(16, 24)], (16, 24), options=BICUBIC_CROP)
    assert layer.method == "bicubic" and layer.output_dtype == "uint8"
    np.testing.assert_array_equal(layer(images, training=False),
                                  krl.resize(images, (16, 24), options=BICUBIC_CROP))
    with pytest.raises(ValueError, match="policy='pad'"):
        layers.RandomResolution([(16, 24)], (16, 24), policy="pad", options=BICUBIC_CROP)
