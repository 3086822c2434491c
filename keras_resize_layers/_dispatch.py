"""Which implementation resamples a batch: the one module that knows `_core` and `_tf`.

A call's data travels down: the public entry points (`_ops`, layers, tf.data
functions) prepare a batch and its geometry here; `finish` picks one of

- the taps of a static plan (`_core.taps`), when the batch's height and width
  are known while tracing and the geometry comes from the aspect policy; on a
  TensorFlow CPU run by the library's CPU op or XLA programs
  (`_tf.cpu_resample`), elsewhere as plain backend ops (fused by XLA);
- per-image taps (`_core.taps.resample_per_image`) for per-image boxes or
  sizes over a canvas known while tracing, when K fits `taps.MAX_TAPS`;
- TensorFlow CPU paths for sizes known only at run time: per-image taps
  planned in the graph (`_tf.cpu_resample.resample_dynamic`) for batches, and
  TensorFlow's own kernels (`_tf.ops`) for one image of run-time size;
- the dense matrix products (`_core.resample`) everywhere else.

`implementation="taps" | "matmul" | "tf"` forces one of them. Nothing below
imports this module.
"""

import numpy as np

from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import batch as batch_lib
from keras_resize_layers._core import options as options_lib
from keras_resize_layers._core import resample as resample_lib
from keras_resize_layers._core import taps

IMPLEMENTATIONS = ("auto", "taps", "matmul", "tf")


def check_implementation(implementation):
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(
            f"Unknown `implementation`: {implementation!r}. Expected one of "
            f"{', '.join(IMPLEMENTATIONS)}."
        )
    return implementation


def _tf_ops():
    """`_tf.ops`, imported when the input or the backend is TensorFlow (never before)."""
    from keras_resize_layers._tf import ops

    return ops


def prepare(bk, images, image_sizes=None):
    """A `batch.Batch` of `images`: dense input through `batch.prepare`, ragged
    TensorFlow batches densified with their sizes, and TensorFlow's run-time
    checks (sizes known only at run time, `image_sizes` in a graph) added."""
    if backend_lib.is_ragged(images):
        if image_sizes is not None:
            raise ValueError("`image_sizes` is for dense padded batches; a ragged batch "
                             "carries its images' sizes.")
        if bk.name != "tensorflow":
            raise ValueError("Ragged batches need the TensorFlow backend.")
        tf_ops = _tf_ops()
        if tf_ops.in_xla_context():
            raise ValueError(
                "A ragged batch cannot be resized inside a function that XLA compiles "
                "(jit_compile=True): its ragged -> dense step has no XLA kernel and a "
                "shape that depends on the data. Let Keras compile the model without XLA "
                "(the library's layers ask for it on their own unless `supports_jit` was "
                "set to True), resize in tf.data (`data.resize_fn` after `ragged_batch`), "
                "or feed a zero-padded batch with `image_sizes`.")
        in_dtype = options_lib.check_dtype(images.dtype.name, argument="image dtype")
        dense, heights, widths = tf_ops.ragged_to_dense(images)
        return batch_lib.Batch(dense, heights, widths, in_dtype, False, False, bk)
    batch = batch_lib.prepare(bk, images, image_sizes)
    if bk.name == "tensorflow":
        tf_ops = _tf_ops()
        if image_sizes is not None:
            batch.heights, batch.widths = tf_ops.assert_image_sizes(
                batch.heights, batch.widths, batch.raw, batch_lib.IMAGE_SIZES_MESSAGE)
        elif None in tuple(batch.raw.shape[1:3]):
            batch.raw = tf_ops.assert_nonempty(batch.raw)
    return batch


def assert_boxes_inside(boxes, heights, widths):
    """TensorFlow: `boxes` after a run-time check that each lies inside its image."""
    return _tf_ops().assert_boxes_inside(boxes, heights, widths)


def finish(bk, batch, size, options, geometry, by_policy, implementation="auto"):
    """Resamples a prepared batch to `size` with `geometry` and casts to
    `options.output_dtype()`.

    Args:
        bk: the backend namespace (`_core.backend.get`).
        batch: from `prepare`.
        size: `(height, width)` ints.
        options: a `ResizeOptions`.
        geometry: dict of int32 `(N,)` or `(1,)` tensors (`_core.geometry`).
        by_policy: True when `geometry` is `geometry.for_policy(options...)`,
            so that a plan built from the policy alone may replace it; False
            for boxes (crops, RandomResizedCrop).
        implementation: one of `IMPLEMENTATIONS`.
    """
    shared = batch.shared and all(_static_len(v) == 1 for v in geometry.values())
    if not shared and batch.shared:
        # Per-image boxes on a dense batch: broadcast the shared sizes.
        n = bk.shape(batch.raw)[0]
        geometry = {k: v + bk.numpy.zeros((n,), "int32") for k, v in geometry.items()}
    from_policy = by_policy and options.pad_position == "center"  # the plans centre pads
    # uint8 in and out: the CPU op rounds and saturates itself (no float32 batch to cast).
    uint8_out = batch.in_dtype == "uint8" and options.output_dtype() == "uint8"
    out = _resample(bk, batch, size, options, geometry, shared, from_policy, implementation,
                    uint8_out)
    if not (uint8_out and getattr(out.dtype, "name", None) == "uint8"):
        out = batch_lib.cast_output(bk, out, batch.in_dtype, options.output_dtype())
    return out[0] if batch.unbatched else out


def _static_len(x):
    shape = x.shape
    return shape[0] if len(shape) else 1


def _static_plan(batch, size, options, shared, from_policy):
    """The taps' plan when the batch's size is static and the policy fixed."""
    if not (shared and from_policy):
        return None
    return taps.static_plan(batch.raw, size, options.method, options.antialias,
                            options.policy, options.crop_fraction)


def _per_image_tap_bound(batch, size, options):
    """Static K per axis of per-image taps over the batch's canvas (its static
    height and width; may exceed MAX_TAPS), or None when the canvas is unknown."""
    canvas = batch.raw.shape[1:3]
    if not all(isinstance(d, (int, np.integer)) for d in canvas):
        return None
    ratios = taps.canvas_ratios(tuple(int(d) for d in canvas), size,
                                options.policy == "pad")
    return tuple(taps.tap_bound(options.method, options.antialias, r) for r in ratios)


def choose(bk, batch, size, options, shared, from_policy, implementation):
    """`(implementation, tf_cpu, plan, per_image)`: the implementation `auto`
    resolves to, whether this is a TensorFlow CPU outside XLA, the static plan
    (or None) and the static per-image K per axis (or None; it may exceed
    `taps.MAX_TAPS`, where the taps give way to the matmul)."""
    tf_cpu = bk.name == "tensorflow" and _tf_ops().cpu_outside_xla()
    plan = None
    if implementation in ("auto", "taps"):
        plan = _static_plan(batch, size, options, shared, from_policy)
    per_image = None  # static K of per-image taps (beyond MAX_TAPS: the matmul)
    if implementation in ("auto", "taps") and plan is None and not shared and not tf_cpu:
        per_image = _per_image_tap_bound(batch, size, options)
    per_image_fits = per_image is not None and max(per_image) <= taps.MAX_TAPS
    if implementation == "auto":
        # Taps when the size is known while tracing, on every backend and
        # device, and per image (ragged or padded batches, crop boxes) when
        # the canvas is; on a TensorFlow CPU per image whatever the canvas.
        # One size known only at run time (a tf.data element): TF's kernels
        # on a TensorFlow CPU, except area (TF's ResizeArea drifts ~6e-3 when
        # enlarging); matmul elsewhere.
        if plan is not None or per_image_fits or (tf_cpu and not shared):
            implementation = "taps"
        elif tf_cpu:
            implementation = "matmul" if options.method == "area" else "tf"
        else:
            implementation = "matmul"
    if implementation == "tf" and bk.name != "tensorflow":
        raise ValueError('implementation="tf" needs the TensorFlow backend.')
    if implementation == "taps" and plan is None and per_image is None and not tf_cpu:
        raise ValueError(
            f'implementation="taps" on the {bk.name} backend needs a batch '
            "whose height and width are known while tracing.")
    return implementation, tf_cpu, plan, per_image


def _resample(bk, batch, size, options, geometry, shared, from_policy, implementation,
              uint8_out=False):
    """float32 resampled batch; uint8 where `uint8_out` and the CPU op ran."""
    implementation, tf_cpu, plan, per_image = choose(
        bk, batch, size, options, shared, from_policy, implementation)
    policy = options.policy if from_policy else "boxes"
    if implementation == "taps":
        if per_image is not None and max(per_image) <= taps.MAX_TAPS:
            return taps.resample_per_image(
                bk, batch.raw, batch.heights, batch.widths, size, geometry,
                options.method, options.antialias, options.fill_value, policy, per_image)
        if plan is None and per_image is None:  # a TensorFlow CPU, run-time sizes
            from keras_resize_layers._tf import cpu_resample

            return cpu_resample.resample_dynamic(
                batch.raw, batch.heights, batch.widths, size, geometry, options.method,
                options.antialias, options.fill_value, policy, uint8_out)
        if plan is not None and "taps" in plan and tf_cpu:
            from keras_resize_layers._tf import cpu_resample

            return cpu_resample.resample_taps(batch.raw, size, plan, options.fill_value,
                                              options.policy, uint8_out)
        if plan is not None and "taps" in plan:
            return taps.resample_static(bk, batch.raw, size, plan, options.fill_value,
                                        options.policy)
        # Beyond taps.MAX_TAPS: the dense matmul.
    if implementation == "tf":
        return _tf_ops().resample_with_tf_kernels(
            batch.raw, size, geometry, options.method, options.antialias,
            options.fill_value, shared, policy if shared else "boxes")
    return resample_lib.resample(
        bk, batch.images, size, geometry, options.method, options.antialias,
        options.fill_value, options.policy, shared)
