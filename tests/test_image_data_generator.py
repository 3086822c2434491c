"""The ImageDataGenerator migration: each keyword checked geometrically."""

import numpy as np
import pytest

from keras_resize_layers import augmentation_from_image_data_generator as from_idg


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
