"""Sparse separable resampling compiled with XLA: the TensorFlow CPU path.

TensorFlow only. Each output pixel reads only the few input pixels under its
kernel (its *taps*): `resample.tap_starts` gives the first one, and the
weights of `resample.axis_weights` are evaluated at those positions only. The
resize is then, per axis, a sum of `K` gathered rows times their weights,
compiled with XLA into one fused loop that reads the integer input directly
(no float copy of the input is ever materialised) and vectorises over whole
image rows: the image is viewed as `(N, rows, width * channels)`, the rows
pass runs, the result is transposed so that the columns pass is a rows pass
too, and transposed back.

The number of taps must be static for XLA. It is rounded up to one of
`TAP_BUCKETS` (the extra taps have weight 0, which leaves every sum unchanged,
so the pixels do not depend on the bucket); when the input size is known
while tracing it is computed in Python, otherwise a `tf.switch_case` picks the
bucket at run time. Beyond the largest bucket (shrinking by more than ~30x
with a bilinear kernel) the dense matmul of `resample.py` takes over.

XLA compiles once per input shape; dynamic shapes (tf.data elements of
varying size) are zero-padded to multiples of `PAD_TO` so that a dataset
compiles a bounded number of programs (~0.1 s each on 2 cores).
"""

import functools

import numpy as np
import tensorflow as tf

from keras_resize_layers import backend as backend_lib
from keras_resize_layers import geometry as geometry_lib
from keras_resize_layers import resample

TAP_BUCKETS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64)
PAD_TO = 32
_GEOMETRY_ORDER = ("box_y", "box_h", "place_y", "place_h", "box_x", "box_w",
                   "place_x", "place_w")


def bucket(taps):
    """Index into TAP_BUCKETS of the smallest bucket >= `taps` (len = too many)."""
    return int(np.searchsorted(TAP_BUCKETS, taps))


@functools.lru_cache(maxsize=None)
def _kernel(taps, per_image, size, method, antialias):
    """(images (N, H, W, C) of any real dtype, true height and width, geometry,
    place/box scales) -> float32 (N, h, w, C), as two XLA programs.

    The taps and weights are computed by XLA too, so that their arithmetic is
    the same whatever graph (eager, traced, tf.data) the call sits in.
    """
    bk = backend_lib.get("tensorflow")

    def axis_pass(x, index, weight):
        # (N, R, A, C) -> (N, A, O, C): contract R with the taps, then swap axes.
        shape = tf.shape(x)
        n, rows, along, channels = shape[0], shape[1], shape[2], shape[3]
        x = tf.reshape(x, [n, rows, along * channels])
        acc = None
        for k in range(taps):
            if per_image:
                picked = tf.gather(x, index[:, :, k], axis=1, batch_dims=1)
            else:
                picked = tf.gather(x, index[0, :, k], axis=1)
            term = tf.cast(picked, tf.float32) * weight[:, :, k, None]
            acc = term if acc is None else acc + term
        out = tf.reshape(acc, [n, tf.shape(index)[1], along, channels])
        return tf.transpose(out, [0, 2, 1, 3])

    def axis_taps(out_size, extent, start, length, place_start, place_len, out_per_in):
        first = resample.tap_starts(bk, out_size, start, length, place_start, place_len,
                                    method, antialias, out_per_in[:, None])
        cols = first[..., None] + tf.range(taps, dtype=tf.float32)
        weights = resample.axis_weights(bk, out_size, extent, start, length, place_start,
                                        place_len, method, antialias, cols=cols,
                                        out_per_in=out_per_in[:, None])
        return tf.clip_by_value(tf.cast(cols, tf.int32), 0, extent - 1), weights

    # Two programs: fused into the passes, the taps would be recomputed for
    # every pixel they weigh.
    @tf.function(jit_compile=True, reduce_retracing=True, autograph=False)
    def taps_for(in_h, in_w, box_y, box_h, place_y, place_h, box_x, box_w, place_x,
                 place_w, scale_y, scale_x):
        return (axis_taps(size[0], in_h, box_y, box_h, place_y, place_h, scale_y)
                + axis_taps(size[1], in_w, box_x, box_w, place_x, place_w, scale_x))

    @tf.function(jit_compile=True, reduce_retracing=True, autograph=False)
    def passes(images, iy, wy, ix, wx):
        return axis_pass(axis_pass(images, iy, wy), ix, wx)

    def run(images, *geometry):
        return passes(images, *taps_for(*geometry))

    return run


@functools.lru_cache(maxsize=None)
def _dense_kernel(size, method, antialias, shared):
    """XLA function for more taps than the largest bucket: the dense matmul.

    Compiled too, so that its pixels do not depend on the calling graph.
    """
    bk = backend_lib.get("tensorflow")

    @tf.function(jit_compile=True, reduce_retracing=True, autograph=False)
    def run(images, *geometry):
        g = dict(zip(_GEOMETRY_ORDER, geometry))
        return resample.resample(bk, tf.cast(images, tf.float32), size, g, method,
                                 antialias, 0.0, "stretch", shared)

    return run


def _static_taps(bk, geometry, method, antialias):
    """Python int tap count when the geometry can be evaluated now, else None."""
    values = [tf.get_static_value(geometry[k]) for k in ("box_h", "place_h", "box_w",
                                                          "place_w")]
    if any(v is None for v in values):
        return None
    np_bk = _NumpyBackend()
    box_h, place_h, box_w, place_w = (np.asarray(v, np.int64) for v in values)
    return int(max(resample.tap_counts(np_bk, box_h, place_h, method, antialias).max(),
                   resample.tap_counts(np_bk, box_w, place_w, method, antialias).max()))


class _NumpyBackend:
    """The two members of a backend namespace that `tap_counts` uses."""
    numpy = np


@functools.lru_cache(maxsize=256)
def _policy_geometry(in_h, in_w, size, policy, crop_fraction):
    """Geometry of a fixed policy for a static input size, as NumPy int32 `(1,)`."""
    bk = backend_lib.get("tensorflow")
    with tf.init_scope():
        g = geometry_lib.for_policy(bk, policy, tf.constant([in_h]), tf.constant([in_w]),
                                    size, crop_fraction)
        return {k: v.numpy()[:1] for k, v in g.items()}


def resample_taps(images, size, geometry, method, antialias, fill_value, policy,
                  shared, fixed_policy=None):
    """Same contract as `resample.resample`, on the raw (integer or float) batch.

    Args:
        images: dense `(N, H, W, C)` tensor of any supported dtype.
        size, geometry, method, antialias, fill_value, policy, shared: as in
            `resample.resample`.
        fixed_policy: `(policy, crop_fraction)` when `geometry` comes from a
            fixed policy (so it is a function of the static input size).
    """
    bk = backend_lib.get("tensorflow")
    images = tf.convert_to_tensor(images)
    static_h, static_w = images.shape[1], images.shape[2]
    shape = tf.shape(images)
    in_h, in_w = shape[1], shape[2]
    if fixed_policy is not None and shared and static_h is not None and static_w is not None:
        geometry = _policy_geometry(int(static_h), int(static_w), tuple(size), *fixed_policy)
    taps = _static_taps(bk, geometry, method, antialias)
    geometry = {k: tf.convert_to_tensor(v, tf.int32) for k, v in geometry.items()}
    padded = images
    if static_h is None or static_w is None:
        # Bound the number of XLA programs: pad unknown sizes up to a multiple of
        # PAD_TO. Taps never read the padding (indices are clipped to the image);
        # the dense fallback gets the exact image (padding would change its sums).
        pad_h = (-in_h) % PAD_TO if static_h is None else 0
        pad_w = (-in_w) % PAD_TO if static_w is None else 0
        padded = tf.pad(images, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]])
    h, w = size
    g = geometry
    # place / box, divided outside the XLA program (see `resample._span`).
    scale_y = tf.cast(g["place_h"], tf.float32) / tf.cast(g["box_h"], tf.float32)
    scale_x = tf.cast(g["place_w"], tf.float32) / tf.cast(g["box_w"], tf.float32)

    def run_bucket(k):
        kernel = _kernel(k, not shared, tuple(size), method, antialias)
        return lambda: kernel(padded, in_h, in_w, *(g[key] for key in _GEOMETRY_ORDER),
                              scale_y, scale_x)

    def dense():
        return _dense_kernel(tuple(size), method, antialias, shared)(
            images, *(g[key] for key in _GEOMETRY_ORDER))

    if taps is not None:
        index = bucket(taps)
        out = run_bucket(TAP_BUCKETS[index])() if index < len(TAP_BUCKETS) else dense()
    else:
        counts = tf.maximum(
            tf.reduce_max(resample.tap_counts(bk, g["box_h"], g["place_h"], method,
                                              antialias)),
            tf.reduce_max(resample.tap_counts(bk, g["box_w"], g["place_w"], method,
                                              antialias)))
        index = tf.searchsorted(tf.constant(TAP_BUCKETS, tf.int32), counts[None])[0]
        out = tf.switch_case(index, [run_bucket(k) for k in TAP_BUCKETS] + [dense])
    out = tf.ensure_shape(out, [None, h, w, images.shape[-1]])
    if policy == "pad":
        out = resample.add_fill(bk, out, size, geometry, fill_value, shared)
    return out
