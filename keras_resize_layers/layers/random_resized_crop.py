"""The `RandomResizedCrop` layer."""

import keras

import dataclasses
import functools

from keras_resize_layers import _compat
from keras_resize_layers import _dispatch
from keras_resize_layers import _ops
from keras_resize_layers._core import annotations
from keras_resize_layers._core import augment
from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import batch as batch_lib
from keras_resize_layers._core import options as options_lib
from keras_resize_layers.layers.base import ImageDataLayer, ResizeOptionsAttributes


@keras.saving.register_keras_serializable(package="keras_resize_layers")
class RandomResizedCrop(ResizeOptionsAttributes, ImageDataLayer):
    """Crops a random box of each image and resizes it, in one resampling pass.

    Training (`training=True`, as in `model.fit`): per image, a box whose area
    is a fraction in `scale` of the image and whose aspect ratio
    (width / height) is log-uniform in `ratio`; up to 10 tries, then the
    centre crop clipped to `ratio` (the Inception recipe). The box is cropped
    and resized in a single pass, antialiased when it shrinks. Inference
    (`training=False` or not given): exactly
    `Resize(height, width, policy="crop", crop_fraction=crop_fraction)`.

    Randomness is per image and reproducible: boxes come from stateless
    random ops seeded by the layer's `SeedGenerator`, so the same `seed` gives
    the same boxes call after call, run after run. In `tf.data` it is safe on
    any backend; call it with `training=True` there, or use
    `keras_resize_layers.data.random_resized_crop_fn`, whose per-element seeds
    do not depend on batching or parallelism.

    Args:
        height, width: output size.
        scale: `(min, max)` area fraction of the box, in (0, 1].
            Defaults to `(0.08, 1.0)`.
        ratio: `(min, max)` aspect ratio of the box. Defaults to `(3/4, 4/3)`.
        method: resampling kernel. Defaults to `"bilinear"`.
        antialias: antialias when the box shrinks. Defaults to `True`.
        crop_fraction: inference centre crop fraction. Defaults to 0.875.
        seed: int or `None`.
        output_dtype: output dtype, `None` for the compute dtype.
        data_format: `"channels_last"` or `"channels_first"`; defaults to
            `keras.config.image_data_format()`.
        bounding_box_format: format of `bounding_boxes` in dict inputs (see
            `Resize`).

    Call arguments:
        images: images or a dict (see Input shape).
        training: bool; boxes are random only when True.
        image_sizes: optional int `(N, 2)`: each image's `(height, width)` in
            a zero-padded dense batch (see `Resize`); boxes are drawn inside
            each image, never over its padding.

    Input shape:
        `(H, W, C)`, `(N, H, W, C)` (or channels first) or a ragged
        `(N, None, None, C)` batch; or Keras's dict `{"images", "labels",
        "bounding_boxes": {"boxes", "labels"}, "segmentation_masks"}`: each
        image's box crops its masks (`nearest`) and its boxes (clipped to
        the crop; boxes left outside get label -1 and zeros).

    Output shape:
        `(height, width, C)` or `(N, height, width, C)` (or channels first);
        a dict for a dict.

    Example:

    >>> augment = RandomResizedCrop(224, 224, seed=1)
    >>> augment(images, training=True).shape
    (8, 224, 224, 3)
    """

    def __init__(self, height, width, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                 method="bilinear", antialias=True, crop_fraction=0.875, seed=None,
                 output_dtype=None, data_format=None, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = options_lib.check_data_format(data_format)
        self.bounding_box_format = annotations.check_box_format(bounding_box_format)
        self.height, self.width = options_lib.check_size(height, width)
        self.scale = augment.check_range("scale", scale, 0.0, 1.0)
        self.ratio = augment.check_range("ratio", ratio, 0.0)
        # Inference: the centre crop; training: the drawn boxes.
        self.options = options_lib.ResizeOptions(
            method=method, antialias=antialias, policy="crop", crop_fraction=crop_fraction,
            dtype=output_dtype)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)
        _compat.keep_input_dtype(self)

    @functools.cached_property
    def _box_options(self):
        """The options of the training path (boxes, no aspect policy), dtype set."""
        return dataclasses.replace(self.call_options, policy="stretch", crop_fraction=1.0)

    def get_random_transformation(self, images, training=True, seed=None, image_sizes=None):
        """The boxes (dict of int32 `(N,)` tensors) for a batch, or None at inference.

        `images` is the channels-last batch (or a dict input's `images`)."""
        if not training:
            return None
        return self._boxes_for(_dispatch.prepare(self.backend, images, image_sizes), seed)

    def call(self, images, training=None, image_sizes=None):
        if image_sizes is not None and isinstance(images, dict):
            raise ValueError("`image_sizes` is for a batch of images, not a dict input.")
        bk = backend_lib.get(self.backend)
        size = (self.height, self.width)
        if not training:
            options = self.call_options
            if isinstance(images, dict):
                return _ops.resize_dict(bk, images, size, options, self.bounding_box_format,
                                        self.data_format)
            return _ops.resize(images, size, backend=self.backend,
                               data_format=self.data_format, image_sizes=image_sizes,
                               options=options)
        if isinstance(images, dict):
            return _ops.transform_dict(
                bk, images, size, self._box_options, self._geometry, False,
                self.bounding_box_format, self.data_format)
        pixels = batch_lib.to_channels_last(bk, images, self.data_format)
        boxes = self.get_random_transformation(pixels, training=True, image_sizes=image_sizes)
        return batch_lib.from_channels_last(
            bk, self.transform_images(pixels, boxes, image_sizes), self.data_format)

    def _geometry(self, batch):
        return augment.full_placement(backend_lib.get(self.backend), self._boxes_for(batch),
                                      (self.height, self.width))

    def _boxes_for(self, batch, seed=None):
        bk = self.backend
        n = bk.shape(batch.raw)[0]
        seed = seed if seed is not None else _compat.seed_generator(self, bk.name)
        uniforms = bk.random.uniform((n, augment.ATTEMPTS, 4), seed=seed)
        zeros = bk.numpy.zeros((n,), "int32")
        return augment.random_resized_crop_boxes(
            bk, uniforms, batch.heights + zeros, batch.widths + zeros, self.scale,
            self.ratio)

    def transform_images(self, images, boxes, image_sizes=None):
        """Pure: crop `boxes` from channels-last `images` and resize, one pass."""
        bk = backend_lib.get(self.backend)
        batch = _dispatch.prepare(bk, images, image_sizes)
        size = (self.height, self.width)
        geometry = augment.full_placement(bk, boxes, size)
        return _dispatch.finish(bk, batch, size, self._box_options, geometry,
                                by_policy=False)

    def get_config(self):
        config = super().get_config()
        config.update(
            height=self.height, width=self.width, scale=list(self.scale),
            ratio=list(self.ratio), method=self.method, antialias=self.antialias,
            crop_fraction=self.crop_fraction, seed=self.seed,
            output_dtype=self.output_dtype, data_format=self.data_format,
            bounding_box_format=self.bounding_box_format)
        return config
