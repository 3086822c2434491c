"""Float64 NumPy reference resampler and quality metrics.

Independent of the library's code: the exact antialiased kernel (the kernel
widened by the shrink factor, weights renormalised at the borders), the
definition that `tf.image.resize(antialias=True)` and Pillow implement.
"""

import numpy as np


def _triangle(x):
    return np.maximum(1.0 - np.abs(x), 0.0)


def _keys(x):
    x = np.abs(x)
    return np.where(x < 1, (1.5 * x - 2.5) * x * x + 1,
                    np.where(x < 2, ((-0.5 * x + 2.5) * x - 4) * x + 2, 0.0))


def _lanczos3(x):
    x = np.abs(x)
    return np.where(x < 3, np.sinc(x) * np.sinc(x / 3), 0.0)


def _box(x):
    return (np.abs(x) < 0.5).astype(np.float64)


KERNELS = {"bilinear": (_triangle, 1.0), "bicubic": (_keys, 2.0),
           "lanczos3": (_lanczos3, 3.0), "area": (_box, 0.5)}


def weights(n_in, n_out, method="bilinear"):
    """(n_out, n_in) float64 antialiased weights."""
    kernel, radius = KERNELS[method]
    scale = n_out / n_in
    widen = max(1.0 / scale, 1.0)
    centres = (np.arange(n_out) + 0.5) / scale
    pos = np.arange(n_in) + 0.5
    w = kernel((pos[None, :] - centres[:, None]) / widen)
    w[np.abs(pos[None, :] - centres[:, None]) > radius * widen + 1e-9] = 0.0
    return w / w.sum(axis=1, keepdims=True)


def resize(image, size, method="bilinear"):
    """(H, W, C) array -> float64 (h, w, C), exact antialiased resampling."""
    image = np.asarray(image, np.float64)
    wy = weights(image.shape[0], size[0], method)
    wx = weights(image.shape[1], size[1], method)
    return np.einsum("pw,owc->opc", wx, np.einsum("oh,hwc->owc", wy, image))


def psnr(output, reference, peak=255.0):
    err = np.mean((np.asarray(output, np.float64) - reference) ** 2)
    return float("inf") if err == 0 else float(10 * np.log10(peak**2 / err))


def max_abs_error(output, reference):
    return float(np.max(np.abs(np.asarray(output, np.float64) - reference)))


def zone_plate(size, channels=3):
    """uint8 chirp whose local frequency reaches Nyquist at the borders."""
    h, w = size
    y, x = np.mgrid[:h, :w].astype(np.float64)
    y -= h / 2
    x -= w / 2
    image = 0.5 + 0.5 * np.cos(np.pi * (x**2 / w + y**2 / h))
    return np.repeat((image * 255).round().astype(np.uint8)[..., None], channels, -1)
