"""The `RandomResolution` layer: multi-resolution training of fully convolutional models."""

import keras

from keras_resize_layers import _compat
from keras_resize_layers import _ops
from keras_resize_layers._core import options as options_lib
from keras_resize_layers.layers.base import ImageDataLayer, ResizeOptionsAttributes


@keras.saving.register_keras_serializable(package="keras_resize_layers")
class RandomResolution(ResizeOptionsAttributes, ImageDataLayer):
    """Resizes each training batch to a size drawn from `sizes`.

    For multi-resolution or progressive training of fully convolutional
    models (global pooling before the classifier). The size is drawn **per
    batch**, not per image: a batch is one dense tensor, so all its images
    must share a size; per-image sizes would need padding that the network
    would then see. At inference (`training=False` or not given) every batch
    is resized to `inference_size`.

    The draw uses the layer's seed generator (reproducible with `seed`). With
    the TensorFlow backend the choice happens in the graph (`tf.switch_case`),
    so a compiled `train_step` sees a different size per batch; on JAX and
    PyTorch the size is chosen eagerly in Python and a jitted function cannot
    change shape (a clear error says so).

    Args:
        sizes: list of `(height, width)` pairs for training.
        inference_size: `(height, width)` at inference.
        method, antialias, policy, crop_fraction, fill_value: as in `Resize`.
        seed: int or `None`.
        output_dtype: output dtype, `None` for the compute dtype.
        options: a `ResizeOptions` instead of `method` ... `fill_value` and
            `output_dtype` (leave those at their defaults).

    Input shape:
        `(N, H, W, C)` or a ragged batch.

    Output shape:
        `(N, h, w, C)`, `(h, w)` from `sizes` in training (unknown statically).

    Example:

    >>> layer = RandomResolution([(128, 128), (160, 160), (192, 192)], (160, 160))
    """

    def __init__(self, sizes, inference_size, method="bilinear", antialias=True,
                 policy="stretch", crop_fraction=1.0, fill_value=0.0, seed=None,
                 output_dtype=None, data_format=None, options=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = options_lib.check_data_format(data_format)
        try:
            sizes = [tuple(options_lib.check_size(*s)) for s in sizes]
        except TypeError:
            raise TypeError(
                f"`sizes` must be a list of (height, width) pairs. Received: {sizes!r}"
            ) from None
        if not sizes:
            raise ValueError("`sizes` must hold at least one (height, width) pair.")
        self.sizes = sizes
        self.inference_size = options_lib.check_size(*inference_size)
        self.options = options_lib.resolve(
            options, method=method, antialias=antialias, policy=policy,
            crop_fraction=crop_fraction, fill_value=fill_value, dtype=output_dtype)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)
        _compat.keep_input_dtype(self)

    @property
    def supports_jit(self):
        """False unless set: the training output's shape changes from batch to
        batch, which a compiled step cannot do (Keras then runs without XLA)."""
        return bool(self._jit_override)

    @supports_jit.setter
    def supports_jit(self, value):
        ImageDataLayer.supports_jit.fset(self, value)

    def _resize(self, images, size):
        return _ops.resize(images, size, backend=self.backend, data_format=self.data_format,
                           options=self.call_options)

    def call(self, images, training=None):
        if not training:
            return self._resize(images, self.inference_size)
        bk = self.backend
        seed = _compat.seed_generator(self, bk.name)
        u = bk.random.uniform((), seed=seed)
        index = bk.cast(bk.numpy.minimum(bk.numpy.floor(u * len(self.sizes)),
                                         len(self.sizes) - 1), "int32")
        if bk.name == "tensorflow":
            import tensorflow as tf

            return tf.switch_case(
                index, [lambda s=s: self._resize(images, s) for s in self.sizes])
        try:
            index = int(index)
        except Exception as error:  # a tracer under jax.jit / torch.compile
            raise RuntimeError(
                "RandomResolution changes the batch shape per step; on the "
                f"{bk.name} backend run it eagerly (e.g. in the input pipeline or "
                "with jit_compile=False), not inside a compiled function."
            ) from error
        return self._resize(images, self.sizes[index])

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_first":
            return tuple(input_shape)[:-2] + (None, None)
        return tuple(input_shape)[:-3] + (None, None, tuple(input_shape)[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            sizes=[list(s) for s in self.sizes],
            inference_size=list(self.inference_size), method=self.method,
            antialias=self.antialias, policy=self.policy,
            crop_fraction=self.crop_fraction, fill_value=self.fill_value,
            seed=self.seed, output_dtype=self.output_dtype, data_format=self.data_format)
        return config
