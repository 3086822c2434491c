"""tf.data map functions: the twins of the layers, for input pipelines.

TensorFlow only. Each function returns a map function built on the same core
as the matching layer, so a pipeline and a model give the same pixels.
"""

from keras_resize_layers import _compat
from keras_resize_layers._core import annotations
from keras_resize_layers._core import options
from keras_resize_layers._core.resizing import check_pad_position, resize
from keras_resize_layers._tf.directory import image_dataset_from_directory

__all__ = ["resize_fn", "random_resized_crop_fn", "random_resized_crop", "side_size",
           "resize_to_side", "resize_to_side_fn", "decode_fn", "decode_and_resize_fn",
           "batched_decode_and_resize", "decode_images", "DecodedImages", "to_ragged",
           "image_dataset_from_directory"]


def _element_name(element, name_key):
    """The `name_key` entry of a dict element (e.g. its file path), or None."""
    if len(element) == 1 and isinstance(element[0], dict) and name_key:
        return element[0].get(name_key)
    return None


def _dct_hint(size, policy="stretch", crop_fraction=1.0):
    """Smallest decoded size that still covers `size` (`size / crop_fraction` for crop)."""
    f = crop_fraction if policy == "crop" else 1.0
    return (int(-(-size[0] // f)), int(-(-size[1] // f)))


def _resize(images, opts, image_sizes=None, data_format="channels_last",
            pad_position="center"):
    """`resize` with checked options (`options.check_options`), TensorFlow ops."""
    return resize(images, opts["size"], method=opts["method"], antialias=opts["antialias"],
                  policy=opts["policy"], crop_fraction=opts["crop_fraction"],
                  fill_value=opts["fill_value"], dtype=opts["dtype"], backend="tensorflow",
                  image_sizes=image_sizes, data_format=data_format, pad_position=pad_position)


def _keras_dict(element):
    """The element when it is Keras's dict input (`{"images", ...}`), else None."""
    if len(element) == 1 and isinstance(element[0], dict) and "images" in element[0]:
        return element[0]
    return None


def _split(element, image_key):
    """`(image, rest, kind)` of a dataset element (the `*args` of a map
    function): a tensor, a tuple whose first item is the image, or a dict with
    an `image_key` entry. `_join` puts an image back in its place."""
    if len(element) > 1:
        return element[0], tuple(element[1:]), "tuple"
    (element,) = element
    if isinstance(element, dict):
        if image_key not in element:
            raise KeyError(
                f"The dataset element is a dict without an {image_key!r} key "
                f"(keys: {sorted(element)})."
            )
        return element[image_key], {k: v for k, v in element.items() if k != image_key}, "dict"
    if isinstance(element, tuple):
        return element[0], tuple(element[1:]), "tuple"
    return element, (), "image"


def _join(image, rest, kind, image_key):
    if kind == "dict":
        return {**rest, image_key: image}
    if kind == "tuple":
        return (image,) + tuple(rest)
    return image


def _map_image(transform, image_key="image"):
    """Applies `transform` to the image of an element (see `_split`)."""

    def fn(*element):
        image, rest, kind = _split(element, image_key)
        return _join(transform(image), rest, kind, image_key)

    return fn


def resize_fn(height, width, method="bilinear", antialias=True,
              policy="stretch", crop_fraction=1.0, fill_value=0.0,
              dtype="float32", image_key="image", data_format=None,
              bounding_box_format=None, pad_position="center"):
    """Returns a `Dataset.map` function that resizes like `layers.Resize`.

    Works on unbatched images `(H, W, C)`, dense batches `(N, H, W, C)` and
    ragged batches (`dataset.ragged_batch(n)`), on elements that are an
    image, an `(image, label, ...)` tuple, a dict with an `"image"` key, or
    Keras's dict `{"images", "labels", "bounding_boxes", "segmentation_masks"}`
    (boxes and masks follow the pixels, as in `layers.Resize`).
    The output is bit-identical to `layers.Resize` with the same options.
    `data_format`, `bounding_box_format`, `pad_position`: as in `layers.Resize`.

    Example:

    >>> ds = tf.data.Dataset.from_tensor_slices((images, labels))
    >>> ds = ds.map(resize_fn(224, 224, policy="crop"), num_parallel_calls=-1)
    """
    opts = options.check_options(height, width, method, antialias, policy,
                                 crop_fraction, fill_value, dtype)
    data_format = options.check_data_format(data_format)
    box_format = annotations.check_box_format(bounding_box_format)
    check_pad_position(pad_position)
    plain = _map_image(lambda images: _resize(images, opts, data_format=data_format,
                                              pad_position=pad_position), image_key)

    def fn(*element):
        inputs = _keras_dict(element)
        if inputs is None:
            return plain(*element)
        from keras_resize_layers._core import backend as backend_lib

        return annotations.resize_dict(backend_lib.get("tensorflow"), inputs, opts["size"],
                                       dict(opts, from_policy=True), box_format, data_format,
                                       pad_position)

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
    target = options.check_size(shorter or longer, 1)[0]
    if max_size is not None:
        max_size = options.check_size(max_size, 1)[0]
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

    from keras_resize_layers._core import backend as backend_lib
    from keras_resize_layers._core import resizing

    opts = options.check_options(1, 1, method, antialias, "stretch", 1.0, 0.0, dtype)
    bk = backend_lib.get("tensorflow")
    side_size(1, 1, shorter, longer, max_size)  # validates the arguments now

    def one(image):
        in_dtype = options.check_dtype(image.dtype.name, argument="image dtype")
        shape = tf.shape(image)
        new_h, new_w = side_size(shape[-3], shape[-2], shorter, longer, max_size)
        out = tf.image.resize(image, tf.stack([new_h, new_w]), method=opts["method"],
                              antialias=opts["antialias"])
        return resizing.cast_output(bk, tf.cast(out, tf.float32), in_dtype, opts["dtype"])

    if isinstance(images, tf.RaggedTensor) and images.shape.rank == 3:
        images = images.to_tensor()  # one image sliced from a ragged batch
    if isinstance(images, tf.RaggedTensor):
        from keras_resize_layers._tf import ops as tf_ops

        images = tf_ops.check_ragged(images)  # resize's checks, without padding the batch
        return tf.map_fn(
            lambda image: tf.RaggedTensor.from_tensor(one(image.to_tensor()), ragged_rank=2),
            images,
            fn_output_signature=tf.RaggedTensorSpec([None, None, images.shape[-1]],
                                                    tf.as_dtype(opts["dtype"]), 2))
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
    options.check_options(1, 1, method, antialias, "stretch", 1.0, 0.0, dtype)
    return _map_image(lambda images: resize_to_side(images, shorter, longer, max_size,
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

    from keras_resize_layers._core import augment
    from keras_resize_layers._core import backend as backend_lib
    from keras_resize_layers._core import resizing

    opts = options.check_options(height, width, method, antialias, "stretch", 1.0,
                                 0.0, dtype)
    scale = augment.check_range("scale", scale, 0.0, 1.0)
    ratio = augment.check_range("ratio", ratio, 0.0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"`seed` must be an int. Received: seed={seed!r}")
    data_format = options.check_data_format(data_format)
    box_format = annotations.check_box_format(bounding_box_format)
    bk = backend_lib.get("tensorflow")

    def geometry_at(index):
        def geometry(batch):
            n = tf.shape(batch.raw)[0]
            uniforms = tf.random.stateless_uniform(
                tf.stack([n, augment.ATTEMPTS, 4]),
                seed=tf.stack([tf.constant(seed, tf.int64), tf.cast(index, tf.int64)]))
            zeros = tf.zeros([n], tf.int32)
            boxes = augment.random_resized_crop_boxes(
                bk, uniforms, batch.heights + zeros, batch.widths + zeros, scale, ratio)
            return augment.full_placement(bk, boxes, opts["size"])

        return geometry

    def transform_at(index):
        def transform(images):
            batch = resizing.prepare(bk, resizing.to_channels_last(bk, images, data_format))
            out = resizing.finish(bk, batch, opts, geometry_at(index)(batch))
            return resizing.from_channels_last(bk, out, data_format)

        return transform

    def fn(index=None, *element):
        if not element or index is None or not isinstance(index, tf.Tensor) or (
                index.dtype not in (tf.int32, tf.int64)) or index.shape.rank != 0:
            raise ValueError(
                "random_resized_crop_fn maps `(index, element)` pairs: use "
                "`dataset.enumerate().map(random_resized_crop_fn(...))` (the index seeds "
                "each element's box).")
        inputs = _keras_dict(element)
        if inputs is not None:
            return annotations.transform_dict(bk, inputs, opts["size"], opts,
                                              geometry_at(index), box_format, data_format)
        return _map_image(transform_at(index), image_key)(*element)

    return fn


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
    import tensorflow as tf

    fn = random_resized_crop_fn(height, width, seed=seed, **kwargs)
    calls = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls

    def apply(dataset):
        seeds = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=rerandomize_each_iteration)
        pairs = tf.data.Dataset.zip(seeds, dataset)
        return _compat.fast_start_map(pairs, lambda s, *element: fn(s, *element), calls)

    return apply


def decode_fn(size=None, fill_value=0.0, image_key="image", name_key=None):
    """Returns a map function decoding encoded images to uint8 RGB `(H, W, 3)`.

    Elements: a `tf.string` scalar, an `(encoded, label, ...)` tuple, or a
    dict with an `image_key` entry (and optionally a `name_key` entry, e.g. a
    file path, used to name the element in errors). See
    `keras_resize_layers.decode.decode_image` for formats and `size`.
    """
    from keras_resize_layers import decode

    def fn(*element):
        name = _element_name(element, name_key)
        return _map_image(
            lambda contents: decode.decode_image(contents, size, fill_value, name),
            image_key)(*element)

    return fn


def decode_and_resize_fn(height, width, method="bilinear", antialias=True,
                         policy="stretch", crop_fraction=1.0, fill_value=0.0,
                         dtype="float32", dct_downscale=True, image_key="image",
                         name_key=None):
    """Returns a map function: encoded bytes -> decoded -> `resize`d image.

    With `dct_downscale=True`, JPEGs are decoded at 1/2, 1/4 or 1/8 scale
    when the decoded image still covers the output (for `policy="crop"`,
    `size / crop_fraction`), which skips most of the decoding work.

    Example:

    >>> ds = tf.data.Dataset.from_tensor_slices((jpeg_bytes, labels)).map(
    ...     decode_and_resize_fn(224, 224, policy="crop", crop_fraction=0.875),
    ...     num_parallel_calls=tf.data.AUTOTUNE)
    """
    from keras_resize_layers import decode

    opts = options.check_options(height, width, method, antialias, policy,
                                 crop_fraction, fill_value, dtype)
    hint = _dct_hint(opts["size"], opts["policy"], opts["crop_fraction"]) if dct_downscale \
        else None

    def transform(contents, name=None):
        return _resize(decode.decode_image(contents, hint, opts["fill_value"], name), opts)

    def fn(*element):
        name = _element_name(element, name_key)
        return _map_image(lambda c: transform(c, name), image_key)(*element)

    return fn


def batched_decode_and_resize(batch_size, height, width, method="bilinear", antialias=True,
                              policy="stretch", crop_fraction=1.0, fill_value=0.0,
                              dtype="float32", dct_downscale=True, drop_remainder=False,
                              num_parallel_calls=None, image_key="image", name_key=None):
    """Returns a dataset transformation: encoded images -> batches of resized images.

    The fast path for pipelines of photos of different sizes. Each element is
    decoded on its own (with DCT-domain downscaling as in
    `decode_and_resize_fn`); `padded_batch` then gathers `batch_size` of them
    into one zero-padded tensor with their sizes, and the whole batch is
    resized in one call (`resize(..., image_sizes=...)`): with TensorFlow on a
    CPU that is one call of the library's taps op per batch instead of one
    TensorFlow kernel per image. Same pixels as `decode_and_resize_fn` and
    `layers.Resize` to float rounding (5e-4 on the 0..255 scale).

    Elements: encoded bytes, an `(encoded, label, ...)` tuple or a dict with
    an `image_key` entry (other entries, and the other tuple items, are
    batched as `padded_batch` batches them).

    Args:
        batch_size: images per batch.
        height, width, method, antialias, policy, crop_fraction, fill_value,
            dtype, dct_downscale, image_key, name_key: as in
            `decode_and_resize_fn`.
        drop_remainder: as in `Dataset.batch`.
        num_parallel_calls: of both maps; defaults to `tf.data.AUTOTUNE`.

    Returns:
        A function for `Dataset.apply`.

    Example:

    >>> ds = tf.data.Dataset.from_tensor_slices((jpeg_bytes, labels))
    >>> ds = ds.apply(batched_decode_and_resize(32, 224, 224)).prefetch(2)
    """
    import tensorflow as tf

    from keras_resize_layers import decode

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int. Received: {batch_size!r}")
    opts = options.check_options(height, width, method, antialias, policy,
                                 crop_fraction, fill_value, dtype)
    hint = _dct_hint(opts["size"], opts["policy"], opts["crop_fraction"]) if dct_downscale \
        else None
    calls = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls
    form = {}  # the element's kind, seen when the decoding map is traced

    def decode_one(*element):
        name = _element_name(element, name_key)
        contents, rest, form["kind"] = _split(element, image_key)
        form["dtypes"] = tf.nest.map_structure(lambda x: x.dtype, rest)
        image = decode.decode_image(contents, hint, opts["fill_value"], name)
        return image, tf.shape(image, out_type=tf.int64)[:2], rest

    def resize_batch(images, sizes, rest):
        # int32 entries arrive as int64 (`keep_int64` below): their dtype again.
        rest = tf.nest.map_structure(lambda x, dtype: tf.cast(x, dtype), rest, form["dtypes"])
        return _join(_resize(images, opts, sizes), rest, form["kind"], image_key)

    def apply(dataset):
        # Both maps start fast in every new iterator (`_compat.fast_start_map`);
        # int32 entries are restored once per batch, not per element.
        decoded = _compat.fast_start_map(dataset, decode_one, calls, keep_int64=True)
        return _compat.fast_start_map(
            decoded.padded_batch(batch_size, drop_remainder=drop_remainder), resize_batch, calls)

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


class DecodedImages:
    """A dataset of decoded (and optionally resized) images with an error policy.

    Built by `decode_images`. Iterate it like a dataset: each good element
    comes out as the input element with its image decoded. With
    `on_error="skip"`, iterating skips every element whose decoding fails
    (empty, not an image, truncated, corrupt, over `max_pixels`, ...) and
    records it: `skipped` lists `(name or "element <index>", reason)`,
    `skipped_count` counts them, and the end of each pass logs them as a
    warning.

    Attributes:
        records: a `tf.data.Dataset` of `(ok, reason, name, element)`, one
            record per input element, in order. Graph ops only, so it can run
            on tf.data service workers; `apply` wraps a transformation of it
            (e.g. `tf.data.experimental.service.distribute`) and keeps the
            counting on this side.
        dataset: the good elements as a `tf.data.Dataset` for `model.fit`;
            each skipped element is reported on stderr (`tf.print`) with its
            name and reason and counted in `dataset_skipped`.
        dataset_skipped: int64 `tf.Variable`, the elements `dataset` has
            skipped so far (over all its passes). Iterate this object itself
            for the names and reasons of one pass.
    """

    def __init__(self, records, on_error="skip"):
        import tensorflow as tf

        self.records = records
        self.on_error = on_error
        self.skipped = []
        self.dataset_skipped = tf.Variable(0, dtype=tf.int64, trainable=False,
                                           name="dataset_skipped")

        def skip(name, reason):
            with tf.control_dependencies([self.dataset_skipped.assign_add(1)]):
                return _report(name, reason)

        def keep(ok, reason, name, element):
            report = tf.cond(ok, lambda: tf.constant(True), lambda: skip(name, reason))
            return tf.logical_and(ok, report)

        self.dataset = records.filter(keep).map(lambda ok, reason, name, element: element)

    def apply(self, transformation):
        """A `DecodedImages` over `transformation(records)`."""
        return DecodedImages(transformation(self.records), self.on_error)

    @property
    def skipped_count(self):
        return len(self.skipped)

    def __iter__(self):
        del self.skipped[:]
        for ok, reason, name, element in self.records:
            if bool(ok):
                yield element
            else:
                self.skipped.append((name.numpy().decode(errors="replace"),
                                     reason.numpy().decode(errors="replace")))
        if self.skipped:
            import logging

            logging.getLogger(__name__).warning(
                "Skipped %d undecodable image(s): %s", len(self.skipped),
                "; ".join(f"{name}: {reason}" for name, reason in self.skipped[:20]))


def _report(name, reason):
    import sys

    import tensorflow as tf

    with tf.control_dependencies([tf.print("keras_resize_layers: skipped image", name, ":",
                                           reason, output_stream=sys.stderr)]):
        return tf.constant(True)


def decode_images(dataset, size=None, on_error="raise", name_key=None, image_key="image",
                  max_pixels=None, min_size=None, **resize_options):
    """Decodes (and with `size`, resizes) the images of a dataset of encoded bytes.

    Every element is decoded on its own under a guard: whatever fails, in the
    header check or inside TensorFlow's decoders (truncated data, a bad PNG
    CRC, corrupt JPEG markers, a declared size over `max_pixels`), fails for
    that element only, with a reason. Graph ops only: it runs on tf.data
    service workers. The guard costs about 0.5 ms per element on 2 cores
    (BUILD_NOTES); `decode_and_resize_fn` is the unguarded fast path.

    Args:
        dataset: elements are encoded bytes, `(bytes, label, ...)` tuples or
            dicts with an `image_key` entry (and optionally `name_key`, e.g.
            the file path).
        size: optional `(height, width)`: resize with `resize_options` (as in
            `resize_fn`) after decoding.
        on_error: `"raise"` (default) fails at the first bad element with an
            `InvalidArgumentError` naming it (its `name_key` value, or
            `element <index>`) and the reason; `"skip"` skips it and counts
            it (see `DecodedImages`).
        max_pixels: largest declared `height * width` decoded; defaults to
            `decode.MAX_PIXELS`.
        min_size: without `size`, optional `(height, width)`: JPEGs are
            decoded at 1/2, 1/4 or 1/8 scale in the DCT domain while the
            decoded image still covers it (with `size` this is automatic).

    Returns:
        `DecodedImages`.

    Example:

    >>> files = tf.data.Dataset.list_files("photos/*/*.jpg", shuffle=False)
    >>> ds = files.map(lambda p: {"image": tf.io.read_file(p), "path": p})
    >>> images = decode_images(ds, (224, 224), on_error="skip", name_key="path")
    >>> for element in images: ...
    >>> images.skipped_count, images.skipped
    """
    import tensorflow as tf

    from keras_resize_layers import decode

    if on_error not in ("raise", "skip"):
        raise ValueError(f"Unknown `on_error`: {on_error!r}. Expected 'raise' or 'skip'.")
    limit = decode.MAX_PIXELS if max_pixels is None else max_pixels
    if size is not None:
        opts = options.check_options(size[0], size[1], resize_options.get("method", "bilinear"),
                                     resize_options.get("antialias", True),
                                     resize_options.get("policy", "stretch"),
                                     resize_options.get("crop_fraction", 1.0),
                                     resize_options.get("fill_value", 0.0),
                                     resize_options.get("dtype", "float32"))
        hint = _dct_hint(opts["size"], opts["policy"], opts["crop_fraction"])
    fill = resize_options.get("fill_value", 0.0)

    def label(index, element):
        name = _element_name((element,), name_key)
        if name is None:
            return tf.strings.join(["element ", tf.strings.as_string(index)])
        return tf.strings.as_string(name) if name.dtype != tf.string else name

    def transform(contents):
        image = decode.decode_image(contents, min_size if size is None else hint, fill,
                                    max_pixels=limit)
        return image if size is None else _resize(image, opts)

    def placeholder():
        if size is None:
            return tf.zeros([1, 1, 3], tf.uint8)
        return tf.zeros([*opts["size"], 3], opts["dtype"])

    def attempt(index, element):
        contents, rest, kind = _split((element,), image_key)
        return (tf.constant(True), tf.constant(""), label(index, element),
                _join(transform(contents), rest, kind, image_key))

    def failed(index, element):
        contents, rest, kind = _split((element,), image_key)
        return (tf.constant(False), decode.reason_of_failure(contents, limit),
                label(index, element), _join(placeholder(), rest, kind, image_key))

    def guarded(index, *element):
        element = element[0] if len(element) == 1 else element
        one = tf.data.Dataset.from_tensors((index, element))
        return one.map(attempt).ignore_errors().concatenate(one.map(failed)).take(1)

    records = dataset.enumerate().interleave(
        guarded, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if on_error == "raise":
        def check(ok, reason, name, element):
            with tf.control_dependencies([tf.debugging.Assert(
                    ok, ["Cannot decode image", name, ":", reason])]):
                return tf.identity(ok), reason, name, element

        records = records.map(check)
    return DecodedImages(records, on_error)
