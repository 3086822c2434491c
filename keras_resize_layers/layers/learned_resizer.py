"""The `LearnedResizer` layer: a trainable resizer around `Resize`."""

import keras
from keras import ops

from keras_resize_layers import _compat
from keras_resize_layers import _ops
from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import options
from keras_resize_layers.layers.base import SizeAwareJit
from keras_resize_layers.layers.resize import Resize


@keras.saving.register_keras_serializable(package="keras_resize_layers")
class LearnedResizer(SizeAwareJit, keras.layers.Layer):
    """A resizer trained end to end with the network that follows it.

    The model of Talebi & Milanfar, "Learning to Resize Images for Computer
    Vision Tasks" (ICCV 2021): the output is this library's `Resize` of the
    image (the skip path) plus a residual that a small CNN computes: a 7x7
    and a 1x1 convolution at the input resolution, the same `Resize` of
    their features, `num_res_blocks` residual blocks at the output
    resolution and a 7x7 convolution back to the image's channels.

    Two choices differ from the paper's figure, both so that the layer is
    exact where it has to be. The last convolution starts at zero, so an
    untrained layer is exactly `Resize(height, width, method, antialias)`.
    The first batch normalization comes after the bottleneck resize rather
    than before it (at inference the two orders are the same affine map,
    since the resize weights sum to one): its statistics then come from the
    images only, never from the padding of a padded or ragged batch.

    Args:
        height, width: output size.
        filters: channels of the CNN. Defaults to 16.
        num_res_blocks: residual blocks at the output resolution.
            Defaults to 1.
        method: kernel of both resizes (see `Resize`). Defaults to
            `"bilinear"`.
        antialias: antialias both resizes when shrinking. Defaults to `True`.
        value_scale: the pixel scale of the inputs (255 for 0..255 images,
            1.0 for 0..1): the CNN sees `images / value_scale` and its
            residual is scaled back. Defaults to 255.
        data_format: `"channels_last"` or `"channels_first"`; defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        images: a batch `(N, H, W, C)` (or channels first) of any dtype, or
            a ragged `(N, None, None, C)` batch (TensorFlow).
        image_sizes: optional int `(N, 2)`: each image's `(height, width)`
            in a zero-padded batch (see `Resize`); the convolutions see each
            image with zeros around it, as an unpadded image would.
        training: bool, for the batch normalizations.

    Input shape:
        `(N, H, W, C)` (or `(N, C, H, W)`), ragged on TensorFlow.

    Output shape:
        `(N, height, width, C)` (or `(N, C, height, width)`), float.

    A trainable layer runs inside the model (any backend) or, with the
    TensorFlow backend, in `tf.data`; with another backend a `tf.data` call
    is refused, since its weights live on that backend.

    Example:

    >>> inputs = keras.Input((None, None, 3), dtype="uint8")
    >>> x = LearnedResizer(64, 64)(inputs)
    >>> x.shape
    (None, 64, 64, 3)
    """

    def __init__(self, height, width, filters=16, num_res_blocks=1, method="bilinear",
                 antialias=True, value_scale=255.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = options.check_size(height, width)
        self.method = options.check_method(method)
        self.antialias = options.check_antialias(antialias)
        for name, value in (("filters", filters), ("num_res_blocks", num_res_blocks)):
            if isinstance(value, bool) or not isinstance(value, int) or value < (
                    1 if name == "filters" else 0):
                raise ValueError(f"`{name}` must be an int >= {1 if name == 'filters' else 0}. "
                                 f"Received: {name}={value!r}")
        if not float(value_scale) > 0:
            raise ValueError(f"`value_scale` must be > 0. Received: value_scale={value_scale!r}")
        self.filters, self.num_res_blocks = filters, num_res_blocks
        self.value_scale = float(value_scale)
        self.data_format = options.check_data_format(data_format)
        _compat.keep_input_dtype(self)
        policy = self.dtype_policy
        self.resize = Resize(self.height, self.width, method=self.method,
                             antialias=self.antialias, data_format="channels_last",
                             dtype=policy, name="resize")

        def conv(n, k, name, **kw):
            return keras.layers.Conv2D(n, k, padding="same", dtype=policy, name=name, **kw)

        def norm(name):
            return keras.layers.BatchNormalization(momentum=0.9, dtype=policy, name=name)

        self.conv_in = conv(filters, 7, "conv_in")
        self.conv_mix = conv(filters, 1, "conv_mix")
        self.norm_in = norm("norm_in")
        # Each residual block: conv, norm, conv, norm (a flat list, four per block).
        self.block_layers = []
        for i in range(num_res_blocks):
            self.block_layers += [conv(filters, 3, f"block{i}_conv1", use_bias=False),
                                  norm(f"block{i}_norm1"),
                                  conv(filters, 3, f"block{i}_conv2", use_bias=False),
                                  norm(f"block{i}_norm2")]
        self.conv_out = conv(filters, 3, "conv_out", use_bias=False)
        self.norm_out = norm("norm_out")
        self.conv_rgb = None  # built with the input's channel count

    def __call__(self, images, *args, **kwargs):
        if not backend_lib.is_ragged(images) and not isinstance(images, keras.KerasTensor):
            images = ops.convert_to_tensor(images)  # NumPy in: `build` sees its shape
        return super().__call__(images, *args, **kwargs)

    def build(self, input_shape):
        self._record_input_size(input_shape)
        shape = tuple(input_shape)
        channels = shape[1] if self.data_format == "channels_first" else shape[-1]
        if channels is None:
            raise ValueError("The channel axis of the input must be known. Received: "
                             f"input_shape={shape}")
        self.conv_rgb = keras.layers.Conv2D(
            channels, 7, padding="same", kernel_initializer="zeros",
            dtype=self.dtype_policy, name="conv_rgb")
        spatial = shape[2:] if self.data_format == "channels_first" else shape[1:3]
        self.resize.build((None,) + tuple(spatial) + (channels,))  # XLA iff a known size
        full = (None, None, None, channels)
        self.conv_in.build(full)
        self.conv_mix.build(full[:3] + (self.filters,))
        small = (None, self.height, self.width, self.filters)
        self.norm_in.build(small)
        for layer in self.block_layers:
            layer.build(small)
        self.conv_out.build(small)
        self.norm_out.build(small)
        self.conv_rgb.build(small)
        self.built = True

    def call(self, images, image_sizes=None, training=None):
        if keras.backend.backend() != "tensorflow" and _compat.in_tf_graph():
            raise ValueError(
                f"LearnedResizer is trainable: its weights live on the "
                f"{keras.backend.backend()} backend, so it runs inside the model, not in "
                "tf.data. Feed it the images (padded with `image_sizes` for different sizes).")
        if backend_lib.is_ragged(images):
            if image_sizes is not None:
                raise ValueError("`image_sizes` is for dense padded batches; a ragged batch "
                                 "carries its images' sizes.")
            from keras_resize_layers._tf import ops as tf_ops

            images, heights, widths = tf_ops.ragged_to_dense(images)
            image_sizes = ops.stack([heights, widths], axis=1)
        if self.data_format == "channels_first":
            images = ops.transpose(images, (0, 2, 3, 1))
        skip = self.resize(images, image_sizes=image_sizes)
        x = ops.cast(images, self.compute_dtype) * (1.0 / self.value_scale)
        if image_sizes is not None:
            x = x * self._valid_mask(x, image_sizes)
        x = ops.leaky_relu(self.conv_in(x), 0.2)
        x = ops.leaky_relu(self.conv_mix(x), 0.2)
        bottleneck = self.norm_in(self._resize_features(x, image_sizes), training=training)
        x = bottleneck
        for i in range(0, len(self.block_layers), 4):
            conv1, norm1, conv2, norm2 = self.block_layers[i:i + 4]
            y = ops.leaky_relu(norm1(conv1(x), training=training), 0.2)
            x = x + norm2(conv2(y), training=training)
        x = self.norm_out(self.conv_out(x), training=training) + bottleneck
        out = skip + self.value_scale * self.conv_rgb(x)
        if self.data_format == "channels_first":
            out = ops.transpose(out, (0, 3, 1, 2))
        return out

    def _resize_features(self, x, image_sizes):
        """The same resize of the CNN's features, as matrix products: their gradient is
        a matrix product too (the taps' is a scatter)."""
        return _ops.resize(
            x, (self.height, self.width), method=self.method, antialias=self.antialias,
            dtype=self.compute_dtype, implementation="matmul", image_sizes=image_sizes)

    def _valid_mask(self, x, image_sizes):
        """1 inside each image, 0 over its padding: `(N, H, W, 1)`."""
        sizes = ops.cast(image_sizes, "int32")
        shape = ops.shape(x)
        heights = ops.reshape(sizes[:, 0], (-1, 1, 1))
        widths = ops.reshape(sizes[:, 1], (-1, 1, 1))
        rows = ops.reshape(ops.arange(shape[1], dtype="int32"), (1, -1, 1)) < heights
        cols = ops.reshape(ops.arange(shape[2], dtype="int32"), (1, 1, -1)) < widths
        return ops.cast(ops.logical_and(rows, cols), x.dtype)[..., None]

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.data_format == "channels_first":
            return shape[:-2] + (self.height, self.width)
        return shape[:-3] + (self.height, self.width, shape[-1])

    def compute_output_spec(self, images, image_sizes=None, training=None):
        return keras.KerasTensor(self.compute_output_shape(images.shape),
                                 dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, filters=self.filters,
                      num_res_blocks=self.num_res_blocks, method=self.method,
                      antialias=self.antialias, value_scale=self.value_scale,
                      data_format=self.data_format)
        return config
