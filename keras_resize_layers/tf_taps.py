"""Sparse separable resampling compiled with XLA: the TensorFlow CPU fast path.

TensorFlow only. Each output pixel reads only the few input pixels under its
kernel (its *taps*): `resample.tap_starts` gives the first one, and the
weights of `resample.axis_weights` are evaluated at those positions only. The
resize is then, per axis, a sum of K gathered rows times their weights,
compiled with XLA into one fused loop that reads the integer input directly
(no float copy of the input is ever materialised) and vectorises over whole
image rows: the image is viewed as `(N, rows, width * channels)`, the rows
pass runs, the result is transposed so that the columns pass is a rows pass
too, and transposed back.

K must be static for XLA, so this path serves inputs whose size is known
while tracing (eager calls, models with a fixed input size, dense batches in
a `tf.function`), with a fixed policy. K is rounded up to one of
`TAP_BUCKETS` (extra taps have weight 0 and leave every sum unchanged);
beyond the largest (shrinking by more than ~32x with a bilinear kernel) an
XLA-compiled dense matmul takes over. XLA compiles one program per input
shape (~0.1-0.3 s on 2 cores).

Inputs of unknown size (tf.data elements of varying size, ragged batches,
random crop boxes) go to TensorFlow's own kernels instead (`tf_ops.py`): the
run-time dispatch among compiled programs that was tried cost more per
`tf.data` element than it saved, and its first batch on every new iterator
took ~0.7 s (BUILD_NOTES).
"""

import functools

import numpy as np
import tensorflow as tf

from keras_resize_layers import backend as backend_lib
from keras_resize_layers import geometry as geometry_lib
from keras_resize_layers import resample

TAP_BUCKETS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64)
MAX_TAPS = TAP_BUCKETS[-1]
# Sizes known only at run time: fewer programs (each is chosen at run time).
DYNAMIC_BUCKETS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16)
PAD_TO = 64


def static_plan(images, size, method, antialias, policy, crop_fraction):
    """The taps of a dense batch with a static height and width, else None.

    Returns a dict with the geometry and NumPy weights `wy`, `wx`: with the
    bucketed count `taps` and gather indices `iy`, `ix`, each `(1, out, taps)`;
    beyond MAX_TAPS, dense `(out, in)` matrices and no `taps`.
    """
    static_h, static_w = images.shape[1], images.shape[2]
    if static_h is None or static_w is None:
        return None
    return _plan(int(static_h), int(static_w), tuple(size), method, antialias, policy,
                 crop_fraction)


@functools.lru_cache(maxsize=256)
def _plan(in_h, in_w, size, method, antialias, policy, crop_fraction):
    """Computed once, eagerly, with the same ops as the matmul path's weights."""
    bk = backend_lib.get("tensorflow")
    with tf.init_scope():
        g = geometry_lib.for_policy(bk, policy, tf.constant([in_h]), tf.constant([in_w]),
                                    size, crop_fraction)
        plan = dict(geometry={k: v.numpy()[:1] for k, v in g.items()})
        taps = max(int(tf.reduce_max(resample.tap_counts(
            bk, g[f"box_{a}"], g[f"place_{a}"], method, antialias))) for a in "hw")
        if taps <= MAX_TAPS:
            plan["taps"] = TAP_BUCKETS[int(np.searchsorted(TAP_BUCKETS, taps))]
        for axis, a, out_size, extent in (("y", "h", size[0], in_h), ("x", "w", size[1], in_w)):
            args = (g[f"box_{axis}"], g[f"box_{a}"], g[f"place_{axis}"], g[f"place_{a}"])
            if "taps" not in plan:  # dense (out, in) matrices
                plan["w" + axis] = resample.axis_weights(bk, out_size, extent, *args, method,
                                                         antialias)[0].numpy()
                continue
            first = resample.tap_starts(bk, out_size, *args, method, antialias)
            cols = first[..., None] + tf.range(plan["taps"], dtype=tf.float32)
            plan["w" + axis] = resample.axis_weights(
                bk, out_size, extent, *args, method, antialias, cols=cols).numpy()
            plan["i" + axis] = np.clip(cols.numpy().astype(np.int32), 0, extent - 1)
        return plan


@functools.lru_cache(maxsize=None)
def _passes_program(taps, dtype, per_image=False):
    """XLA function: (images (N, H, W, C) of `dtype`, indices and weights of both
    axes) -> float32 (N, h, w, C): per axis, a sum of `taps` gathered rows.
    Indices and weights are `(1, out, taps)`, or `(N, out, taps)` with `per_image`."""

    def axis_pass(x, index, weight):
        # (N, R, A, C) -> (N, A, O, C): contract R with the taps, then swap axes.
        shape = tf.shape(x)
        n, rows, along, channels = shape[0], shape[1], shape[2], shape[3]
        x = tf.reshape(x, [n, rows, along * channels])
        acc = None
        for i, w in zip(tf.unstack(index if per_image else index[0], axis=-1),
                        tf.unstack(weight, axis=2)):
            rows_read = tf.gather(x, i, axis=1, batch_dims=1 if per_image else 0)
            term = tf.cast(rows_read, tf.float32) * w[:, :, None]
            acc = term if acc is None else acc + term
        out = tf.reshape(acc, [n, tf.shape(index)[1], along, channels])
        return tf.transpose(out, [0, 2, 1, 3])

    @tf.function(jit_compile=True, autograph=False)
    def run(images, iy, wy, ix, wx):
        return axis_pass(axis_pass(images, iy, wy), ix, wx)

    index = tf.TensorSpec([None, None, taps], tf.int32)
    weight = tf.TensorSpec([None, None, taps], tf.float32)
    return run.get_concrete_function(tf.TensorSpec([None] * 4, dtype), index, weight,
                                     index, weight)


@functools.lru_cache(maxsize=None)
def _dense_program(dtype):
    """XLA function for more taps than MAX_TAPS: (images, (h, H) and (w, W)
    weight matrices) -> float32 (N, h, w, C), two matrix products."""

    @tf.function(jit_compile=True, autograph=False)
    def run(images, wy, wx):
        x = tf.einsum("oh,nhwc->nowc", wy, tf.cast(images, tf.float32))
        return tf.einsum("pw,nowc->nopc", wx, x)

    matrix = tf.TensorSpec([None, None], tf.float32)
    return run.get_concrete_function(tf.TensorSpec([None] * 4, dtype), matrix, matrix)


def resample_taps(images, size, plan, fill_value, policy):
    """Resizes a dense batch of static size with the plan of `static_plan`.

    Args:
        images: `(N, H, W, C)` tensor of any supported dtype, H and W static.
        size, fill_value, policy: as in `resize`.
        plan: from `static_plan` (which fixed the method and antialiasing).

    Returns:
        float32 `(N, height, width, C)`.
    """
    images = tf.convert_to_tensor(images)
    if "taps" in plan:
        out = _passes_program(plan["taps"], images.dtype)(
            images, *(tf.constant(plan[k]) for k in ("iy", "wy", "ix", "wx")))
    else:
        out = _dense_program(images.dtype)(images, tf.constant(plan["wy"]),
                                           tf.constant(plan["wx"]))
    out = tf.ensure_shape(out, [None, size[0], size[1], images.shape[-1]])
    if policy == "pad":
        geometry = {k: tf.constant(v, tf.int32) for k, v in plan["geometry"].items()}
        out = resample.add_fill(backend_lib.get("tensorflow"), out, size, geometry,
                                fill_value, True)
    return out


def _taps_of_axis(bk, out_size, extent, box_start, box_len, place_start, place_len, method,
                  antialias, taps):
    """int32 indices (clipped to each image's extent) and float32 weights, `(B, out, taps)`."""
    first = resample.tap_starts(bk, out_size, box_start, box_len, place_start, place_len,
                                method, antialias)
    cols = first[..., None] + tf.range(taps, dtype=tf.float32)
    weights = resample.axis_weights(bk, out_size, None, box_start, box_len, place_start,
                                    place_len, method, antialias, cols=cols)
    index = tf.clip_by_value(tf.cast(cols, tf.int32), 0, extent[:, None, None] - 1)
    return index, weights


def resample_dynamic(images, heights, widths, size, geometry, method, antialias, fill_value,
                     policy):
    """The taps for batches whose sizes or boxes are only known at run time.

    Ragged batches (as a zero-padded dense batch and per-image sizes), padded
    batches with `image_sizes`, per-image crop boxes, dense batches of unknown
    size. The taps and weights are computed in the graph, per image, with the
    same ops as `static_plan`; K is the batch's largest tap count rounded up to
    one of `DYNAMIC_BUCKETS` (one XLA program each, chosen at run time), and the
    batch is zero-padded to a multiple of `PAD_TO` pixels so that XLA compiles
    one program per size bucket rather than per size. Beyond the largest bucket,
    TensorFlow's kernels resize image by image (area: the matmul weights).

    Args:
        images: `(N, H, W, C)`, each image in the top-left `(heights[i], widths[i])`.
        heights, widths: int32 `(N,)` or `(1,)`.
        size, method, antialias, fill_value: as in `resize`.
        geometry: `(N,)` or `(1,)` int32 tensors of `geometry.py`.
        policy: `"pad"` adds `fill_value` outside each placement.

    Returns:
        float32 `(N, height, width, C)`.
    """
    from keras_resize_layers import tf_ops

    bk = backend_lib.get("tensorflow")
    images = tf.convert_to_tensor(images)
    shape = tf.shape(images)
    zeros = tf.zeros(shape[:1], tf.int32)
    g = {k: tf.cast(v, tf.int32) + zeros for k, v in geometry.items()}
    heights, widths = heights + zeros, widths + zeros
    need = tf.maximum(
        tf.reduce_max(resample.tap_counts(bk, g["box_h"], g["place_h"], method, antialias)),
        tf.reduce_max(resample.tap_counts(bk, g["box_w"], g["place_w"], method, antialias)))
    padded = tf.pad(images, [[0, 0], [0, -shape[1] % PAD_TO], [0, -shape[2] % PAD_TO],
                             [0, 0]])

    def taps_branch(taps):
        def run():
            iy, wy = _taps_of_axis(bk, size[0], heights, g["box_y"], g["box_h"], g["place_y"],
                                   g["place_h"], method, antialias, taps)
            ix, wx = _taps_of_axis(bk, size[1], widths, g["box_x"], g["box_w"], g["place_x"],
                                   g["place_w"], method, antialias, taps)
            out = _passes_program(taps, images.dtype, per_image=True)(padded, iy, wy, ix, wx)
            if policy == "pad":
                out = resample.add_fill(bk, out, size, g, fill_value, False)
            return out
        return run

    def kernels_branch():
        if method == "area":  # TF's ResizeArea drifts ~6e-3 when enlarging
            return resample.resample(bk, tf.cast(images, tf.float32), size, g, method,
                                     antialias, fill_value, policy, False)
        return tf_ops.resample_with_tf_kernels(images, size, g, method, antialias,
                                               fill_value, False, "boxes")

    bucket = tf.searchsorted(tf.constant(DYNAMIC_BUCKETS), need[None])[0]
    out = tf.switch_case(bucket, [taps_branch(t) for t in DYNAMIC_BUCKETS] + [kernels_branch])
    return tf.ensure_shape(out, [None, size[0], size[1], images.shape[-1]])
