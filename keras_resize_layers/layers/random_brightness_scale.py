"""The `RandomBrightnessScale` layer: multiplicative brightness, per image."""

import keras

from keras_resize_layers import _compat
from keras_resize_layers._core import augment
from keras_resize_layers._core import options
from keras_resize_layers.layers.base import ImageDataLayer


@keras.saving.register_keras_serializable(package="keras_resize_layers")
class RandomBrightnessScale(ImageDataLayer):
    """Multiplies each image by a factor drawn uniformly from `factor_range`.

    The multiplicative brightness of `ImageDataGenerator(brightness_range=...)`
    (Keras's `RandomBrightness` adds an offset instead). Results are clipped
    to `value_range`. Per image, reproducible from `seed`; identity at
    inference (`training=False` or not given).

    Args:
        factor_range: `(min, max)` multipliers, min > 0.
        value_range: `(low, high)` range of the pixel values. Defaults to
            `(0, 255)`.
        seed: int or `None`.

    Input shape:
        `(H, W, C)` or `(N, H, W, C)`.

    Output shape:
        Same as the input.

    Example:

    >>> RandomBrightnessScale((0.8, 1.2), seed=0)(images, training=True)
    """

    def __init__(self, factor_range, value_range=(0.0, 255.0), seed=None, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        # One factor per image scales every channel alike: the layout only
        # has to be a valid one (kept for the layers' common signature).
        self.data_format = options.check_data_format(data_format)
        self.factor_range = augment.check_range("factor_range", factor_range, 0.0)
        self.value_range = tuple(float(v) for v in value_range)
        if len(self.value_range) != 2 or self.value_range[0] >= self.value_range[1]:
            raise ValueError(f"`value_range` must be (low, high) with low < high. "
                             f"Received: value_range={value_range!r}")
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        bk = self.backend
        shape = bk.shape(images)
        batch_shape = (shape[0], 1, 1, 1) if len(images.shape) == 4 else (1, 1, 1)
        lo, hi = self.factor_range
        factors = bk.random.uniform(batch_shape, minval=lo, maxval=hi,
                                    seed=_compat.seed_generator(self, bk.name))
        out = bk.cast(images, "float32") * factors
        out = bk.numpy.clip(out, self.value_range[0], self.value_range[1])
        return bk.cast(out, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(factor_range=list(self.factor_range),
                      value_range=list(self.value_range), seed=self.seed,
                      data_format=self.data_format)
        return config
