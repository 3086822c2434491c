"""tf.data map functions: the twins of the layers, for input pipelines.

TensorFlow only. Each function returns a map function built on the same
operations as the matching layer (`_ops`), so a pipeline and a model give the
same pixels.
"""

from keras_resize_layers import _compat
from keras_resize_layers import _dispatch
from keras_resize_layers import _ops
from keras_resize_layers._core import annotations
from keras_resize_layers._core import augment
from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import batch as batch_lib
from keras_resize_layers._core import options as options_lib
from keras_resize_layers.data import _elements


def resize_fn(height, width, method="bilinear", antialias=True,
              policy="stretch", crop_fraction=1.0, fill_value=0.0,
              dtype=None, image_key="image", data_format=None,
              bounding_box_format=None, pad_position="center", options=None):
    """Returns a `Dataset.map` function that resizes like `layers.Resize`.

    Works on unbatched images `(H, W, C)`, dense batches `(N, H, W, C)` and
    ragged batches (`dataset.ragged_batch(n)`), on elements that are an
    image, an `(image, label, ...)` tuple, a dict with an `"image"` key, or
    Keras's dict `{"images", "labels", "bounding_boxes", "segmentation_masks"}`
    (boxes and masks follow the pixels, as in `layers.Resize`).
    The output is bit-identical to `layers.Resize` with the same options.
    `data_format`, `bounding_box_format`, `pad_position`: as in `layers.Resize`;
    `options`: a `ResizeOptions` instead of `method` ... `pad_position`.
    `dtype=None` is float32.

    Example:

    >>> ds = tf.data.Dataset.from_tensor_slices((images, labels))
    >>> ds = ds.map(resize_fn(224, 224, policy="crop"), num_parallel_calls=-1)
    """
    size = options_lib.check_size(height, width)
    options = options_lib.resolve(
        options, method=method, antialias=antialias, policy=policy,
        crop_fraction=crop_fraction, fill_value=fill_value, dtype=dtype,
        pad_position=pad_position).with_dtype("float32")
    data_format = options_lib.check_data_format(data_format)
    box_format = annotations.check_box_format(bounding_box_format)
    plain = _elements.map_image(
        lambda images: _ops.resize(images, size, backend="tensorflow",
                                   data_format=data_format, options=options), image_key)

    def fn(*element):
        inputs = _elements.keras_dict(element)
        if inputs is None:
            return plain(*element)
        return _ops.resize_dict(backend_lib.get("tensorflow"), inputs, size, options,
                                box_format, data_format)

    return fn


def side_size(height, width, shorter=None, longer=None, max_size=None):
    """`(new_height, new_width)` int32 keeping the aspect ratio, as torchvision's
    `Resize(int, max_size)` and DALI's `resize_shorter` / `resize_longer` do.

    `shorter`: the shorter side becomes `shorter`, the longer one
    `int(shorter * long / short)`; then, with `max_size`, a longer side above
    `max_size` becomes `max_size` and the shorter one is scaled alike
    (truncating, as torchvision). `longer`: the longer side becomes `longer`,
    the shorter one `int(longer * short / long)`. Sides are at least 1.
    """
    import tensorflow as tf

    if (shorter is None) == (longer is None):
        raise ValueError("Pass exactly one of `shorter` and `longer`. Received: "
                         f"shorter={shorter!r}, longer={longer!r}")
    target = options_lib.check_size(shorter or longer, 1)[0]
    if max_size is not None:
        max_size = options_lib.check_size(max_size, 1)[0]
        if shorter is not None and max_size < target:
            raise ValueError(f"`max_size` ({max_size}) must be at least `shorter` ({target}).")
    h = tf.cast(height, tf.float64)
    w = tf.cast(width, tf.float64)
    short, long = tf.minimum(h, w), tf.maximum(h, w)
    if shorter is not None:
        new_short = tf.constant(float(target), tf.float64)
        new_long = tf.floor(target * long / short)
        if max_size is not None:
            over = new_long > max_size
            new_short = tf.where(over, tf.floor(max_size * new_short / new_long), new_short)
            new_long = tf.where(over, tf.constant(float(max_size), tf.float64), new_long)
    else:
        new_long = tf.constant(float(target), tf.float64)
        new_short = tf.floor(target * short / long)
    new_short = tf.maximum(new_short, 1.0)
    new_long = tf.maximum(new_long, 1.0)
    tall = h >= w
    new_h = tf.where(tall, new_long, new_short)
    new_w = tf.where(tall, new_short, new_long)
    return tf.cast(new_h, tf.int32), tf.cast(new_w, tf.int32)


def resize_to_side(images, shorter=None, longer=None, max_size=None, method="bilinear",
                   antialias=True, dtype="float32"):
    """Resizes each image so that one side has a given length, keeping its aspect.

    TensorFlow only (the output size depends on the input). See `side_size`
    for `shorter`, `longer` and `max_size`.

    Args:
        images: `(H, W, C)`, a dense batch `(N, H, W, C)` (all the same size)
            or a ragged batch `(N, None, None, C)`.
        method, antialias, dtype: as in `resize`.

    Returns:
        `(h, w, C)`, `(N, h, w, C)` or, for a ragged batch, a ragged batch of
        each image's own size. The resampling is TensorFlow's kernel for the
        method (the run-time-size path of `resize`), within 5e-4 of `resize`
        to the same size.

    Example:

    >>> ds = ds.map(lambda x, y: (resize_to_side(x, shorter=256, max_size=512), y))
    """
    import tensorflow as tf

    method = options_lib.check_method(method)
    antialias = options_lib.check_antialias(antialias)
    dtype = options_lib.check_dtype(dtype)
    bk = backend_lib.get("tensorflow")
    side_size(1, 1, shorter, longer, max_size)  # validates the arguments now

    def one(image):
        in_dtype = options_lib.check_dtype(image.dtype.name, argument="image dtype")
        shape = tf.shape(image)
        new_h, new_w = side_size(shape[-3], shape[-2], shorter, longer, max_size)
        out = tf.image.resize(image, tf.stack([new_h, new_w]), method=method,
                              antialias=antialias)
        return batch_lib.cast_output(bk, tf.cast(out, tf.float32), in_dtype, dtype)

    if isinstance(images, tf.RaggedTensor) and images.shape.rank == 3:
        images = images.to_tensor()  # one image sliced from a ragged batch
    if isinstance(images, tf.RaggedTensor):
        from keras_resize_layers._tf import ops as tf_ops

        images = tf_ops.check_ragged(images)  # resize's checks, without padding the batch
        return tf.map_fn(
            lambda image: tf.RaggedTensor.from_tensor(one(image.to_tensor()), ragged_rank=2),
            images,
            fn_output_signature=tf.RaggedTensorSpec([None, None, images.shape[-1]],
                                                    tf.as_dtype(dtype), 2))
    images = tf.convert_to_tensor(images)
    if images.shape.rank not in (3, 4):
        raise ValueError("`images` must have rank 3 or 4 (or be a ragged batch). Received: "
                         f"images.shape={images.shape}")
    return one(images)


def resize_to_side_fn(shorter=None, longer=None, max_size=None, method="bilinear",
                      antialias=True, dtype="float32", image_key="image"):
    """Returns a `Dataset.map` function applying `resize_to_side` to each element's image.

    Example:

    >>> ds = ds.map(resize_to_side_fn(shorter=256, max_size=512)).ragged_batch(32)
    """
    side_size(1, 1, shorter, longer, max_size)
    options_lib.check_method(method)
    options_lib.check_antialias(antialias)
    options_lib.check_dtype(dtype)
    return _elements.map_image(lambda images: resize_to_side(images, shorter, longer, max_size,
                                                    method, antialias, dtype), image_key)


def random_resized_crop_fn(height, width, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                           method="bilinear", antialias=True, seed=0,
                           dtype="float32", image_key="image", data_format=None,
                           bounding_box_format=None):
    """Returns a map function for `dataset.enumerate()` doing RandomResizedCrop.

    The twin of `layers.RandomResizedCrop` in training mode, with a seed per
    element: element `i` draws its box from the stateless seed `(seed, i)`,
    so the pipeline gives the same boxes run after run, whatever
    `num_parallel_calls` is, with `deterministic=True` or not (the order may
    change, the pixels of element `i` do not). Enumerate after `.repeat()`
    so that every epoch draws new boxes, or re-build with `seed + epoch`.

    Example:

    >>> ds = ds.repeat().enumerate().map(
    ...     random_resized_crop_fn(224, 224, seed=7), num_parallel_calls=-1)
    """
    import tensorflow as tf

    size, options, scale, ratio = random_crop_settings(height, width, scale, ratio, method,
                                                       antialias, seed, dtype)
    data_format = options_lib.check_data_format(data_format)
    box_format = annotations.check_box_format(bounding_box_format)
    bk = backend_lib.get("tensorflow")

    def geometry_at(index):
        def geometry(batch):
            n = tf.shape(batch.raw)[0]
            uniforms = crop_uniforms(seed, index, n)
            zeros = tf.zeros([n], tf.int32)
            boxes = augment.random_resized_crop_boxes(
                bk, uniforms, batch.heights + zeros, batch.widths + zeros, scale, ratio)
            return augment.full_placement(bk, boxes, size)

        return geometry

    def transform_at(index):
        def transform(images):
            batch = _dispatch.prepare(bk, batch_lib.to_channels_last(bk, images, data_format))
            out = _dispatch.finish(bk, batch, size, options, geometry_at(index)(batch),
                                   by_policy=False)
            return batch_lib.from_channels_last(bk, out, data_format)

        return transform

    def fn(index=None, *element):
        check_enumerated("random_resized_crop_fn", index, element)
        inputs = _elements.keras_dict(element)
        if inputs is not None:
            return _ops.transform_dict(bk, inputs, size, options, geometry_at(index), False,
                                       box_format, data_format)
        return _elements.map_image(transform_at(index), image_key)(*element)

    return fn


def random_crop_settings(height, width, scale, ratio, method, antialias, seed, dtype):
    """RandomResizedCrop's arguments, validated: `(size, options, scale, ratio)`."""
    size = options_lib.check_size(height, width)
    options = options_lib.ResizeOptions(method=method, antialias=antialias,
                                        dtype=dtype).with_dtype("float32")
    scale = augment.check_range("scale", scale, 0.0, 1.0)
    ratio = augment.check_range("ratio", ratio, 0.0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"`seed` must be an int. Received: seed={seed!r}")
    return size, options, scale, ratio


def crop_uniforms(seed, index, n):
    """The `(n, ATTEMPTS, 4)` uniforms of element `index`'s boxes (stateless seed)."""
    import tensorflow as tf

    return tf.random.stateless_uniform(
        tf.stack([n, augment.ATTEMPTS, 4]),
        seed=tf.stack([tf.constant(seed, tf.int64), tf.cast(index, tf.int64)]))


def check_enumerated(name, index, element):
    """A map function of `(index, element)` pairs was given them."""
    import tensorflow as tf

    if not element or index is None or not isinstance(index, tf.Tensor) or (
            index.dtype not in (tf.int32, tf.int64)) or index.shape.rank != 0:
        raise ValueError(
            f"{name} maps `(index, element)` pairs: use `dataset.enumerate().map({name}"
            "(...))` (the index seeds each element's box).")


def random_resized_crop(height, width, seed=0, rerandomize_each_iteration=True,
                        num_parallel_calls=None, **kwargs):
    """Returns a dataset transformation doing RandomResizedCrop on every element.

    `ds.apply(random_resized_crop(224, 224, seed=7))`: no `.enumerate()` to
    remember. Each element gets its own stateless seed from
    `tf.data.Dataset.random(seed)`, zipped with the elements in order, so
    the boxes are the same run after run whatever `num_parallel_calls` is;
    with `rerandomize_each_iteration=True` (default) every new iterator (every
    epoch of `model.fit`) draws new boxes, still reproducibly; with `False`
    every epoch repeats the first epoch's boxes.

    Args:
        height, width: output size.
        seed: int.
        rerandomize_each_iteration: new boxes per iteration (epoch).
        num_parallel_calls: of the map; defaults to `tf.data.AUTOTUNE`.
        **kwargs: the other arguments of `random_resized_crop_fn` (`scale`,
            `ratio`, `method`, `antialias`, `dtype`, `image_key`,
            `data_format`, `bounding_box_format`).

    Example:

    >>> ds = ds.apply(random_resized_crop(224, 224, seed=7)).batch(32)
    """
    fn = random_resized_crop_fn(height, width, seed=seed, **kwargs)
    return seeded_apply(fn, seed, rerandomize_each_iteration, num_parallel_calls)


def seeded_apply(fn, seed, rerandomize_each_iteration, num_parallel_calls):
    """A transformation mapping `fn(element_seed, *element)` over a dataset: the seeds come
    from `tf.data.Dataset.random(seed)`, zipped in order; a fast-start map (its branches
    are instantiated when first taken, not per iterator)."""
    import tensorflow as tf

    calls = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls

    def apply(dataset):
        seeds = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=rerandomize_each_iteration)
        pairs = tf.data.Dataset.zip(seeds, dataset)
        return _compat.fast_start_map(pairs, lambda s, *element: fn(s, *element), calls)

    return apply


def to_ragged(images):
    """A ragged batch `(N, None, None, C)` from a list of `(H, W, C)` arrays.

    Feed it to `layers.Resize` or `Dataset.from_tensor_slices` (then
    `.ragged_batch(n)`) to train on images of different sizes.
    """
    import numpy as np
    import tensorflow as tf

    if not len(images):
        raise ValueError("`images` is empty.")
    channels = {np.shape(i)[-1] for i in images}
    if len(channels) != 1 or any(np.ndim(i) != 3 for i in images):
        raise ValueError("Every image must have shape (H, W, C) with the same C; got "
                         f"shapes {sorted({np.shape(i) for i in images})[:5]}.")
    flat = np.concatenate([np.reshape(i, (-1, np.shape(i)[-1])) for i in images])
    widths = np.concatenate([[np.shape(i)[1]] * np.shape(i)[0] for i in images])
    rows = tf.RaggedTensor.from_row_lengths(flat, widths.astype(np.int64))
    return tf.RaggedTensor.from_row_lengths(
        rows, np.array([np.shape(i)[0] for i in images], np.int64))
