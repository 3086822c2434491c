"""TensorFlow-only pieces of the resize core.

Ragged batches, runtime shape assertions that raise `InvalidArgumentError`
inside graphs and `tf.data`, the device check behind `implementation="auto"`,
and `implementation="tf"`, which calls TensorFlow's own resize kernels
(ScaleAndTranslate, ResizeBilinear, ...). Imported only when the input or the
backend is TensorFlow.
"""

import tensorflow as tf

from keras_resize_layers import _compat


in_xla_context = _compat.in_xla_context


def gpu_available():
    return bool(tf.config.list_logical_devices("GPU"))


def in_tf_data_function():
    """True while tracing a tf.data function (`Dataset.map`, `filter`,
    `interleave`, ..., or a function they call): tf.data runs those on the
    host CPU, whatever accelerators the machine has."""
    graph = tf.compat.v1.get_default_graph()
    while graph is not None:
        name = getattr(graph, "name", None) or ""
        if name.startswith(("Dataset_", "tf_data_")):
            return True
        graph = getattr(graph, "outer_graph", None)
    return False


def cpu_outside_xla():
    """True where `auto` takes TensorFlow's CPU paths (the taps as XLA
    programs, per-image plans, TF's kernels for one run-time size): outside
    XLA, on a CPU-only TensorFlow or inside a tf.data function (which runs on
    the host even when a GPU is present).

    On a GPU and inside a function XLA already compiles, static sizes use the
    taps as plain ops (fused by XLA where it compiles) and the rest the matmul
    (TF's resize kernels have no XLA lowering).
    """
    if in_xla_context():
        return False
    return in_tf_data_function() or not gpu_available()


def ragged_to_dense(images):
    """Ragged `(N, None, None, C)` -> (dense zero-padded batch, heights, widths).

    Raises InvalidArgumentError when an image's rows differ in length or an
    image is empty.
    """
    images, heights, widths, checks = _ragged_sizes(images)
    with tf.control_dependencies(checks):
        dense = images.to_tensor()
    return dense, heights, widths


def check_ragged(images):
    """The ragged batch itself, after `ragged_to_dense`'s checks (no padding)."""
    images, _, _, checks = _ragged_sizes(images)
    with tf.control_dependencies(checks):
        return images.with_flat_values(tf.identity(images.flat_values))


def _ragged_sizes(images):
    """(images with uniform channels, heights, widths, run-time checks)."""
    if images.shape.rank != 4:
        raise ValueError(
            "A ragged batch of images must have rank 4 (N, None, None, C). "
            f"Received: images.shape={images.shape}"
        )
    if images.ragged_rank >= 3:
        images = _uniform_channels(images)
    heights = tf.cast(images.row_lengths(), tf.int32)
    if images.ragged_rank >= 2:
        row_widths = tf.cast(images.values.row_lengths(), tf.int32)
        starts = tf.cast(images.row_starts(), tf.int32)
        widths = tf.gather(
            row_widths, tf.minimum(starts, tf.maximum(tf.size(row_widths) - 1, 0))
        )
        widths = tf.where(heights > 0, widths, 0)
        rows_image = tf.cast(images.value_rowids(), tf.int32)
        uniform = tf.reduce_all(tf.equal(row_widths, tf.gather(widths, rows_image)))
        checks = [
            tf.debugging.Assert(
                uniform,
                ["Every row of an image in a ragged batch must have the same width."],
            )
        ]
    else:
        widths = tf.fill(tf.shape(heights), tf.shape(images.values)[1])
        checks = []
    checks.append(
        tf.debugging.assert_positive(
            tf.minimum(heights, widths),
            message="Images must have non-zero height and width; the ragged batch "
            "holds an empty image (height or width 0).",
        )
    )
    return images, heights, widths, checks


def _uniform_channels(images):
    """A ragged batch whose channel axis is ragged too (3- and 4-channel images
    mixed): the same batch with a uniform channel axis, or an error."""
    pixels = images.values.values  # ragged (P, None): the channels of each pixel
    counts = pixels.row_lengths()
    check = tf.debugging.Assert(
        tf.reduce_all(tf.equal(counts, counts[:1])),
        ["Every image in a ragged batch must have the same number of channels; got "
         "channel counts between", tf.reduce_min(counts), "and", tf.reduce_max(counts),
         ". Convert them first (e.g. decode with channels=3)."])
    with tf.control_dependencies([check]):
        dense = tf.identity(pixels.to_tensor())
    return images.with_values(images.values.with_values(dense))


def assert_nonempty(images):
    """Runtime check of height/width > 0 for tensors whose shape is not static."""
    shape = tf.shape(images)
    check = tf.debugging.assert_positive(
        tf.minimum(shape[-3], shape[-2]),
        message="Images must have non-zero height and width (got a zero-size image).",
    )
    with tf.control_dependencies([check]):
        return tf.identity(images)


def assert_image_sizes(heights, widths, images, message):
    """`heights`, `widths` after a run-time check that each lies in [1, slot] of the
    padded batch `images` and that there is one per image (InvalidArgumentError)."""
    shape = tf.shape(images)
    ok = tf.reduce_all((heights >= 1) & (heights <= shape[1]) & (widths >= 1)
                       & (widths <= shape[2])) & tf.equal(tf.shape(heights)[0], shape[0])
    check = tf.debugging.Assert(ok, [message + "; got image_sizes",
                                     tf.stack([heights, widths], 1), "for images of shape",
                                     shape])
    with tf.control_dependencies([check]):
        return tf.identity(heights), tf.identity(widths)


def _resize_one(image, size, g, method, antialias, fill_value, policy):
    """image (H, W, C) or batch; g: scalars of one geometry."""
    if policy != "stretch":
        image = image[..., g["box_y"]:g["box_y"] + g["box_h"],
                      g["box_x"]:g["box_x"] + g["box_w"], :]
    fills = policy not in ("stretch", "crop")  # "pad" or per-image "boxes"
    target = tf.stack([g["place_h"], g["place_w"]]) if fills else size
    # tf.image.resize reads integer images directly (no float copy of the input).
    if antialias and method == "bilinear":
        # Not shrinking on either axis: ResizeBilinear gives ScaleAndTranslate's pixels
        # (antialias has no effect) at ~1.5x the speed.
        shape = tf.shape(image)
        enlarging = tf.logical_and(target[0] >= shape[-3], target[1] >= shape[-2])
        out = tf.cond(enlarging,
                      lambda: tf.image.resize(image, target, method=method, antialias=False),
                      lambda: tf.image.resize(image, target, method=method, antialias=True))
    else:
        out = tf.image.resize(image, target, method=method, antialias=antialias)
    out = tf.cast(out, tf.float32)
    if fills:
        h, w = size
        pads = [[g["place_y"], h - g["place_y"] - g["place_h"]],
                [g["place_x"], w - g["place_x"] - g["place_w"]], [0, 0]]
        if len(image.shape) == 4:
            pads = [[0, 0]] + pads
        out = tf.pad(out, pads, constant_values=fill_value)
    return out


def resample_with_tf_kernels(images, size, geometry, method, antialias,
                             fill_value, shared, policy="crop"):
    """Same contract as `resample.resample`, using TF's resize kernels.

    `policy` "stretch" skips the crop, "crop" skips the padding; anything
    else (e.g. the boxes of RandomResizedCrop) does both as `geometry` says.
    """
    h, w = size
    images = tf.convert_to_tensor(images)
    if shared:
        g = {k: v[0] for k, v in geometry.items()}
        out = _resize_one(images, size, g, method, antialias, fill_value, policy)
    else:
        def one(args):
            image, g = args
            return _resize_one(image, size, g, method, antialias, fill_value, policy)

        out = tf.map_fn(
            one, (images, geometry),
            fn_output_signature=tf.TensorSpec([h, w, None], tf.float32),
        )
    out = tf.ensure_shape(out, [None, h, w, images.shape[-1]])
    return out


def assert_boxes_inside(boxes, heights, widths):
    """Raises InvalidArgumentError unless every box is non-empty and inside its image."""
    y, x, h, w = tf.unstack(boxes, axis=1)
    inside = tf.reduce_all(
        (h >= 1) & (w >= 1) & (y >= 0) & (x >= 0) & (y + h <= heights)
        & (x + w <= widths))
    check = tf.debugging.Assert(
        inside, ["Every box [y, x, height, width] must be non-empty and inside its "
                 "image; got boxes", boxes, "for image heights", heights, "widths", widths])
    with tf.control_dependencies([check]):
        return tf.identity(boxes)
