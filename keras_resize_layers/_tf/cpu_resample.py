"""Resampling on a TensorFlow CPU: the taps (`_core/taps.py`) run by the CPU op or XLA.

TensorFlow only. `resample_taps` runs the passes of `taps.passes` for a batch
of static size; `resample_dynamic` serves batches whose sizes or boxes are
only known at run time (ragged or padded batches, per-image crop boxes), with
the plan built in the graph per image. Both call the library's CPU op
(`native.py`) when it is usable: any K, any size, nothing to compile.

Otherwise (no C compiler, `KRL_NATIVE=0`, or while a SavedModel is written)
they run XLA programs: one per K and dtype for static sizes (one compilation
per input shape); for run-time sizes K is chosen at
run time among `DYNAMIC_BUCKETS` (fewer inside tf.data: `TF_DATA_BUCKETS`)
and the batch is padded to a `SIZE_LADDER` size so that XLA compiles per size
bucket. A single image of run-time size (a tf.data element) goes to
TensorFlow's own kernels on either path (`ops.py`), bit-identical with the
exported any-size signature. Why and how fast: BUILD_NOTES."""

import functools

import tensorflow as tf

from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import resample
from keras_resize_layers._core import taps as taps_lib
from keras_resize_layers._tf import native

# Sizes known only at run time: one program per bucket of K (chosen at run
# time). Up to SHARED_TAPS the branches read the first K of taps computed once;
# beyond it each branch computes its own. Inside tf.data, where every new
# iterator instantiates the branches again, TF_DATA_BUCKETS, then TF's kernels
# image by image.
DYNAMIC_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 64)
TF_DATA_BUCKETS = (2, 3, 6, 16)
SHARED_TAPS = 16

# Padded heights and widths: half-octave steps (32, 48, 64, 96, ...), so that a
# stream of images of any sizes compiles a few programs (at most 50% padding).
SIZE_LADDER = tuple(sorted({b << k for b in (32, 48) for k in range(12)}))


def _pad_size(n):
    """The smallest SIZE_LADDER entry >= n (beyond it, n rounded up to 1024)."""
    ladder = tf.constant(SIZE_LADDER)
    index = tf.searchsorted(ladder, tf.reshape(n, [1]))[0]
    return tf.where(index < len(SIZE_LADDER), tf.gather(ladder, tf.minimum(
        index, len(SIZE_LADDER) - 1)), n + (-n % 1024))


@functools.lru_cache(maxsize=None)
def _passes_program(taps, dtype, per_image=False):
    """XLA function: (images (N, H, W, C) of `dtype`, indices and weights of both
    axes) -> float32 (N, h, w, C), the passes of `taps.passes`. Indices and
    weights are `(1, out, taps)`, or `(N, out, taps)` with `per_image`."""
    bk = backend_lib.get("tensorflow")
    gather = taps_lib.per_image_gather(bk) if per_image else None

    @tf.function(jit_compile=True, autograph=False)
    def run(images, iy, wy, ix, wx):
        return taps_lib.passes(bk, images, iy, wy, ix, wx, gather)

    index = tf.TensorSpec([None, None, taps], tf.int32)
    weight = tf.TensorSpec([None, None, taps], tf.float32)
    return run.get_concrete_function(tf.TensorSpec([None] * 4, dtype), index, weight,
                                     index, weight)


def _unaliased(images, taps):
    """`images`, widened by 16 zero columns (a copy) when its rows are a multiple
    of 4 KiB and each output row reads >= 32 of them, so that K rows 4 KiB apart
    do not share cache sets. The columns pass never reads the new columns."""
    if taps < 32 or None in images.shape[2:]:
        return images
    if images.shape[2] * images.shape[3] * images.dtype.size % 4096:
        return images
    return tf.pad(images, [[0, 0], [0, 0], [0, 16], [0, 0]])


def _op_out_dtype(images, policy, uint8_out):
    """uint8 where uint8 images are wanted as uint8 and no fill is added after the op."""
    return tf.uint8 if uint8_out and images.dtype == tf.uint8 and policy != "pad" \
        else tf.float32


def resample_taps(images, size, plan, fill_value, policy, uint8_out=False):
    """`taps.resample_static` with the passes run by the CPU op, else compiled by XLA.

    Args:
        images: `(N, H, W, C)` tensor of any supported dtype, H and W static.
        size, fill_value, policy: as in `resize`.
        plan: from `taps.static_plan`, with `taps`.
        uint8_out: uint8 images wanted as uint8 (rounded half to even, saturated):
            the op writes them so where it runs and no fill follows.

    Returns:
        float32 `(N, height, width, C)`, or uint8 where `uint8_out` was served.
    """
    images = tf.convert_to_tensor(images)
    if native.usable(images.dtype):  # the op needs no widening
        run = functools.partial(native.run, out_dtype=_op_out_dtype(images, policy, uint8_out))
    else:
        images = _unaliased(images, plan["taps"])
        run = _passes_program(plan["taps"], images.dtype)
    out = taps_lib.resample_static(backend_lib.get("tensorflow"), images, size, plan,
                                   fill_value, policy, run=run)
    return tf.ensure_shape(out, [None, size[0], size[1], images.shape[-1]])


def resample_dynamic(images, heights, widths, size, geometry, method, antialias, fill_value,
                     policy, uint8_out=False):
    """The taps for batches whose sizes or boxes are only known at run time.

    Ragged batches (as a zero-padded dense batch and per-image sizes), padded
    batches with `image_sizes`, per-image crop boxes, dense batches of unknown
    size. The taps and weights are computed in the graph, per image, with the
    functions of `taps.plan`, for the batch's largest tap count K; the CPU op
    takes them as they are (planned once per distinct size and box), else
    `_bucketed` runs XLA programs.

    Args:
        images: `(N, H, W, C)`, each image in the top-left `(heights[i], widths[i])`.
        heights, widths: int32 `(N,)` or `(1,)`.
        size, method, antialias, fill_value: as in `resize`.
        geometry: `(N,)` or `(1,)` int32 tensors of `geometry.py`.
        policy: `"pad"` adds `fill_value` outside each placement.
        uint8_out: as in `resample_taps`.

    Returns:
        float32 `(N, height, width, C)`, or uint8 where `uint8_out` was served.
    """
    bk = backend_lib.get("tensorflow")
    images = tf.convert_to_tensor(images)
    zeros = tf.zeros(tf.shape(images)[:1], tf.int32)
    g = {k: tf.cast(v, tf.int32) + zeros for k, v in geometry.items()}
    heights, widths = heights + zeros, widths + zeros
    if native.usable(images.dtype):  # any K, any size: one op, no buckets, no padding
        out = native.run(images, *_distinct_taps(size, heights, widths, g, method, antialias),
                         out_dtype=_op_out_dtype(images, policy, uint8_out))
    else:
        need_h, need_w = _need(g, method, antialias)
        out = _bucketed(images, heights, widths, size, g, method, antialias, policy,
                        tf.maximum(need_h, need_w))
    if policy == "pad":
        out = resample.add_fill(bk, out, size, g, fill_value, False)
    return tf.ensure_shape(out, [None, size[0], size[1], images.shape[-1]])


_GEOMETRY = ("box_y", "box_x", "box_h", "box_w", "place_y", "place_x", "place_h", "place_w")


def _need(g, method, antialias):
    """The batch's largest tap count on each axis (int32 scalars)."""
    bk = backend_lib.get("tensorflow")
    return tuple(tf.reduce_max(resample.tap_counts(bk, g[f"box_{a}"], g[f"place_{a}"], method,
                                                   antialias)) for a in "hw")


def _distinct_taps(size, heights, widths, g, method, antialias):
    """`per_image_axes` of a batch, planned once per distinct (extent,
    geometry) row and gathered: a batch of equal sizes plans one row."""
    bk = backend_lib.get("tensorflow")
    key = tf.stack([heights, widths] + [g[k] for k in _GEOMETRY], axis=1)
    rows, which = tf.raw_ops.UniqueV2(x=key, axis=[0])
    distinct = {k: rows[:, i + 2] for i, k in enumerate(_GEOMETRY)}
    axes = taps_lib.per_image_axes(bk, size, rows[:, 0], rows[:, 1], distinct, method,
                                   antialias, _need(distinct, method, antialias))
    return [tf.gather(a, which) for a in axes]


def _bucketed(images, heights, widths, size, g, method, antialias, policy, need):
    """`resample_dynamic` without the op, unfilled: K is `need` rounded up to one
    of `DYNAMIC_BUCKETS` (one XLA program each, chosen at run time), and the
    batch is zero-padded to a `SIZE_LADDER` height and width so that XLA
    compiles one program per size bucket rather than per size. Beyond the
    largest bucket, TensorFlow's kernels resize image by image (area: the
    matmul weights)."""
    from keras_resize_layers._tf import ops as tf_ops

    bk = backend_lib.get("tensorflow")
    shape = tf.shape(images)
    padded = tf.pad(images, [[0, 0], [0, _pad_size(shape[1]) - shape[1]],
                             [0, _pad_size(shape[2]) - shape[2]], [0, 0]])

    def axes(taps):
        return taps_lib.per_image_axes(bk, size, heights, widths, g, method, antialias,
                                       (taps, taps))

    # Taps and weights for SHARED_TAPS, computed once outside the branches;
    # each small branch reads its first `taps` (the rest have weight 0 for the
    # images that need fewer): small branches instantiate fast.
    shared = axes(SHARED_TAPS)

    def taps_branch(taps):
        def run():
            args = [a[..., :taps] for a in shared] if taps <= SHARED_TAPS else axes(taps)
            return _passes_program(taps, images.dtype, per_image=True)(padded, *args)
        return run

    def kernels_branch():
        # Unfilled, like the taps: the caller adds the fill.
        if method == "area":  # TF's ResizeArea drifts ~6e-3 when enlarging
            return resample.resample(bk, tf.cast(images, tf.float32), size, g, method,
                                     antialias, 0.0, policy, False)
        return tf_ops.resample_with_tf_kernels(images, size, g, method, antialias, 0.0,
                                               False, "boxes")

    buckets = TF_DATA_BUCKETS if tf_ops.in_tf_data_function() else DYNAMIC_BUCKETS
    bucket = tf.searchsorted(tf.constant(buckets), need[None])[0]
    return tf.switch_case(bucket, [taps_branch(t) for t in buckets] + [kernels_branch])
