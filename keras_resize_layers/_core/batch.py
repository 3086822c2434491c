"""A batch ready for resampling: channels-last, batched, validated, with each image's size.

Backend-agnostic: TensorFlow's run-time checks and ragged batches are added by
`_dispatch.prepare`, which calls `prepare` here for dense input.
"""

import numpy as np

from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import options

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
    """Validates dense `images` (rank, zero sizes, dtype, concrete `image_sizes`) and
    batches them. Traced `image_sizes` and run-time sizes are the caller's to check."""
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
        heights, widths = check_image_sizes(bk, image_sizes, bk.shape(images))
        return Batch(images, heights, widths, in_dtype, False, False, bk)
    if unbatched:
        images = bk.numpy.expand_dims(images, 0)
    dyn = bk.shape(images)
    one = bk.numpy.ones((1,), "int32")
    return Batch(images, one * dyn[1], one * dyn[2], in_dtype, unbatched, True, bk)


IMAGE_SIZES_MESSAGE = (
    "Every `image_sizes` entry must be within the padded batch: 1 <= height <= H and "
    "1 <= width <= W, one row per image")


def check_image_sizes(bk, image_sizes, shape):
    """int32 heights and widths `(N,)` from `image_sizes` `(N, 2)`; concrete values are
    checked to lie in [1, slot] (traced ones are returned as they are; TensorFlow's
    are checked at run time by `_dispatch.prepare`)."""
    sizes = bk.cast(bk.convert_to_tensor(image_sizes), "int32")
    if len(sizes.shape) != 2 or sizes.shape[-1] != 2:
        raise ValueError("`image_sizes` must have shape (N, 2) as (height, width) per "
                         f"image. Received: image_sizes.shape={tuple(sizes.shape)}")
    heights, widths = sizes[:, 0], sizes[:, 1]
    if bk.name == "tensorflow":  # checked at run time by `_tf.ops.assert_image_sizes`
        return heights, widths
    try:  # concrete values: check now; traced ones (jit) cannot be read
        h, w = np.asarray(heights), np.asarray(widths)
    except Exception:
        return heights, widths
    if len(h) != shape[0] or (h < 1).any() or (h > shape[1]).any() or (w < 1).any() or (
            w > shape[2]).any():
        raise ValueError(f"{IMAGE_SIZES_MESSAGE}. Received: image_sizes="
                         f"{np.stack([h, w], 1).tolist()} for images of shape {tuple(shape)}.")
    return heights, widths
