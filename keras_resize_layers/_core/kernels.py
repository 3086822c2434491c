"""Resampling kernels, written with Keras backend ops.

Each kernel is a function `kernel(xnp, x)` of the distance `x` (in input
pixels, already divided by the antialiasing scale) between a sample location
and an input pixel centre; `xnp` is a backend's `numpy` namespace
(`keras.src.backend.<name>.numpy`). The definitions and radii are those of
TensorFlow's ScaleAndTranslate op, so that `tf.image.resize` is the reference.
"""

import math

from keras_resize_layers._core import exact_math


def _triangle(xnp, x):
    x = xnp.abs(x)
    return xnp.maximum(1.0 - x, 0.0)


def _box(xnp, x):
    x = xnp.abs(x)
    return xnp.where(x < 0.5, 1.0, xnp.where(x == 0.5, 0.5, 0.0))


def _keys_cubic(xnp, x):
    # Keys (1981) cubic convolution with a = -0.5.
    x = xnp.abs(x)
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return xnp.where(x < 1.0, near, xnp.where(x < 2.0, far, 0.0))


def _mitchell_cubic(xnp, x):
    # Mitchell-Netravali with B = C = 1/3.
    x = xnp.abs(x)
    near = ((7.0 / 6.0 * x - 2.0) * x) * x + 8.0 / 9.0
    far = ((-7.0 / 18.0 * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    return xnp.where(x < 1.0, near, xnp.where(x < 2.0, far, 0.0))


def _gaussian(xnp, x):
    # sigma = 0.5, cut off at 3 sigma (Turkowski), as in TensorFlow.
    x = xnp.abs(x)
    return xnp.where(x < 1.5, exact_math.exp(xnp, -2.0 * x * x), 0.0)


def _lanczos(radius):
    def kernel(xnp, x):
        x = xnp.abs(x)
        safe = xnp.where(x <= 1e-3, 1.0, x)
        value = (
            radius
            * exact_math.sin_pi(xnp, safe)
            * exact_math.sin_pi(xnp, safe / radius)
            / (math.pi**2 * safe * safe)
        )
        return xnp.where(x <= 1e-3, 1.0, xnp.where(x > radius, 0.0, value))

    return kernel


# method name -> (kernel function, radius in input pixels at scale 1)
KERNELS = {
    "bilinear": (_triangle, 1.0),
    "bicubic": (_keys_cubic, 2.0),
    "lanczos3": (_lanczos(3.0), 3.0),
    "lanczos5": (_lanczos(5.0), 5.0),
    "gaussian": (_gaussian, 1.5),
    "mitchellcubic": (_mitchell_cubic, 2.0),
    "box": (_box, 1.0),
}


def kernel_radius(method, scale, antialias):
    """Half-width of the support, in input pixels, for an output/input `scale`."""
    if method == "nearest":
        return 0.5
    if method == "area":
        return 0.5 / min(scale, 1.0) + 0.5
    _, radius = KERNELS[method]
    widen = max(1.0 / scale, 1.0) if antialias else 1.0
    return radius * widen
