"""Resampling kernels: hand-checked values, partition of unity, radii."""

import numpy as np
import pytest

from keras_resize_layers._core import backend
from keras_resize_layers._core import kernels

XNP = backend.get("tensorflow").numpy


@pytest.mark.parametrize("method", sorted(kernels.KERNELS))
def test_kernels_vanish_outside_their_radius(method):
    kernel, radius = kernels.KERNELS[method]
    x = np.linspace(radius + 1e-3, radius + 3, 50).astype("float32")
    assert np.allclose(np.asarray(kernel(XNP, x)), 0.0)
    assert np.allclose(np.asarray(kernel(XNP, -x)), 0.0)


@pytest.mark.parametrize("method, points, values", [
    ("bilinear", [0.0, 0.5, 1.0], [1.0, 0.5, 0.0]),
    ("bicubic", [0.0, 1.0, 0.5, 1.5], [1.0, 0.0, 0.5625, -0.0625]),
    ("mitchellcubic", [0.0, 1.0], [8 / 9, 1 / 18]),
    ("lanczos3", [0.0, 1.0, 2.0], [1.0, 0.0, 0.0]),
    ("gaussian", [0.0, 0.5], [1.0, np.exp(-0.5)]),
    ("box", [0.25, 0.5, 0.75], [1.0, 0.5, 0.0]),
])
def test_kernel_values(method, points, values):
    kernel, _ = kernels.KERNELS[method]
    np.testing.assert_allclose(np.asarray(kernel(XNP, np.float32(points))), values, atol=1e-6)


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "mitchellcubic", "lanczos3"])
def test_integer_shifts_sum_to_one(method):
    # Interpolating kernels reproduce constants: sum over integer shifts == 1.
    kernel, radius = kernels.KERNELS[method]
    for offset in (0.0, 0.25, 0.5, 0.8):
        taps = np.arange(-int(radius) - 1, int(radius) + 2) + offset
        total = float(np.sum(np.asarray(kernel(XNP, taps.astype("float32")))))
        assert total == pytest.approx(1.0, abs=0.02 if method == "lanczos3" else 1e-5)


def test_kernel_radius_widens_only_when_shrinking_with_antialias():
    assert kernels.kernel_radius("bilinear", 0.5, True) == 2.0
    assert kernels.kernel_radius("bilinear", 0.5, False) == 1.0
    assert kernels.kernel_radius("bicubic", 2.0, True) == 2.0
    assert kernels.kernel_radius("nearest", 0.1, True) == 0.5
