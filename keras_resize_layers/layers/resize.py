"""The `Resize` layer: `keras_resize_layers.resize` inside a model."""

import keras

from keras_resize_layers import options
from keras_resize_layers.resizing import resize
from keras_resize_layers.layers.base import ImageDataLayer


@keras.saving.register_keras_serializable(package="keras_resize_layers")
class Resize(ImageDataLayer):
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
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Input shape:
        `(height, width, channels)`, `(batch, height, width, channels)` or a
        ragged batch `(batch, None, None, channels)`, any of the dtypes of
        `resize`.

    Output shape:
        `(height, width, channels)` or `(batch, height, width, channels)`.

    Example:

    >>> inputs = keras.Input(shape=(None, None, 3), dtype="uint8")
    >>> x = Resize(224, 224, policy="crop", crop_fraction=0.875)(inputs)
    >>> x.shape
    (None, 224, 224, 3)
    """

    def __init__(self, height, width, method="bilinear", antialias=True,
                 policy="stretch", crop_fraction=1.0, fill_value=0.0,
                 output_dtype=None, **kwargs):
        super().__init__(**kwargs)
        opts = options.check_options(
            height, width, method, antialias, policy, crop_fraction, fill_value,
            output_dtype or "float32",
        )
        self.height, self.width = opts["size"]
        self.method = opts["method"]
        self.antialias = opts["antialias"]
        self.policy = opts["policy"]
        self.crop_fraction = opts["crop_fraction"]
        self.fill_value = opts["fill_value"]
        self.output_dtype = None if output_dtype is None else opts["dtype"]
        # Integer images pass through as they are; the core casts them.
        self._convert_input_args = False
        self.supports_masking = False

    def call(self, inputs):
        return resize(
            inputs, (self.height, self.width), method=self.method,
            antialias=self.antialias, policy=self.policy,
            crop_fraction=self.crop_fraction, fill_value=self.fill_value,
            dtype=self.output_dtype or self.compute_dtype, backend=self.backend,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            height=self.height, width=self.width, method=self.method,
            antialias=self.antialias, policy=self.policy,
            crop_fraction=self.crop_fraction, fill_value=self.fill_value,
            output_dtype=self.output_dtype,
        )
        return config
