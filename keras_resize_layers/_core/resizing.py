"""`resize`: the one function behind the layer, the tf.data map function and serving."""

import numpy as np

from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import geometry as geometry_lib
from keras_resize_layers._core import options
from keras_resize_layers._core import resample as resample_lib

IMPLEMENTATIONS = ("auto", "taps", "matmul", "tf")


def _dtype_name(x):
    from keras import backend as kb

    dtype = x.dtype
    try:
        name = kb.standardize_dtype(dtype)
    except Exception:  # e.g. tf.string on some versions
        name = getattr(dtype, "name", str(dtype))
    return options.check_dtype(name, argument="image dtype")


def _static_shape(x):
    shape = x.shape
    if hasattr(shape, "as_list"):
        return shape.as_list() if shape.rank is not None else None
    return list(shape)


def _check_static_shape(shape, data_format="channels_last"):
    if shape is None:
        raise ValueError("`images` must have a known rank (3 or 4).")
    first = data_format == "channels_first"
    layout = "channels, height, width" if first else "height, width, channels"
    if len(shape) not in (3, 4):
        raise ValueError(
            f"`images` must have rank 3 ({layout}) or rank 4 (batch, {layout}) for "
            f"data_format={data_format!r}. Received: images.shape={tuple(shape)} "
            f"(rank {len(shape)})"
        )
    if first:
        channels, height, width = shape[-3:]
    else:
        height, width, channels = shape[-3:]
    if channels is None:
        raise ValueError(
            f"The channel axis of `images` must be known while tracing; with "
            f"data_format={data_format!r} it is axis {-3 if first else -1} of "
            f"images.shape={tuple(shape)}. Pass data_format to match the images.")
    for name, dim in (("height", height), ("width", width), ("channels", channels)):
        if dim == 0:
            raise ValueError(
                f"`images` has a zero-size {name}: images.shape={tuple(shape)}. "
                "Every image must have non-zero height, width and channels."
            )


def cast_output(bk, x, in_dtype, out_dtype):
    """float32 -> `out_dtype`: integer outputs are rounded and saturated.

    Kernels that overshoot (bicubic, lanczos) are clipped to the input
    dtype's range when both are integer (uint8 in, uint16 out stays 0..255).
    """
    xnp = bk.numpy
    if out_dtype in options.INTEGER_RANGES:
        lo, hi = options.INTEGER_RANGES[out_dtype]
        if in_dtype in options.INTEGER_RANGES:
            in_lo, in_hi = options.INTEGER_RANGES[in_dtype]
            lo, hi = max(lo, in_lo), min(hi, in_hi)
        if hi >= 2**24:
            # float32 cannot hold 2**31 - 1: it rounds to 2**31, which wraps
            # on the cast. Clip below, then saturate on the integer side.
            top = float(np.nextafter(np.float32(hi), np.float32(0)))
            over = x >= float(hi)
            out = bk.cast(xnp.clip(xnp.round(x), float(lo), top), out_dtype)
            return xnp.where(over, bk.cast(hi, out_dtype), out)
        x = xnp.clip(xnp.round(x), float(lo), float(hi))
    return bk.cast(x, out_dtype)


def resize(images, size, method="bilinear", antialias=True, policy="stretch",
           crop_fraction=1.0, fill_value=0.0, dtype="float32",
           implementation="auto", backend=None, image_sizes=None, data_format=None,
           pad_position="center"):
    """Resizes images with a chosen kernel, antialiasing and aspect-ratio policy.

    The one resampling core of the library: `layers.Resize`, the tf.data map
    function `data.resize_fn` and exported serving signatures all call it, so
    they produce the same pixels.

    Args:
        images: `(H, W, C)` or `(N, H, W, C)` tensor or NumPy array, or a
            `tf.RaggedTensor` batch `(N, None, None, C)` of images of
            different sizes. dtypes: uint8, uint16, int32, float16, bfloat16,
            float32, float64. Any number of channels.
        size: `(height, width)` of the output.
        method: resampling kernel, one of `nearest`, `bilinear`, `bicubic`,
            `area`, `lanczos3`, `lanczos5`, `gaussian`, `mitchellcubic`.
            Defaults to `"bilinear"`.
        antialias: when shrinking, widen the kernel by the scale factor so that
            detail finer than the output grid is averaged, not aliased. Has no
            effect on `nearest` and `area` (a box average). Defaults to `True`.
        policy: `"stretch"` (ignore the aspect ratio), `"crop"` (centre crop
            to the output aspect ratio, keeping `crop_fraction` of it) or
            `"pad"` (letterbox with `fill_value`). Defaults to `"stretch"`.
        crop_fraction: in (0, 1]; with `policy="crop"`, the fraction of the
            aspect-ratio box kept (0.875 is the ImageNet evaluation recipe).
        fill_value: value of the padding with `policy="pad"`, on the output
            scale. Defaults to 0.
        dtype: output dtype. Values keep the input's scale (0..255 for uint8).
            Integer outputs are rounded and saturated. Defaults to `"float32"`.
        implementation: `"auto"`: sparse taps wherever the input's height
            and width are known while tracing (every backend and device; one
            op of the library's own on a TensorFlow CPU, `_tf/native.py`,
            else an XLA program); on a TensorFlow CPU also for
            batches of images of different sizes (ragged, `image_sizes`) or
            boxes, and TensorFlow's own kernels for one size known only at
            run time; matrix products otherwise. Or `"taps"`, `"tf"`,
            `"matmul"`. All agree to 5e-4 on the 0..255 scale.
        backend: Keras backend name or namespace; defaults to the global one.
        image_sizes: optional int `(N, 2)`: for a zero-padded dense batch (as
            `Dataset.padded_batch` makes), the `(height, width)` of each
            image, which occupies the top-left corner of its slot.
        data_format: `"channels_last"` (`(N, H, W, C)`) or `"channels_first"`
            (`(N, C, H, W)`); defaults to `keras.config.image_data_format()`.
            Channels-first is transposed at the edge: its output is exactly
            the transposed channels-last output. Ragged batches are
            channels-last.
        pad_position: with `policy="pad"`, where the scaled image sits:
            `"center"` (default) or `"top_left"` (detection: boxes then only
            scale).

    Returns:
        Dense `(N, height, width, C)` (or `(height, width, C)` for rank-3
        input; channels first with `data_format="channels_first"`) tensor of
        `dtype`.

    Example:

    >>> import numpy as np
    >>> image = np.zeros((480, 640, 3), "uint8")
    >>> resize(image, (224, 224), policy="crop", crop_fraction=0.875).shape
    TensorShape([224, 224, 3])
    """
    size = options.check_size_pair(size)
    opts = options.check_options(size[0], size[1], method, antialias, policy,
                                 crop_fraction, fill_value, dtype)
    opts.update(from_policy=True)
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(
            f"Unknown `implementation`: {implementation!r}. Expected one of "
            f"{', '.join(IMPLEMENTATIONS)}."
        )
    bk = backend_lib.get(backend)
    data_format = options.check_data_format(data_format)
    images = to_channels_last(bk, images, data_format)
    batch = prepare(bk, images, image_sizes)
    geometry = geometry_lib.for_policy(
        bk, opts["policy"], batch.heights, batch.widths, opts["size"],
        opts["crop_fraction"], check_pad_position(pad_position),
    )
    if pad_position != "center":
        opts.update(from_policy=False)  # the taps' static plan centres the padding
    return from_channels_last(bk, finish(bk, batch, opts, geometry, implementation),
                              data_format)


def check_pad_position(pad_position):
    if pad_position not in ("center", "top_left"):
        raise ValueError(f"Unknown `pad_position`: {pad_position!r}. Expected 'center' or "
                         "'top_left'.")
    return pad_position


def to_channels_last(bk, images, data_format):
    """Channels-first images transposed to channels-last (others unchanged)."""
    if data_format == "channels_last":
        return images
    if backend_lib.is_ragged(images):
        raise ValueError('Ragged batches are channels-last (N, None, None, C); got '
                         'data_format="channels_first".')
    if isinstance(images, (np.ndarray, list, tuple)):
        images = np.asarray(images)
    shape = _static_shape(images)
    _check_static_shape(shape, data_format)
    perm = (1, 2, 0) if len(shape) == 3 else (0, 2, 3, 1)
    return bk.numpy.transpose(bk.convert_to_tensor(images), perm)


def from_channels_last(bk, images, data_format):
    if data_format == "channels_last":
        return images
    perm = (2, 0, 1) if len(images.shape) == 3 else (0, 3, 1, 2)
    return bk.numpy.transpose(images, perm)


class Batch:
    """A batch ready for resampling: float32 `(N, H, W, C)` (zero-padded for
    ragged input) and per-image heights and widths (`(1,)` when all share)."""

    def __init__(self, raw, heights, widths, in_dtype, unbatched, shared, bk):
        self.raw, self.heights, self.widths = raw, heights, widths
        self.in_dtype, self.unbatched, self.shared = in_dtype, unbatched, shared
        self._bk = bk

    @property
    def images(self):
        return self._bk.cast(self.raw, "float32")


def prepare(bk, images, image_sizes=None):
    """Validates `images` (rank, zero sizes, dtype, `image_sizes`) and batches them."""
    if backend_lib.is_ragged(images):
        if image_sizes is not None:
            raise ValueError("`image_sizes` is for dense padded batches; a ragged batch "
                             "carries its images' sizes.")
        if bk.name != "tensorflow":
            raise ValueError("Ragged batches need the TensorFlow backend.")
        from keras_resize_layers._tf import ops as tf_ops

        if tf_ops.in_xla_context():
            raise ValueError(
                "A ragged batch cannot be resized inside a function that XLA compiles "
                "(jit_compile=True): its ragged -> dense step has no XLA kernel and a "
                "shape that depends on the data. Let Keras compile the model without XLA "
                "(the library's layers ask for it on their own unless `supports_jit` was "
                "set to True), resize in tf.data (`data.resize_fn` after `ragged_batch`), "
                "or feed a zero-padded batch with `image_sizes`.")
        in_dtype = options.check_dtype(images.dtype.name, argument="image dtype")
        dense, heights, widths = tf_ops.ragged_to_dense(images)
        return Batch(dense, heights, widths, in_dtype, False, False, bk)
    if isinstance(images, (np.ndarray, list, tuple)):
        images = np.asarray(images)
    in_dtype = _dtype_name(images)
    shape = _static_shape(images)
    _check_static_shape(shape)
    images = bk.convert_to_tensor(images)
    unbatched = len(shape) == 3
    if image_sizes is not None:
        if unbatched:
            raise ValueError("`image_sizes` needs a batch (N, H, W, C); got rank 3 "
                             f"images.shape={tuple(shape)}.")
        heights, widths = _check_image_sizes(bk, image_sizes, bk.shape(images))
        return Batch(images, heights, widths, in_dtype, False, False, bk)
    if unbatched:
        images = bk.numpy.expand_dims(images, 0)
    if bk.name == "tensorflow" and None in shape[-3:-1]:
        from keras_resize_layers._tf import ops as tf_ops

        images = tf_ops.assert_nonempty(images)
    dyn = bk.shape(images)
    one = bk.numpy.ones((1,), "int32")
    return Batch(images, one * dyn[1], one * dyn[2], in_dtype, unbatched, True, bk)


def _check_image_sizes(bk, image_sizes, shape):
    """int32 heights and widths `(N,)` from `image_sizes` `(N, 2)`, each in [1, slot]."""
    sizes = bk.cast(bk.convert_to_tensor(image_sizes), "int32")
    if len(sizes.shape) != 2 or sizes.shape[-1] != 2:
        raise ValueError("`image_sizes` must have shape (N, 2) as (height, width) per "
                         f"image. Received: image_sizes.shape={tuple(sizes.shape)}")
    heights, widths = sizes[:, 0], sizes[:, 1]
    message = ("Every `image_sizes` entry must be within the padded batch: 1 <= height <= "
               "H and 1 <= width <= W, one row per image")
    if bk.name == "tensorflow":
        import tensorflow as tf

        ok = tf.reduce_all((heights >= 1) & (heights <= shape[1]) & (widths >= 1)
                           & (widths <= shape[2])) & tf.equal(tf.shape(sizes)[0], shape[0])
        check = tf.debugging.Assert(ok, [message + "; got image_sizes", sizes,
                                         "for images of shape", shape])
        with tf.control_dependencies([check]):
            return tf.identity(heights), tf.identity(widths)
    try:  # concrete values: check now; traced ones (jit) cannot be checked
        h, w = np.asarray(heights), np.asarray(widths)
    except Exception:
        return heights, widths
    if len(h) != shape[0] or (h < 1).any() or (h > shape[1]).any() or (w < 1).any() or (
            w > shape[2]).any():
        raise ValueError(f"{message}. Received: image_sizes={np.stack([h, w], 1).tolist()} "
                         f"for images of shape {tuple(shape)}.")
    return heights, widths


def finish(bk, batch, opts, geometry, implementation="auto"):
    """Resamples a prepared batch with `geometry` and casts to the output dtype."""
    shared = batch.shared and all(
        _static_len(v) == 1 for v in geometry.values())
    if not shared and batch.shared:
        # Per-image boxes on a dense batch: broadcast the shared sizes.
        n = bk.shape(batch.raw)[0]
        geometry = {k: v + bk.numpy.zeros((n,), "int32") for k, v in geometry.items()}
    out = _resample(bk, batch, opts, geometry, shared, implementation)
    out = cast_output(bk, out, batch.in_dtype, opts["dtype"])
    return out[0] if batch.unbatched else out


def _static_len(x):
    shape = x.shape
    return shape[0] if len(shape) else 1


def _taps_plan(batch, opts, shared):
    """The taps' plan when the batch's size is static and the policy fixed."""
    if not (shared and opts.get("from_policy")):
        return None
    from keras_resize_layers._core import taps

    return taps.static_plan(batch.raw, opts["size"], opts["method"], opts["antialias"],
                            opts["policy"], opts["crop_fraction"])


def _per_image_tap_bound(batch, opts):
    """Static K per axis of per-image taps over the batch's canvas (its static
    height and width; may exceed MAX_TAPS), or None when the canvas is unknown."""
    from keras_resize_layers._core import taps

    canvas = batch.raw.shape[1:3]
    if not all(isinstance(d, (int, np.integer)) for d in canvas):
        return None
    ratios = taps.canvas_ratios(tuple(int(d) for d in canvas), opts["size"],
                                opts["policy"] == "pad")
    return tuple(taps.tap_bound(opts["method"], opts["antialias"], r) for r in ratios)


def _resample(bk, batch, opts, geometry, shared, implementation):
    tf_cpu = False
    if bk.name == "tensorflow":
        from keras_resize_layers._tf import ops as tf_ops

        tf_cpu = tf_ops.cpu_outside_xla()
    plan = _taps_plan(batch, opts, shared) if implementation in ("auto", "taps") else None
    per_image = None  # static K of per-image taps (beyond MAX_TAPS: the matmul)
    if implementation in ("auto", "taps") and plan is None and not shared and not tf_cpu:
        per_image = _per_image_tap_bound(batch, opts)
    from keras_resize_layers._core import taps

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
            implementation = "matmul" if opts["method"] == "area" else "tf"
        else:
            implementation = "matmul"
    if implementation == "tf" and bk.name != "tensorflow":
        raise ValueError('implementation="tf" needs the TensorFlow backend.')
    if implementation == "taps":
        if per_image_fits:
            return taps.resample_per_image(
                bk, batch.raw, batch.heights, batch.widths, opts["size"], geometry,
                opts["method"], opts["antialias"], opts["fill_value"],
                opts["policy"] if opts.get("from_policy") else "boxes", per_image)
        if plan is None and per_image is None:
            if not tf_cpu:
                raise ValueError(
                    f'implementation="taps" on the {bk.name} backend needs a batch '
                    "whose height and width are known while tracing.")
            from keras_resize_layers._tf import taps as tf_taps

            return tf_taps.resample_dynamic(
                batch.raw, batch.heights, batch.widths, opts["size"], geometry,
                opts["method"], opts["antialias"], opts["fill_value"],
                opts["policy"] if opts.get("from_policy") else "boxes")
        if plan is not None and "taps" in plan and tf_cpu:
            from keras_resize_layers._tf import taps as tf_taps

            return tf_taps.resample_taps(batch.raw, opts["size"], plan, opts["fill_value"],
                                         opts["policy"])
        if plan is not None and "taps" in plan:
            return taps.resample_static(bk, batch.raw, opts["size"], plan, opts["fill_value"],
                                        opts["policy"])
        # Beyond taps.MAX_TAPS: the dense matmul.
    if implementation == "tf":
        from keras_resize_layers._tf import ops as tf_ops

        policy = opts["policy"] if opts.get("from_policy") and shared else "boxes"
        return tf_ops.resample_with_tf_kernels(
            batch.raw, opts["size"], geometry, opts["method"], opts["antialias"],
            opts["fill_value"], shared, policy,
        )
    return resample_lib.resample(
        bk, batch.images, opts["size"], geometry, opts["method"], opts["antialias"],
        opts["fill_value"], opts["policy"], shared,
    )


def resized_crop(images, boxes, size, method="bilinear", antialias=True,
                 dtype="float32", implementation="auto", backend=None, data_format=None):
    """Crops one box per image and resizes it to `size` in one resampling pass.

    The kernel's support is limited to the box, so the result equals
    `resize(image[y:y + h, x:x + w], size)`; with `antialias=True` a box
    larger than `size` is averaged, not aliased.

    Args:
        images: as in `resize` (dense, unbatched or ragged).
        boxes: int `(N, 4)` (or `(4,)` for one image): `[y, x, height, width]`
            in input pixels, inside the image.
        size, method, antialias, dtype, implementation, backend, data_format:
            as in `resize`.

    Returns:
        `(N, height, width, C)` (or `(height, width, C)`) tensor of `dtype`,
        channels first with `data_format="channels_first"`.
    """
    size = options.check_size_pair(size)
    opts = options.check_options(size[0], size[1], method, antialias, "stretch", 1.0,
                                 0.0, dtype)
    bk = backend_lib.get(backend)
    data_format = options.check_data_format(data_format)
    batch = prepare(bk, to_channels_last(bk, images, data_format))
    boxes = bk.cast(bk.convert_to_tensor(boxes), "int32")
    if len(boxes.shape) == 1:
        boxes = boxes[None]
    if len(boxes.shape) != 2 or boxes.shape[-1] != 4:
        raise ValueError(
            f"`boxes` must have shape (N, 4) as [y, x, height, width]. "
            f"Received: boxes.shape={tuple(boxes.shape)}"
        )
    if bk.name == "tensorflow":
        from keras_resize_layers._tf import ops as tf_ops

        boxes = tf_ops.assert_boxes_inside(boxes, batch.heights, batch.widths)
    geometry = dict(box_y=boxes[:, 0], box_x=boxes[:, 1], box_h=boxes[:, 2],
                    box_w=boxes[:, 3])
    from keras_resize_layers._core import augment

    geometry = augment.full_placement(bk, geometry, opts["size"])
    return from_channels_last(bk, finish(bk, batch, opts, geometry, implementation),
                              data_format)
