"""Sparse separable resampling (*taps*), written with backend ops.

Each output pixel reads only the few input pixels under its kernel: per axis,
`resample.tap_starts` gives the first one and `resample.tap_counts` how many
(K); the weights of `resample.axis_weights` are evaluated at those positions
only. The resize is then, per axis, a sum of K gathered rows times their
weights. The rows pass views the image as `(N, rows, width * channels)` so
that each sum runs over whole contiguous rows, reading the integer input
directly (cast per gathered row: no float copy of it is made); the columns
pass gathers along the width of its float output, without transposes.

The plan (indices and weights) needs the input's height and width as Python
ints: it is computed once per size, on the host with NumPy at Keras's float32
defaults (`backend.numpy_backend`), and cached. K is rounded up to one of
`TAP_BUCKETS` (extra taps have weight 0); beyond `MAX_TAPS` (shrinking by more
than ~32x bilinear) the plan has no taps and the caller uses the dense matmul
of `resample.py`. Under XLA (JAX, `jit_compile=True`) the passes
fuse into one program; `tf_taps.py` compiles the same passes for TensorFlow on
a CPU.

Per-image sizes or boxes (padded batches with `image_sizes`, ragged batches,
RandomResizedCrop) get per-image taps computed in the graph by
`per_image_taps`, `(N, out, K)` indices and weights: memory linear in the
batch, no dense `(N, out, in)` matrix and no float copy of the input. K must
be static under `jit`; `tap_bound` gives one from the canvas alone, so every
image of any size or box inside it is covered (`resample_per_image`).
"""

import fractions
import functools
import math

import numpy as np

from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import geometry as geometry_lib
from keras_resize_layers._core import kernels
from keras_resize_layers._core import resample

TAP_BUCKETS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64)
MAX_TAPS = TAP_BUCKETS[-1]


def static_plan(images, size, method, antialias, policy, crop_fraction):
    """The plan of a dense batch whose height and width are static, else None.

    Returns a dict with the `geometry` and, up to MAX_TAPS, the bucketed count
    `taps`, int32 gather indices `iy`, `ix` and float32 weights `wy`, `wx`, each
    `(1, out, taps)`.
    """
    static_h, static_w = images.shape[1], images.shape[2]
    if not all(isinstance(d, (int, np.integer)) for d in (static_h, static_w)):
        return None
    return plan(int(static_h), int(static_w), tuple(size), method, antialias, policy,
                crop_fraction)


@functools.lru_cache(maxsize=256)
def plan(in_h, in_w, size, method, antialias, policy, crop_fraction):
    """Computed once per input size, with the matmul path's own weight functions."""
    bk = backend_lib.numpy_backend()
    g = geometry_lib.for_policy(bk, policy, np.array([in_h], np.int32),
                                np.array([in_w], np.int32), size, crop_fraction)
    result = dict(geometry={k: np.asarray(v, np.int32)[:1] for k, v in g.items()})
    # Antialias only widens the kernel on an axis that shrinks. For bilinear on an axis
    # that does not shrink, the antialiased kernel is non-zero on the 2 taps of the plain
    # one (its third tap has weight 0): place 2 taps, weigh them with the antialiased
    # formula, so enlarging costs nothing extra with antialias=True (same pixels).
    aa = {a: antialias and not (method == "bilinear" and int(g[f"box_{a}"][0]) <= int(
        g[f"place_{a}"][0])) for a in "hw"}
    taps = max(int(np.max(resample.tap_counts(bk, g[f"box_{a}"], g[f"place_{a}"], method,
                                              aa[a]))) for a in "hw")
    if taps > MAX_TAPS:
        return result
    result["taps"] = TAP_BUCKETS[int(np.searchsorted(TAP_BUCKETS, taps))]
    for axis, a, out_size, extent in (("y", "h", size[0], in_h), ("x", "w", size[1], in_w)):
        args = (g[f"box_{axis}"], g[f"box_{a}"], g[f"place_{axis}"], g[f"place_{a}"])
        first = resample.tap_starts(bk, out_size, *args, method, aa[a])
        cols = np.asarray(first, np.float32)[..., None] + np.arange(result["taps"],
                                                                   dtype=np.float32)
        result["w" + axis] = np.asarray(resample.axis_weights(
            bk, out_size, extent, *args, method, antialias, cols=cols), np.float32)
        result["i" + axis] = np.clip(cols.astype(np.int32), 0, extent - 1)
    return result


def passes(bk, images, iy, wy, ix, wx, gather=None):
    """Both passes: `(N, H, W, C)` of any dtype -> float32 `(N, h, w, C)`.

    `iy`, `wy`, `ix`, `wx`: `(1 or N, out, K)` indices and weights of each axis.
    `gather(x, index, axis)` reads the entries `index` (`(out,)`, or `(N, out)`
    for a per-image gather) of `x` along `axis`; defaults to a shared `take`.
    """
    xnp = bk.numpy
    if gather is None:
        def gather(x, index, axis):
            return xnp.take(x, index[0], axis=axis)

    n, rows, width, channels = bk.shape(images)
    # Rows: each output row is a weighted sum of K whole input rows.
    x = xnp.reshape(images, (n, rows, width * channels))
    acc = None
    for k in range(iy.shape[-1]):
        term = bk.cast(gather(x, iy[..., k], 1), "float32") * wy[:, :, k, None]
        acc = term if acc is None else acc + term
    x = xnp.reshape(acc, (n, bk.shape(iy)[1], width, channels))
    # Columns: the same along the width, on the (already smaller) float rows.
    acc = None
    for k in range(ix.shape[-1]):
        term = gather(x, ix[..., k], 2) * wx[:, None, :, k, None]
        acc = term if acc is None else acc + term
    return acc


def resample_static(bk, images, size, plan_, fill_value, policy, run=None):
    """Resizes a dense batch of static size with a plan that has `taps` (from
    `static_plan`): float32 `(N, height, width, C)`. `run(images, iy, wy, ix,
    wx)` runs the passes; defaults to `passes` with backend ops."""
    if run is None:
        run = functools.partial(passes, bk)
    out = run(images, *(bk.convert_to_tensor(plan_[k]) for k in ("iy", "wy", "ix", "wx")))
    if policy == "pad":
        geometry = {k: bk.convert_to_tensor(v) for k, v in plan_["geometry"].items()}
        out = resample.add_fill(bk, out, size, geometry, fill_value, True)
    return out


def tap_bound(method, antialias, ratio):
    """A static K >= `resample.tap_counts` for every box / placement ratio <= `ratio`.

    `ratio` is a `fractions.Fraction` (exact floors). `tap_counts` is
    floor(2R * max(box, place) / place) + 1 or 2 for ScaleAndTranslate's
    kernels, box // place + 1 or 2 for area, and fixed otherwise.
    """
    if method == "area":
        return math.floor(ratio) + 2
    if resample.fixed_taps(method, antialias):
        return {"nearest": 1, "bilinear": 2, "bicubic": 4}[method]
    width = int(round(2 * kernels.KERNELS[method][1]))
    return math.floor(width * (max(ratio, 1) if antialias else 1)) + 2


def canvas_ratios(canvas, size, letterbox):
    """Upper bounds of box / placement per axis for images inside a `canvas`
    `(H, W)` resized to `size`: H / h and W / w when each image's placement
    fills its axis (stretch, crop, boxes); for letterboxing the short side's
    placement is rounded to >= 1 pixel, which at most doubles the ratio."""
    rh, rw = fractions.Fraction(canvas[0], size[0]), fractions.Fraction(canvas[1], size[1])
    if letterbox:
        rh = rw = 2 * max(rh, rw)
    return rh, rw


def per_image_taps(bk, out_size, extent, box_start, box_len, place_start, place_len,
                   method, antialias, taps):
    """int32 indices (clipped to each image's `extent`, `(N,)`) and float32
    weights, both `(N, out_size, taps)`, for one axis of a batch of boxes."""
    xnp = bk.numpy
    first = resample.tap_starts(bk, out_size, box_start, box_len, place_start, place_len,
                                method, antialias)
    cols = first[..., None] + bk.cast(xnp.arange(taps), "float32")
    weights = resample.axis_weights(bk, out_size, None, box_start, box_len, place_start,
                                    place_len, method, antialias, cols=cols)
    index = xnp.clip(bk.cast(cols, "int32"), 0, bk.cast(extent, "int32")[:, None, None] - 1)
    return index, weights


def per_image_axes(bk, size, heights, widths, geometry, method, antialias, taps):
    """`(iy, wy, ix, wx)` of `per_image_taps` for both axes; `taps` is `(rows, columns)`."""
    g = geometry
    iy, wy = per_image_taps(bk, size[0], heights, g["box_y"], g["box_h"], g["place_y"],
                            g["place_h"], method, antialias, taps[0])
    ix, wx = per_image_taps(bk, size[1], widths, g["box_x"], g["box_w"], g["place_x"],
                            g["place_w"], method, antialias, taps[1])
    return iy, wy, ix, wx


def per_image_gather(bk):
    """`gather(x, index, axis)` with one `(out,)` index row per image (`(N, out)`)."""
    if bk.name == "tensorflow":
        import tensorflow as tf

        return lambda x, index, axis: tf.gather(x, index, axis=axis, batch_dims=1)

    def gather(x, index, axis):
        shape = [1] * len(x.shape)
        shape[0], shape[axis] = -1, index.shape[1]
        return bk.numpy.take_along_axis(x, bk.numpy.reshape(index, shape), axis=axis)

    return gather


def resample_per_image(bk, images, heights, widths, size, geometry, method, antialias,
                       fill_value, policy, taps):
    """Per-image taps: float32 `(N, height, width, C)`.

    Args:
        images: `(N, H, W, C)` of any supported dtype, each image in the top
            left `(heights[i], widths[i])`.
        heights, widths: int32 `(N,)`.
        geometry: `(N,)` int32 tensors of `geometry.py`.
        policy: `"pad"` adds `fill_value` outside each placement.
        taps: static K per axis `(rows, columns)` covering every image (`tap_bound`).
    """
    out = passes(bk, images, *per_image_axes(bk, size, heights, widths, geometry, method,
                                             antialias, taps), per_image_gather(bk))
    if policy == "pad":
        out = resample.add_fill(bk, out, size, geometry, fill_value, False)
    return out
