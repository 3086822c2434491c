"""Decoding pipelines: encoded bytes -> images (resized), with an error policy.

TensorFlow only. `decode_fn` and `decode_and_resize_fn` are the unguarded fast
paths; `batched_decode_and_resize` resizes a padded batch in one call;
`decode_random_resized_crop(_fn)` and `batched_decode_random_resized_crop` decode
only a JPEG's RandomResizedCrop window;
`decode_images` guards every element and skips or raises with the element's
name and the reason.
"""

from keras_resize_layers import _compat
from keras_resize_layers import _ops
from keras_resize_layers import decode
from keras_resize_layers._core import geometry as geometry_lib
from keras_resize_layers._core import options as options_lib
from keras_resize_layers.data import _elements
from keras_resize_layers.data import maps


def _hint(size, options, dct_downscale=True):
    """The decoded size a JPEG may shrink to in the DCT domain (None: full size)."""
    if not dct_downscale:
        return None
    return geometry_lib.decoded_size_hint(size, options.policy, options.crop_fraction)


def _resize(images, size, options, image_sizes=None):
    return _ops.resize(images, size, backend="tensorflow", image_sizes=image_sizes,
                       options=options)


def decode_fn(size=None, fill_value=0.0, image_key="image", name_key=None):
    """Returns a map function decoding encoded images to uint8 RGB `(H, W, 3)`.

    Elements: a `tf.string` scalar, an `(encoded, label, ...)` tuple, or a
    dict with an `image_key` entry (and optionally a `name_key` entry, e.g. a
    file path, used to name the element in errors). See
    `keras_resize_layers.decode.decode_image` for formats and `size`.
    """
    def fn(*element):
        name = _elements.element_name(element, name_key)
        return _elements.map_image(
            lambda contents: decode.decode_image(contents, size, fill_value, name),
            image_key)(*element)

    return fn


def decode_and_resize_fn(height, width, method="bilinear", antialias=True,
                         policy="stretch", crop_fraction=1.0, fill_value=0.0,
                         dtype=None, dct_downscale=True, image_key="image",
                         name_key=None, options=None):
    """Returns a map function: encoded bytes -> decoded -> `resize`d image.

    With `dct_downscale=True`, JPEGs are decoded at 1/2, 1/4 or 1/8 scale
    when the decoded image still covers the output (for `policy="crop"`,
    `size / crop_fraction`), which skips most of the decoding work.
    `options`: a `ResizeOptions` instead of `method` ... `dtype`.

    Example:

    >>> ds = tf.data.Dataset.from_tensor_slices((jpeg_bytes, labels)).map(
    ...     decode_and_resize_fn(224, 224, policy="crop", crop_fraction=0.875),
    ...     num_parallel_calls=tf.data.AUTOTUNE)
    """
    size = options_lib.check_size(height, width)
    options = options_lib.resolve(
        options, method=method, antialias=antialias, policy=policy,
        crop_fraction=crop_fraction, fill_value=fill_value, dtype=dtype).with_dtype("float32")
    hint = _hint(size, options, dct_downscale)

    def transform(contents, name=None):
        image = decode.decode_image(contents, hint, options.fill_value, name)
        return _resize(image, size, options)

    def fn(*element):
        name = _elements.element_name(element, name_key)
        return _elements.map_image(lambda c: transform(c, name), image_key)(*element)

    return fn


def _decode_then_resize(dataset, settings, decode_one, resize_batch, batch_size,
                        drop_remainder, calls):
    """`decode_one` per element, `padded_batch`, then `resize_batch` per batch, both maps
    starting fast in every new iterator (`_compat.fast_start_map`; int32 entries leave the
    first map as int64 and are restored once per batch). A later build with the same
    `settings` on a dataset of the same element spec reuses both traced functions
    (`_compat.traced_maps`). They are traced together or not at all: `resize_batch`'s
    trace reads what `decode_one`'s trace saw of the element."""
    traced = _compat.traced_maps(dataset, settings)
    if "resize" not in traced:
        traced.clear()
    decoded = _compat.fast_start_map(dataset, decode_one, calls, keep_int64=True,
                                     traced=traced, name="decode")
    return _compat.fast_start_map(
        decoded.padded_batch(batch_size, drop_remainder=drop_remainder), resize_batch, calls,
        traced=traced, name="resize")


def batched_decode_and_resize(batch_size, height, width, method="bilinear", antialias=True,
                              policy="stretch", crop_fraction=1.0, fill_value=0.0,
                              dtype=None, dct_downscale=True, drop_remainder=False,
                              num_parallel_calls=None, image_key="image", name_key=None,
                              options=None):
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
            dtype, dct_downscale, image_key, name_key, options: as in
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

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int. Received: {batch_size!r}")
    size = options_lib.check_size(height, width)
    options = options_lib.resolve(
        options, method=method, antialias=antialias, policy=policy,
        crop_fraction=crop_fraction, fill_value=fill_value, dtype=dtype).with_dtype("float32")
    hint = _hint(size, options, dct_downscale)
    calls = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls
    form = {}  # the element's kind, seen when the decoding map is traced

    def decode_one(*element):
        name = _elements.element_name(element, name_key)
        contents, rest, form["kind"] = _elements.split(element, image_key)
        form["dtypes"] = tf.nest.map_structure(lambda x: x.dtype, rest)
        image = decode.decode_image(contents, hint, options.fill_value, name)
        # The whole shape: its (height, width) is sliced once per batch (per element, one
        # more op in the map tf.data runs 2,048 times a pass).
        return image, tf.shape(image, out_type=tf.int64), rest

    def resize_batch(images, shapes, rest):
        # int32 entries arrive as int64 (`keep_int64` below): their dtype again.
        rest = tf.nest.map_structure(lambda x, dtype: tf.cast(x, dtype), rest, form["dtypes"])
        return _elements.join(_resize(images, size, options, shapes[:, :2]), rest,
                              form["kind"], image_key)

    def apply(dataset):
        return _decode_then_resize(dataset, (
            "batched_decode_and_resize", batch_size, drop_remainder, size, options, hint,
            calls, image_key, name_key), decode_one, resize_batch, batch_size, drop_remainder,
            calls)

    return apply


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
                  max_pixels=None, min_size=None, options=None, **resize_options):
    """Decodes (and with `size`, resizes) the images of a dataset of encoded bytes.

    Every element is decoded on its own under a guard: whatever fails, in the
    header check or inside TensorFlow's decoders (truncated data, a bad PNG
    CRC, corrupt JPEG markers, a declared size over `max_pixels`), fails for
    that element only, with a reason. Graph ops only: it runs on tf.data
    service workers. `decode_and_resize_fn` is the unguarded fast path.

    Args:
        dataset: elements are encoded bytes, `(bytes, label, ...)` tuples or
            dicts with an `image_key` entry (and optionally `name_key`, e.g.
            the file path).
        size: optional `(height, width)`: resize with `options` (a
            `ResizeOptions`) or the `resize_options` keywords (`method`,
            `antialias`, `policy`, `crop_fraction`, `fill_value`, `dtype`,
            `pad_position`, as in `resize_fn`) after decoding.
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

    if on_error not in ("raise", "skip"):
        raise ValueError(f"Unknown `on_error`: {on_error!r}. Expected 'raise' or 'skip'.")
    limit = decode.MAX_PIXELS if max_pixels is None else max_pixels
    options = options_lib.resolve(options, **resize_options).with_dtype("float32")
    if size is not None:
        size = options_lib.check_size_pair(size)
        hint = _hint(size, options)
    fill = options.fill_value

    def label(index, element):
        name = _elements.element_name((element,), name_key)
        if name is None:
            return tf.strings.join(["element ", tf.strings.as_string(index)])
        return tf.strings.as_string(name) if name.dtype != tf.string else name

    def transform(contents):
        image = decode.decode_image(contents, min_size if size is None else hint, fill,
                                    max_pixels=limit)
        return image if size is None else _resize(image, size, options)

    def placeholder():
        if size is None:
            return tf.zeros([1, 1, 3], tf.uint8)
        return tf.zeros([*size, 3], options.dtype)

    def attempt(index, element):
        contents, rest, kind = _elements.split((element,), image_key)
        return (tf.constant(True), tf.constant(""), label(index, element),
                _elements.join(transform(contents), rest, kind, image_key))

    def failed(index, element):
        contents, rest, kind = _elements.split((element,), image_key)
        return (tf.constant(False), decode.reason_of_failure(contents, limit),
                label(index, element), _elements.join(placeholder(), rest, kind, image_key))

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


def decode_random_resized_crop_fn(height, width, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                                  method="bilinear", antialias=True, seed=0, dtype="float32",
                                  image_key="image", name_key=None):
    """Returns a map function for `dataset.enumerate()`: encoded bytes -> RandomResizedCrop,
    decoding only the crop of a JPEG.

    Element `i` draws its box from the JPEG header's size with the stateless seed
    `(seed, i)`: the same box, from the same distribution, as
    `random_resized_crop_fn(..., seed=seed)` on the fully decoded image. A JPEG is then
    decoded only inside that window (`tf.image.decode_and_crop_jpeg`), at the largest DCT
    scale 1/r (r = 2, 4, 8) that keeps the window at least twice the output size, and the
    window is resized to `(height, width)`. At a scale 1/r the box is snapped outward to
    multiples of r (fewer than r pixels per side of a box at least 2r times the output).
    Pixels stay within about a grey level on average of full decode + `resized_crop` of
    that box (the chroma upsampling at the window's edges and the DCT scaling differ).
    Other formats are decoded whole and cropped: the same pixels as those two steps. Bad
    input is refused as `decode.decode_image` refuses it (a JPEG over `decode.MAX_PIXELS`
    included), naming the element with `name_key`.

    Args:
        height, width: output size.
        scale, ratio, method, antialias, seed, dtype: as in `random_resized_crop_fn`.
        image_key, name_key: as in `decode_and_resize_fn`.

    Example:

    >>> ds = ds.repeat().enumerate().map(
    ...     decode_random_resized_crop_fn(224, 224, seed=7), num_parallel_calls=-1)
    """
    import tensorflow as tf

    size, options, scale, ratio = maps.random_crop_settings(height, width, scale, ratio,
                                                            method, antialias, seed, dtype)
    window_of = _crop_windows(size, scale, ratio, seed)

    def fn(index=None, *element):
        maps.check_enumerated("decode_random_resized_crop_fn", index, element)
        name = _elements.element_name(element, name_key)

        def transform(contents):
            image, box = window_of(contents, index, name)
            # A box, not a plain resize: one image of run-time size would take TensorFlow's
            # kernels; a box takes the per-image taps (the CPU op), as random_resized_crop_fn.
            out = _ops.resized_crop(image, box, size, method=options.method,
                                    antialias=options.antialias, dtype=options.dtype,
                                    backend="tensorflow")
            return tf.ensure_shape(out, [size[0], size[1], 3])

        return _elements.map_image(transform, image_key)(*element)

    return fn


def _crop_windows(size, scale, ratio, seed):
    """`window_of(contents, index, name) -> (image, box)`: RandomResizedCrop's box of element
    `index` drawn from the image's size (a JPEG's header), and the pixels to crop it from:
    a JPEG's window decoded at the largest DCT scale that keeps it at least twice `size`
    (box: all of it), any other image decoded whole (box: the drawn one)."""
    import tensorflow as tf

    from keras_resize_layers._core import augment, backend as backend_lib

    bk = backend_lib.get("tensorflow")

    def box_of(index, shape):
        box = augment.random_resized_crop_boxes(bk, maps.crop_uniforms(seed, index, 1),
                                                shape[:1], shape[1:2], scale, ratio)
        return tf.stack([box[k][0] for k in ("box_y", "box_x", "box_h", "box_w")])

    def jpeg_window(contents, index, name):
        shape = decode.jpeg_shape(contents, name)[:2]  # refuses decompression bombs
        y, x, h, w = tf.unstack(box_of(index, shape))
        # The largest DCT scale 1/r with the box still twice the output at 1/r.
        fits = [tf.logical_and(h >= 2 * r * size[0], w >= 2 * r * size[1]) for r in (2, 4, 8)]
        branch = tf.add_n([tf.cast(f, tf.int32) for f in fits])

        def at(r):
            def decode_at():
                # Window coordinates are those of the image scaled by 1/r (ceil(side / r)
                # pixels); the box is snapped outward to that grid (< r pixels per side).
                top, left = y // r, x // r
                bottom = tf.minimum(-(-(y + h) // r), -(-shape[0] // r))
                right = tf.minimum(-(-(x + w) // r), -(-shape[1] // r))
                return tf.image.decode_and_crop_jpeg(
                    contents, tf.stack([top, left, bottom - top, right - left]),
                    channels=3, ratio=r)
            return decode_at

        window = tf.switch_case(branch, [at(1), at(2), at(4), at(8)])
        return window, tf.concat([[0, 0], tf.shape(window)[:2]], 0)

    def whole(contents, index, name):
        image = decode.decode_image(contents, None, 0.0, name)
        return image, box_of(index, tf.shape(image)[:2])

    def window_of(contents, index, name):
        is_jpeg = tf.equal(tf.strings.substr(contents, 0, 3), b"\xff\xd8\xff")
        image, box = tf.cond(is_jpeg, lambda: jpeg_window(contents, index, name),
                             lambda: whole(contents, index, name))
        image.set_shape([None, None, 3])
        return image, box

    return window_of


def decode_random_resized_crop(height, width, seed=0, rerandomize_each_iteration=True,
                               num_parallel_calls=None, **kwargs):
    """Returns a dataset transformation: encoded bytes -> RandomResizedCrop, decoding only
    the crop of a JPEG (`decode_random_resized_crop_fn`) with a seed per element.

    `ds.apply(decode_random_resized_crop(224, 224, seed=7))`: the seeds and the boxes are
    those of `data.random_resized_crop(224, 224, seed=7)` applied to the decoded images
    (new boxes each epoch with `rerandomize_each_iteration=True`). Prefer it to the map
    function: its map starts fast, where a plain `Dataset.map` of the function runs ~3x
    slower per element (the format branch's decoder graph).

    Args:
        height, width, seed, rerandomize_each_iteration, num_parallel_calls: as in
            `data.random_resized_crop`.
        **kwargs: the other arguments of `decode_random_resized_crop_fn` (`scale`, `ratio`,
            `method`, `antialias`, `dtype`, `image_key`, `name_key`).

    Example:

    >>> ds = tf.data.Dataset.from_tensor_slices(jpeg_bytes).apply(
    ...     decode_random_resized_crop(224, 224, seed=7)).batch(32)
    """
    fn = decode_random_resized_crop_fn(height, width, seed=seed, **kwargs)
    return maps.seeded_apply(fn, seed, rerandomize_each_iteration, num_parallel_calls)


def batched_decode_random_resized_crop(batch_size, height, width, seed=0,
                                       rerandomize_each_iteration=True, drop_remainder=False,
                                       num_parallel_calls=None, scale=(0.08, 1.0),
                                       ratio=(3 / 4, 4 / 3), method="bilinear", antialias=True,
                                       dtype="float32", image_key="image", name_key=None):
    """Returns a dataset transformation: encoded bytes -> batches of RandomResizedCrops,
    decoding only the crop of a JPEG and resizing a whole batch in one call.

    The boxes, the seeds and the decoded windows are those of
    `decode_random_resized_crop(height, width, seed=seed)`; each element is decoded on its
    own, `padded_batch` gathers `batch_size` windows with their boxes, and one
    `resized_crop` call resizes the batch (one call of the library's CPU op instead of
    one per image). Same pixels as `decode_random_resized_crop(...)` followed by
    `.batch(batch_size)`, to float rounding (5e-4 on the 0..255 scale).

    Args:
        batch_size: images per batch.
        height, width, seed, rerandomize_each_iteration: as in
            `decode_random_resized_crop`.
        drop_remainder: as in `Dataset.batch`.
        num_parallel_calls: of both maps; defaults to `tf.data.AUTOTUNE`.
        scale, ratio, method, antialias, dtype, image_key, name_key: as in
            `decode_random_resized_crop_fn`.

    Returns:
        A function for `Dataset.apply`.

    Example:

    >>> ds = tf.data.Dataset.from_tensor_slices((jpeg_bytes, labels)).apply(
    ...     batched_decode_random_resized_crop(32, 224, 224, seed=7)).prefetch(2)
    """
    import tensorflow as tf

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int. Received: {batch_size!r}")
    size, options, scale, ratio = maps.random_crop_settings(height, width, scale, ratio,
                                                            method, antialias, seed, dtype)
    window_of = _crop_windows(size, scale, ratio, seed)
    calls = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls
    form = {}  # the element's kind, seen when the decoding map is traced

    def decode_one(element_seed, *element):
        name = _elements.element_name(element, name_key)
        contents, rest, form["kind"] = _elements.split(element, image_key)
        form["dtypes"] = tf.nest.map_structure(lambda x: x.dtype, rest)
        image, box = window_of(contents, element_seed, name)
        return image, tf.cast(box, tf.int64), rest

    def resize_batch(images, boxes, rest):
        rest = tf.nest.map_structure(lambda x, dtype: tf.cast(x, dtype), rest, form["dtypes"])
        out = _ops.resized_crop(images, boxes, size, method=options.method,
                                antialias=options.antialias, dtype=options.dtype,
                                backend="tensorflow")
        out = tf.ensure_shape(out, [None, size[0], size[1], 3])
        return _elements.join(out, rest, form["kind"], image_key)

    def apply(dataset):
        seeds = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=rerandomize_each_iteration)
        pairs = tf.data.Dataset.zip(seeds, dataset)  # the seeds: a dataset of each build
        return _decode_then_resize(pairs, (
            "batched_decode_random_resized_crop", batch_size, drop_remainder, size, options,
            scale, ratio, seed, calls, image_key, name_key), decode_one, resize_batch,
            batch_size, drop_remainder, calls)

    return apply
