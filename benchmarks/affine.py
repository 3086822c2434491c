"""`Affine`: `x * scale + offset` as a plain Keras layer, for the benchmarks' models.

`keras.layers.Rescaling` computes the same, but it is one of Keras's data layers, whose call
asks TensorFlow whether it runs inside `tf.data`; where a program blocked TensorFlow with
`sys.modules["tensorflow"] = None` (a JAX program on a GPU machine) that question raises
ImportError. This layer asks nothing.
"""

import keras


@keras.saving.register_keras_serializable(package="krl_benchmarks")
class Affine(keras.layers.Layer):
    """`inputs * scale + offset`, computed in the layer's compute dtype.

    Args:
        scale: float multiplier.
        offset: float added after scaling. Defaults to 0.
        **kwargs: base layer arguments (`name`, `dtype`).
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def call(self, inputs):
        x = keras.ops.cast(inputs, self.compute_dtype)
        return x * self.scale + self.offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
