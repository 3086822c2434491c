"""The base of the library's layers: Keras's `DataLayer`, minus one cast."""

import keras
from keras.src.layers.preprocessing.data_layer import DataLayer


class ImageDataLayer(DataLayer):
    """A `DataLayer` that passes integer images through as they are.

    `DataLayer` makes a layer safe in `tf.data` on every backend by switching
    to TensorFlow ops there, and on the way casts the inputs to the compute
    dtype. For images that cast is a full float32 copy of every uint8 input
    before resizing (TF's resize kernels read uint8 directly: ~20% of the
    throughput at 512² -> 224², see BUILD_NOTES). With the TensorFlow backend
    no switch is needed, so the layer is called directly.
    """

    def __call__(self, inputs, **kwargs):
        if keras.backend.backend() == "tensorflow":
            return keras.layers.Layer.__call__(self, inputs, **kwargs)
        return super().__call__(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        """`(..., height, width, channels)` (or `(..., channels, height,
        width)`); layers with other outputs override it."""
        input_shape = tuple(input_shape)
        if getattr(self, "data_format", "channels_last") == "channels_first":
            return input_shape[:-2] + (self.height, self.width)
        return input_shape[:-3] + (self.height, self.width, input_shape[-1])

    def compute_output_spec(self, inputs, training=None):
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
