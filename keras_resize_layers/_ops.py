"""The resize operations behind every public entry point: `resize`, `resized_crop`
and their forms for Keras's dict inputs (images, boxes and masks through one geometry).

Layers, tf.data functions, decoding helpers and serving call these; they prepare
the batch and its geometry and leave the choice of implementation to `_dispatch`.
"""

import dataclasses

from keras_resize_layers import _dispatch
from keras_resize_layers._core import annotations
from keras_resize_layers._core import augment
from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import batch as batch_lib
from keras_resize_layers._core import geometry as geometry_lib
from keras_resize_layers._core import options as options_lib


def resize(images, size, method="bilinear", antialias=True, policy="stretch",
           crop_fraction=1.0, fill_value=0.0, dtype=None, implementation="auto",
           backend=None, image_sizes=None, data_format=None, pad_position="center",
           options=None):
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
            Integer outputs are rounded and saturated. `None` (default) is
            float32.
        implementation: `"auto"` (default) picks per backend, device and
            static-or-run-time size (`_dispatch.py`): sparse taps wherever
            the input's height and width are known while tracing; on a
            TensorFlow CPU also for batches of images of different sizes and
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
        options: a `ResizeOptions` holding `method`, `antialias`, `policy`,
            `crop_fraction`, `fill_value`, `dtype` and `pad_position` (then
            leave those keywords at their defaults).

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
    size = options_lib.check_size_pair(size)
    options = options_lib.resolve(
        options, method=method, antialias=antialias, policy=policy,
        crop_fraction=crop_fraction, fill_value=fill_value, dtype=dtype,
        pad_position=pad_position)
    _dispatch.check_implementation(implementation)
    bk = backend_lib.get(backend)
    data_format = options_lib.check_data_format(data_format)
    batch = _dispatch.prepare(bk, batch_lib.to_channels_last(bk, images, data_format),
                              image_sizes)
    geometry = geometry_lib.for_policy(bk, options.policy, batch.heights, batch.widths, size,
                                       options.crop_fraction, options.pad_position)
    out = _dispatch.finish(bk, batch, size, options.with_dtype("float32"), geometry,
                           by_policy=True, implementation=implementation)
    return batch_lib.from_channels_last(bk, out, data_format)


def resized_crop(images, boxes, size, method="bilinear", antialias=True, dtype=None,
                 implementation="auto", backend=None, data_format=None):
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

    Example:

    >>> import numpy as np
    >>> resized_crop(np.zeros((2, 64, 64, 3)), [[0, 0, 32, 32], [8, 8, 48, 40]],
    ...              (16, 16)).shape
    TensorShape([2, 16, 16, 3])
    """
    size = options_lib.check_size_pair(size)
    options = options_lib.ResizeOptions(method=method, antialias=antialias,
                                        dtype=dtype).with_dtype("float32")
    _dispatch.check_implementation(implementation)
    bk = backend_lib.get(backend)
    data_format = options_lib.check_data_format(data_format)
    batch = _dispatch.prepare(bk, batch_lib.to_channels_last(bk, images, data_format))
    boxes = bk.cast(bk.convert_to_tensor(boxes), "int32")
    if len(boxes.shape) == 1:
        boxes = boxes[None]
    if len(boxes.shape) != 2 or boxes.shape[-1] != 4:
        raise ValueError(
            f"`boxes` must have shape (N, 4) as [y, x, height, width]. "
            f"Received: boxes.shape={tuple(boxes.shape)}"
        )
    if bk.name == "tensorflow":
        boxes = _dispatch.assert_boxes_inside(boxes, batch.heights, batch.widths)
    geometry = dict(box_y=boxes[:, 0], box_x=boxes[:, 1], box_h=boxes[:, 2],
                    box_w=boxes[:, 3])
    geometry = augment.full_placement(bk, geometry, size)
    out = _dispatch.finish(bk, batch, size, options, geometry, by_policy=False,
                           implementation=implementation)
    return batch_lib.from_channels_last(bk, out, data_format)


def transform_dict(bk, inputs, size, options, geometry_fn, by_policy, bounding_box_format,
                   data_format, implementation="auto"):
    """The pixels, masks and boxes of a Keras dict input through one geometry.

    Args:
        bk: the backend namespace.
        inputs: `{"images", "labels", "bounding_boxes", "segmentation_masks"}`.
        size: `(height, width)`.
        options: `ResizeOptions` with `dtype` set (the pixels').
        geometry_fn: `geometry_fn(batch)` returns the per-image geometry of
            the prepared channels-last batch.
        by_policy: as in `_dispatch.finish`.
        bounding_box_format, data_format: as in `layers.Resize`.
        implementation: as in `resize`.

    Returns:
        The dict with `images`, `segmentation_masks` (nearest, no antialias)
        and `bounding_boxes` (the same affine map, clipped) transformed.
    """
    annotations.check_inputs(inputs, bounding_box_format)
    images = batch_lib.to_channels_last(bk, inputs["images"], data_format)
    batch = _dispatch.prepare(bk, images)
    geometry = geometry_fn(batch)
    out = dict(inputs)
    out["images"] = batch_lib.from_channels_last(
        bk, _dispatch.finish(bk, batch, size, options, geometry, by_policy, implementation),
        data_format)
    if "segmentation_masks" in inputs:
        masks = inputs["segmentation_masks"]
        squeeze = len(masks.shape) == len(images.shape) - 1  # (N, H, W) class ids
        masks = masks[..., None] if squeeze else masks
        masks = batch_lib.to_channels_last(bk, masks, data_format)
        mask_batch = _dispatch.prepare(bk, masks)
        mask_options = dataclasses.replace(options, method="nearest", antialias=False,
                                           fill_value=0.0, dtype=mask_batch.in_dtype)
        resized = _dispatch.finish(bk, mask_batch, size, mask_options, geometry, by_policy,
                                   implementation)
        resized = batch_lib.from_channels_last(bk, resized, data_format)
        out["segmentation_masks"] = resized[..., 0] if squeeze else resized
    if "bounding_boxes" in inputs:
        batched = not batch.unbatched
        boxes, labels, lengths = annotations.boxes_dense(bk, inputs["bounding_boxes"], batched)
        n = bk.shape(boxes)[0]
        zeros = bk.numpy.zeros((n,), "int32")
        geometry = {k: v + zeros for k, v in geometry.items()}
        boxes, labels = annotations.transform_boxes(
            bk, boxes, labels, bounding_box_format, geometry, batch.heights + zeros,
            batch.widths + zeros, size)
        out["bounding_boxes"] = annotations.boxes_restore(bk, boxes, labels, lengths, batched,
                                                          inputs["bounding_boxes"])
    return out


def resize_dict(bk, inputs, size, options, bounding_box_format, data_format):
    """`resize` for a Keras dict input: the geometry of `options`' aspect policy."""
    def geometry_fn(batch):
        return geometry_lib.for_policy(bk, options.policy, batch.heights, batch.widths,
                                       size, options.crop_fraction, options.pad_position)

    return transform_dict(bk, inputs, size, options, geometry_fn, True, bounding_box_format,
                          data_format)
