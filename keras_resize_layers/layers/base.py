"""The base of the library's layers: Keras's `DataLayer`, minus one cast."""

import functools

import keras
from keras_resize_layers import _compat
from keras_resize_layers._compat import DataLayer


class SizeAwareJit:
    """`supports_jit` from the input size the layer was built on.

    XLA and ragged batches (BUILD_NOTES, "Ragged batches meet XLA"): on the
    TensorFlow backend a layer built on images of unknown height or width may
    be fed ragged batches, whose ragged -> dense step has no XLA kernel and a
    data-dependent shape. Such a layer reports `supports_jit = False`, so
    Keras compiles the model's steps without XLA (`jit_compile="auto"`, the
    default, silently; `jit_compile=True` with Keras's warning). A layer built
    on a known size keeps XLA. Set `layer.supports_jit` to override.
    """

    _jit_override = None
    _static_size = None

    @property
    def supports_jit(self):
        if self._jit_override is not None:
            return self._jit_override
        if keras.backend.backend() != "tensorflow":
            return True
        return bool(self._static_size)

    @supports_jit.setter
    def supports_jit(self, value):
        if getattr(self, "_krl_initialized", False):  # Layer.__init__ sets True first
            self.__dict__["_jit_override"] = None if value is None else bool(value)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.__dict__["_krl_initialized"] = True

    def _record_input_size(self, input_shape):
        shape = input_shape.get("images") if isinstance(input_shape, dict) else input_shape
        try:
            shape = tuple(shape)
            spatial = shape[-2:] if getattr(self, "data_format", None) == "channels_first" \
                else shape[-3:-1]
            self.__dict__["_static_size"] = len(shape) >= 3 and None not in spatial
        except TypeError:
            self.__dict__["_static_size"] = False


class ImageDataLayer(SizeAwareJit, DataLayer):
    """A `DataLayer` that passes integer images through as they are.

    `DataLayer` makes a layer safe in `tf.data` on every backend by switching
    to TensorFlow ops there, and on the way casts the inputs to the compute
    dtype. For images that cast is a full float32 copy of every uint8 input
    before resizing, which the resize kernels do not need (they read uint8
    directly). With the TensorFlow backend no switch is needed, so the layer
    is called directly.
    """

    def build(self, input_shape):
        self._record_input_size(input_shape)
        self.built = True

    def __call__(self, inputs, **kwargs):
        # With TensorFlow blocked there is no tf.data graph to switch for, and
        # Keras's check for one would raise ImportError.
        if keras.backend.backend() == "tensorflow" or _compat.tensorflow_blocked():
            return keras.layers.Layer.__call__(self, inputs, **kwargs)
        return super().__call__(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        """`(..., height, width, channels)` (or `(..., channels, height,
        width)`); layers with other outputs override it."""
        input_shape = tuple(input_shape)
        if getattr(self, "data_format", "channels_last") == "channels_first":
            return input_shape[:-2] + (self.height, self.width)
        return input_shape[:-3] + (self.height, self.width, input_shape[-1])

    def compute_output_spec(self, inputs, training=None, image_sizes=None):
        dtype = getattr(self, "output_dtype", None) or self.compute_dtype
        if isinstance(inputs, dict):
            out = dict(inputs)
            out["images"] = keras.KerasTensor(
                self.compute_output_shape(inputs["images"].shape), dtype=dtype)
            if "segmentation_masks" in inputs:
                masks = inputs["segmentation_masks"]
                shape = tuple(masks.shape)
                if len(shape) == len(inputs["images"].shape) - 1:
                    shape = shape[:-2] + (self.height, self.width)
                else:
                    shape = self.compute_output_shape(shape)
                out["segmentation_masks"] = keras.KerasTensor(shape, dtype=masks.dtype)
            return out
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)


class ResizeOptionsAttributes:
    """A layer's `self.options` (a `ResizeOptions`) read as its flat attributes, the
    names of its constructor arguments and `get_config` entries; `call_options` is
    the same value with the output dtype resolved (the compute dtype where `None`),
    built once."""

    @functools.cached_property
    def call_options(self):
        return self.options.with_dtype(self.compute_dtype)

    method = property(lambda self: self.options.method)
    antialias = property(lambda self: self.options.antialias)
    policy = property(lambda self: self.options.policy)
    crop_fraction = property(lambda self: self.options.crop_fraction)
    fill_value = property(lambda self: self.options.fill_value)
    output_dtype = property(lambda self: self.options.dtype)
    pad_position = property(lambda self: self.options.pad_position)

