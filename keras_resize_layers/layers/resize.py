"""The `Resize` layer: `keras_resize_layers.resize` inside a model."""

import keras

from keras_resize_layers import _compat
from keras_resize_layers import _ops
from keras_resize_layers._core import annotations
from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import options as options_lib
from keras_resize_layers.layers.base import ImageDataLayer, ResizeOptionsAttributes


@keras.saving.register_keras_serializable(package="keras_resize_layers")
class Resize(ResizeOptionsAttributes, ImageDataLayer):
    """Resizes images to `(height, width)` with antialiasing and an aspect policy.

    A thin layer over `keras_resize_layers.resize`: the same pixels as the
    tf.data map function `keras_resize_layers.data.resize_fn` and the exported
    serving signature. Runs on every Keras 3 backend; ragged batches need
    TensorFlow. Safe to use in `tf.data` (it then runs with TensorFlow ops
    whatever the global backend is).

    Args:
        height: int, output height.
        width: int, output width.
        method: resampling kernel (`nearest`, `bilinear`, `bicubic`, `area`,
            `lanczos3`, `lanczos5`, `gaussian`, `mitchellcubic`). Defaults to
            `"bilinear"`.
        antialias: widen the kernel when shrinking. Defaults to `True`.
        policy: `"stretch"`, `"crop"` or `"pad"`. Defaults to `"stretch"`.
        crop_fraction: fraction of the centred aspect-ratio box kept by
            `policy="crop"`, in (0, 1]. Defaults to 1.0.
        fill_value: padding value for `policy="pad"`. Defaults to 0.
        output_dtype: dtype of the output; `None` (default) is the layer's
            compute dtype (float32 unless a mixed policy is set). Integer
            outputs are rounded and saturated.
        data_format: `"channels_last"` or `"channels_first"`; defaults to
            `keras.config.image_data_format()`.
        bounding_box_format: format of `bounding_boxes` in dict inputs, as
            `keras.utils.bounding_boxes` names them (`xyxy`, `yxyx`, `xywh`,
            `center_xywh`, `center_yxhw` and their `rel_` variants).
        pad_position: `"center"` (default) or `"top_left"` for `policy="pad"`.
        options: a `ResizeOptions` instead of `method` ... `pad_position`
            (its `dtype` is the output dtype); leave those at their defaults.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: images or a dict (see Input shape).
        image_sizes: optional int `(batch, 2)`: for a zero-padded dense batch
            (`Dataset.padded_batch`, or NumPy batches on JAX and PyTorch),
            each image's `(height, width)`; the image sits in the top-left
            corner of its slot and the padding is never read. The pixels
            equal those of the same images in a ragged batch.

    Input shape:
        `(height, width, channels)`, `(batch, height, width, channels)` (or
        channels first) or a ragged batch `(batch, None, None, channels)`,
        any of the dtypes of `resize`; or Keras's dict
        `{"images", "labels", "bounding_boxes": {"boxes", "labels"},
        "segmentation_masks"}`: masks follow with `nearest`, boxes with the
        same geometry (clipped; boxes left empty get label -1 and zeros).

    Output shape:
        `(height, width, channels)` or `(batch, height, width, channels)`
        (or channels first); a dict for a dict.

    Example:

    >>> inputs = keras.Input(shape=(None, None, 3), dtype="uint8")
    >>> x = Resize(224, 224, policy="crop", crop_fraction=0.875)(inputs)
    >>> x.shape
    (None, 224, 224, 3)
    """

    def __init__(self, height, width, method="bilinear", antialias=True,
                 policy="stretch", crop_fraction=1.0, fill_value=0.0,
                 output_dtype=None, data_format=None, bounding_box_format=None,
                 pad_position="center", options=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = options_lib.check_data_format(data_format)
        self.bounding_box_format = annotations.check_box_format(bounding_box_format)
        self.height, self.width = options_lib.check_size(height, width)
        self.options = options_lib.resolve(
            options, method=method, antialias=antialias, policy=policy,
            crop_fraction=crop_fraction, fill_value=fill_value, dtype=output_dtype,
            pad_position=pad_position)
        # Integer images pass through as they are; the core casts them.
        _compat.keep_input_dtype(self)
        self.supports_masking = False

    def call(self, inputs, image_sizes=None):
        options = self.call_options
        size = (self.height, self.width)
        if isinstance(inputs, dict):
            if image_sizes is not None:
                raise ValueError("`image_sizes` is for a batch of images, not a dict input.")
            return _ops.resize_dict(backend_lib.get(self.backend), inputs, size, options,
                                    self.bounding_box_format, self.data_format)
        return _ops.resize(inputs, size, backend=self.backend, data_format=self.data_format,
                           image_sizes=image_sizes, options=options)

    @classmethod
    def from_keras(cls, layer, antialias=None, **overrides):
        """The `Resize` equivalent to a `keras.layers.Resizing` layer.

        Same size, kernel (`interpolation` -> `method`), aspect handling
        (`crop_to_aspect_ratio` -> `policy="crop"`, `pad_to_aspect_ratio` ->
        `policy="pad"` with its `fill_value`), `data_format`, dtype policy and
        name. README ("Switching from keras.layers.Resizing") lists where the
        pixels still differ.

        Args:
            layer: a `keras.layers.Resizing`.
            antialias: `None` (default) keeps the layer's own `antialias`
                (Keras's default is `False`), so the pixels stay Keras's to
                1e-3; `True` switches to this library's antialiased default.
            **overrides: other `Resize` arguments to set (e.g. `method`).

        Example:

        >>> Resize.from_keras(keras.layers.Resizing(224, 224), antialias=True)
        """
        if not isinstance(layer, keras.layers.Resizing):
            raise TypeError("`layer` must be a keras.layers.Resizing. Received: "
                            f"{type(layer).__name__}")
        config = layer.get_config()
        if config.get("fill_mode", "constant") != "constant":
            raise ValueError(f"Resizing(fill_mode={config['fill_mode']!r}) has no "
                             "equivalent: Resize pads with a constant `fill_value`.")
        policy = ("crop" if config.get("crop_to_aspect_ratio") else
                  "pad" if config.get("pad_to_aspect_ratio") else "stretch")
        arguments = dict(
            height=config["height"], width=config["width"], method=config["interpolation"],
            antialias=bool(config.get("antialias", False)) if antialias is None else antialias,
            policy=policy, fill_value=float(config.get("fill_value", 0.0)),
            data_format=config.get("data_format"), name=layer.name, dtype=layer.dtype_policy)
        arguments.update(overrides)
        return cls(**arguments)

    def get_config(self):
        config = super().get_config()
        config.update(
            height=self.height, width=self.width, method=self.method,
            antialias=self.antialias, policy=self.policy,
            crop_fraction=self.crop_fraction, fill_value=self.fill_value,
            output_dtype=self.output_dtype, data_format=self.data_format,
            bounding_box_format=self.bounding_box_format, pad_position=self.pad_position,
        )
        return config
