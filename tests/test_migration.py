"""Migration helpers: `replace_resizing` / `Resize.from_keras` checked against the Keras
layers they replace, and the ImageDataGenerator mapping, each keyword checked geometrically."""

import keras
import numpy as np
import pytest

from keras_resize_layers import augmentation_from_image_data_generator as from_idg
from keras_resize_layers import replace_resizing
from keras_resize_layers.layers import Resize
from keras_resize_layers.migration import probe_image


def _classifier():
    """Functional model: Resizing, BatchNorm, a nested Sequential holding another
    Resizing and a Conv2D, pooling and a Dense head; weights made non-trivial."""
    inner = keras.Sequential([keras.Input((None, None, 3)),
                              keras.layers.Resizing(40, 40, crop_to_aspect_ratio=True,
                                                    interpolation="bicubic", name="inner_resize"),
                              keras.layers.Conv2D(3, 3, padding="same")], name="inner")
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Resizing(64, 80, name="outer")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = inner(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype("float32") ** 2 + 0.5
                       for w in model.get_weights()])
    return model


def _resize_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _resize_layers(layer)
        elif isinstance(layer, (Resize, keras.layers.Resizing)):
            yield layer


def test_replace_resizing_keeps_the_model_and_its_weights(photos, tmp_path):
    model = _classifier()
    clone, report = replace_resizing(model)
    assert [type(x) for x in _resize_layers(clone)] == [Resize, Resize]
    assert [type(x) for x in _resize_layers(model)] == [keras.layers.Resizing] * 2
    assert [(r["layer"], r["size"], r["method"], r["policy"], r["antialias"]) for r in report] \
        == [("outer", (64, 80), "bilinear", "stretch", (False, False)),
            ("inner_resize", (40, 40), "bicubic", "crop", (False, False))]
    assert all(r["max_abs_diff"] < 1e-3 for r in report), report
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    image = photos["chelsea"][None].astype("float32")
    expected = model.predict(image, verbose=0)
    np.testing.assert_allclose(clone.predict(image, verbose=0), expected, rtol=1e-3, atol=1e-3)
    clone.save(tmp_path / "clone.keras")
    reloaded = keras.models.load_model(tmp_path / "clone.keras")
    np.testing.assert_allclose(reloaded.predict(image, verbose=0), expected, rtol=1e-3,
                               atol=1e-3)


def test_replace_resizing_with_antialias_reports_the_change(photos):
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Resizing(56, 56),
                              keras.layers.GlobalAveragePooling2D()])
    clone, report = replace_resizing(model, antialias=True)
    (layer,) = _resize_layers(clone)
    assert isinstance(clone, keras.Sequential) and layer.antialias is True
    assert report[0]["antialias"] == (False, True)
    # The probe's zone plate aliases without antialiasing: a large, reported change.
    assert report[0]["mean_abs_diff"] > 5 and report[0]["max_abs_diff"] > 50, report
    image = photos["astronaut"][None].astype("float32")
    reference = keras.ops.convert_to_numpy(Resize(56, 56)(image)).mean(axis=(1, 2))
    np.testing.assert_allclose(clone.predict(image, verbose=0), reference, rtol=1e-5)


@pytest.mark.parametrize("kwargs", [
    dict(interpolation="bilinear"), dict(interpolation="nearest"),
    dict(interpolation="bicubic"), dict(interpolation="lanczos3"),
    dict(interpolation="area"), dict(crop_to_aspect_ratio=True),
    dict(interpolation="bilinear", antialias=True)])
def test_from_keras_matches_keras_pixels(photos, kwargs):
    keras_layer = keras.layers.Resizing(60, 60, **kwargs)
    ours = Resize.from_keras(keras_layer)
    image = photos["chelsea"][:300, :450][None].astype("float32")  # an integral crop box
    expected = keras.ops.convert_to_numpy(keras_layer(image))
    tolerance = 0.02 if kwargs.get("interpolation") == "area" else 1e-3
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(image)), expected,
                               atol=tolerance)
    assert ours.name == keras_layer.name


def test_from_keras_maps_pad_and_rejects_other_layers():
    ours = Resize.from_keras(keras.layers.Resizing(30, 40, pad_to_aspect_ratio=True,
                                                   fill_value=7.0, data_format="channels_first"))
    assert (ours.policy, ours.fill_value, ours.data_format) == ("pad", 7.0, "channels_first")
    assert Resize.from_keras(keras.layers.Resizing(8, 8), method="area").method == "area"
    with pytest.raises(TypeError, match="keras.layers.Resizing"):
        Resize.from_keras(keras.layers.Rescaling(1.0))


def test_replace_resizing_refuses_subclassed_models():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.resize = keras.layers.Resizing(8, 8)

        def call(self, x):
            return self.resize(x)

    with pytest.raises(TypeError, match="subclassed"):
        replace_resizing(Net())
    with pytest.raises(TypeError, match="keras.Model"):
        replace_resizing(keras.layers.Resizing(8, 8))


def test_probe_image_has_detail_up_to_nyquist():
    image = probe_image()
    assert image.shape == (300, 451, 3) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 255
    assert np.abs(np.diff(image[150, 180:270, 0])).max() > 100  # zone plate rings


def _dot(size=33, y=16, x=16):
    image = np.zeros((1, size, size, 1), "float32")
    image[0, y, x] = 255.0
    return image


def _centroid(image):
    image = np.asarray(image)[0, ..., 0]
    ys, xs = np.mgrid[:image.shape[0], :image.shape[1]]
    total = image.sum()
    return (ys * image).sum() / total, (xs * image).sum() / total


def test_flips_flip():
    x = np.random.default_rng(0).random((8, 10, 12, 3)).astype("float32") * 255
    out = from_idg(horizontal_flip=True, seed=1)(x, training=True).numpy()
    flipped = [np.allclose(o, xi[:, ::-1]) for o, xi in zip(out, x)]
    kept = [np.allclose(o, xi) for o, xi in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)
    out = from_idg(vertical_flip=True, seed=2)(x, training=True).numpy()
    assert all(np.allclose(o, xi[::-1]) or np.allclose(o, xi) for o, xi in zip(out, x))


def test_rotation_stays_within_range():
    image = np.zeros((1, 65, 65, 1), "float32")
    image[0, 32, 52:56] = 255.0  # a blob 22 px right of the centre: angle 0
    layer = from_idg(rotation_range=90, fill_mode="constant", seed=3)
    angles = []
    for _ in range(20):
        cy, cx = _centroid(layer(image, training=True))
        angles.append(np.degrees(np.arctan2(-(cy - 32), cx - 32)))
        assert np.hypot(cy - 32, cx - 32) == pytest.approx(21.5, abs=1.5)
    assert max(np.abs(angles)) <= 91 and np.ptp(angles) > 30


def test_shifts_are_fractions_of_the_size():
    layer = from_idg(width_shift_range=0.2, height_shift_range=0.1,
                     fill_mode="constant", seed=4)
    for _ in range(10):
        cy, cx = _centroid(layer(_dot(), training=True))
        assert abs(cx - 16) <= 0.2 * 33 + 1 and abs(cy - 16) <= 0.1 * 33 + 1


def test_zoom_above_one_zooms_out():
    square = np.zeros((1, 64, 64, 1), "float32")
    square[0, 16:48, 16:48] = 255.0
    out = from_idg(zoom_range=(1.5, 1.5), fill_mode="constant", seed=5)(
        square, training=True).numpy()
    side = np.sqrt((out > 127).sum())
    assert side == pytest.approx(32 / 1.5, abs=2)  # content shrinks by 1/z


def test_shear_moves_rows_proportionally():
    image = np.zeros((1, 41, 41, 1), "float32")
    image[0, :, 20] = 255.0  # a vertical line
    out = from_idg(shear_range=30, fill_mode="constant", seed=6)(
        image, training=True).numpy()[0, ..., 0]
    cols = [(row * np.arange(41)).sum() / row.sum() for row in out[5:36] if row.sum()]
    slope = abs(np.polyfit(np.arange(len(cols)), cols, 1)[0])
    assert slope <= np.tan(np.radians(30)) + 0.05 and slope > 0.0


def test_brightness_and_rescale():
    x = np.full((16, 4, 4, 3), 100.0, "float32")
    out = from_idg(brightness_range=(0.5, 1.5), rescale=1 / 255, seed=7)(
        x, training=True).numpy()
    factors = out[:, 0, 0, 0] * 255 / 100
    assert factors.min() >= 0.5 - 1e-5 and factors.max() <= 1.5 + 1e-5
    assert np.ptp(factors) > 0.1
    at_inference = from_idg(brightness_range=(0.5, 1.5), rescale=1 / 255)(x).numpy()
    np.testing.assert_allclose(at_inference, x / 255, rtol=1e-6)


def test_unsupported_keyword_lists_supported_ones():
    with pytest.raises(TypeError, match="featurewise_center.*Supported: rotation_range"):
        from_idg(featurewise_center=True)


def test_pixel_shifts_rejected_with_reason():
    with pytest.raises(ValueError, match="fraction"):
        from_idg(width_shift_range=8)
