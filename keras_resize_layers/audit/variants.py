"""The audit's variants: complete serving pipelines from the original image to the model's
input (this library, Pillow, OpenCV, tf.image, Keras, resolution sweeps, JPEG and DCT)."""

import io

import numpy as np

CROP = 0.875
DEFAULT_REFERENCE = "krl:bilinear+aa"
SWEEP = (0.75, 0.875, 1.143, 1.286)


class Variant:
    """A serving pipeline: `fn(images, size)` maps a list of uint8 `(H, W, 3)` images to
    float32 model inputs `(N, h, w, 3)` on the 0..255 scale. `size` is the model's input
    size; `output_size` (default `size`) the size the variant produces."""

    def __init__(self, name, family, fn, output_size=None, note=""):
        self.name, self.family, self.fn = name, family, fn
        self.output_size, self.note = output_size, note

    def __repr__(self):
        return f"Variant({self.name!r})"


def needs_extra(module, extra="bench"):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"this variant needs {module}: pip install "
                          f'"keras_resize_layers[{extra}]"') from error


def _crop_boxes(images, size, fraction=CROP):
    """The library's centre-crop boxes `[y, x, h, w]` per image (the same integers as
    `resize(policy="crop")`), so other libraries' variants crop exactly as ours."""
    from keras_resize_layers._core import backend as backend_lib
    from keras_resize_layers._core import geometry

    bk = backend_lib.numpy_backend()
    heights = np.array([i.shape[0] for i in images], np.int32)
    widths = np.array([i.shape[1] for i in images], np.int32)
    g = geometry.for_policy(bk, "crop", heights, widths, size, fraction)
    n = len(images)
    return [[int(np.broadcast_to(g[k], (n,))[i]) for k in ("box_y", "box_x", "box_h", "box_w")]
            for i in range(n)]


def _cropped(images, size, fraction=CROP):
    return [image[y:y + h, x:x + w] for image, (y, x, h, w) in
            zip(images, _crop_boxes(images, size, fraction))]


def _padded(images):
    """Images of any size -> (zero-padded uint8 batch, `image_sizes`)."""
    height = max(i.shape[0] for i in images)
    width = max(i.shape[1] for i in images)
    batch = np.zeros((len(images), height, width, 3), np.uint8)
    for k, image in enumerate(images):
        batch[k, :image.shape[0], :image.shape[1]] = image
    return batch, np.array([i.shape[:2] for i in images], np.int32)


def _library(method, antialias, policy="crop", fraction=CROP):
    """This library's `resize` on padded batches with `image_sizes`: any Keras backend,
    the same pixels as a ragged batch."""
    def fn(images, size):
        from keras import ops

        from keras_resize_layers._ops import resize

        out = []
        for start in range(0, len(images), 32):
            batch, sizes = _padded(images[start:start + 32])
            out.append(ops.convert_to_numpy(resize(
                batch, size, method=method, antialias=antialias, policy=policy,
                crop_fraction=fraction, image_sizes=sizes)))
        return np.concatenate(out)

    return fn


def _pillow(filter_name):
    def fn(images, size):
        image_module = needs_extra("PIL.Image")
        resample = getattr(image_module.Resampling, filter_name)
        return np.stack([np.asarray(image_module.fromarray(c).resize(
            (size[1], size[0]), resample), np.float32) for c in _cropped(images, size)])

    return fn


def _opencv(flag):
    def fn(images, size):
        cv2 = needs_extra("cv2")
        return np.stack([cv2.resize(c, (size[1], size[0]), interpolation=getattr(cv2, flag))
                         .astype(np.float32) for c in _cropped(images, size)])

    return fn


def _tf_image(method, antialias, crop=True):
    def fn(images, size):
        import tensorflow as tf

        parts = _cropped(images, size) if crop else images
        return np.stack([tf.image.resize(p, size, method=method, antialias=antialias).numpy()
                         for p in parts]).astype(np.float32)

    return fn


def _keras_resizing(images, size):
    import keras

    layer = keras.layers.Resizing(*size)  # Keras's defaults: bilinear, no antialias, stretch
    return np.stack([keras.ops.convert_to_numpy(layer(i[None].astype(np.float32)))[0]
                     for i in images])


def _keras_load_img(images, size):
    import keras

    image_module = needs_extra("PIL.Image")
    out = []
    for image in images:
        buffer = io.BytesIO()
        image_module.fromarray(image).save(buffer, "PNG")
        buffer.seek(0)
        out.append(keras.utils.img_to_array(keras.utils.load_img(buffer, target_size=size)))
    return np.stack(out).astype(np.float32)


def _jpeg_bytes(image, quality):
    image_module = needs_extra("PIL.Image")
    buffer = io.BytesIO()
    image_module.fromarray(image).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _reencoded(decode, quality, reference):
    """A pipeline that JPEG-encodes each image at `quality`, decodes it with `decode`, then
    resizes with `reference`."""
    def fn(images, size):
        return reference([decode(_jpeg_bytes(image, quality)) for image in images], size)

    return fn


def _jpeg(quality, reference):
    def decode(contents):
        image_module = needs_extra("PIL.Image")
        return np.asarray(image_module.open(io.BytesIO(contents)).convert("RGB"))

    return _reencoded(decode, quality, reference)


def _dct(ratio, reference):
    def decode(contents):
        import tensorflow as tf

        return tf.io.decode_jpeg(contents, channels=3, ratio=ratio).numpy()

    return _reencoded(decode, 95, reference)


def library_variants(methods=("bilinear", "bicubic", "lanczos3", "area", "nearest")):
    """This library's methods x antialias (centre crop 0.875) and its policies."""
    variants = []
    for method in methods:
        for aa in ((True, False) if method not in ("area", "nearest") else (True,)):
            name = f"krl:{method}+aa" if aa and method not in ("area", "nearest") \
                else f"krl:{method}"
            variants.append(Variant(name, "this library (crop 0.875)", _library(method, aa)))
    variants += [
        Variant("krl:bilinear+aa stretch", "this library, policy",
                _library("bilinear", True, "stretch")),
        Variant("krl:bilinear+aa pad", "this library, policy", _library("bilinear", True, "pad")),
        Variant("krl:bilinear+aa crop1.0", "this library, policy",
                _library("bilinear", True, "crop", 1.0)),
    ]
    return variants


def default_variants(size, sweep=True, reference=DEFAULT_REFERENCE, names=None):
    """Every variant of the audit for a model of input `size` (see the module docstring).
    `sweep=False` leaves out the test-resolution sweep (a model of fixed input size);
    `names` keeps only those pipelines and the reference (an unknown name is a
    `ValueError` listing the known ones)."""
    variants = library_variants()
    by_name = {v.name: v for v in variants}
    ref_fn = by_name[reference].fn if reference in by_name else _library("bilinear", True)
    variants += [Variant(f"pillow:{f}", "Pillow (crop 0.875)", _pillow(f))
                 for f in ("NEAREST", "BILINEAR", "BICUBIC", "LANCZOS", "BOX")]
    variants += [Variant(f"opencv:{f}", "OpenCV (crop 0.875)", _opencv(f))
                 for f in ("INTER_NEAREST", "INTER_LINEAR", "INTER_CUBIC", "INTER_AREA",
                           "INTER_LANCZOS4")]
    variants += [
        Variant("tf.image.resize:bilinear+aa", "tf.image (crop 0.875)",
                _tf_image("bilinear", True)),
        Variant("tf.image.resize:bilinear", "tf.image (crop 0.875)",
                _tf_image("bilinear", False)),
        Variant("keras:Resizing()", "Keras defaults", _keras_resizing,
                note="bilinear, no antialias, stretch"),
        Variant("keras:load_img(target_size)", "Keras defaults", _keras_load_img,
                note="Pillow NEAREST, stretch"),
        Variant("keras:image_dataset_from_directory()", "Keras defaults",
                _tf_image("bilinear", False, crop=False),
                note="tf.image.resize bilinear, no antialias, stretch (what it calls)"),
        Variant("jpeg:q90", "re-encoding", _jpeg(90, ref_fn)),
        Variant("jpeg:q75", "re-encoding", _jpeg(75, ref_fn)),
        Variant("dct:1/2", "DCT-domain decoding", _dct(2, ref_fn),
                note="forced, even below the crop size (the library only uses it above)"),
        Variant("dct:1/4", "DCT-domain decoding", _dct(4, ref_fn),
                note="forced, even below the crop size (the library only uses it above)"),
    ]
    if sweep:
        sizes = []
        for factor in SWEEP:
            s = (max(8, int(round(size[0] * factor / 8)) * 8),
                 max(8, int(round(size[1] * factor / 8)) * 8))
            if s == tuple(size) or s in sizes:
                continue
            sizes.append(s)
            variants.append(Variant(f"size:{s[0]}x{s[1]}", "test resolution (FixRes)",
                                    lambda images, _, s=s: ref_fn(images, s), output_size=s))
    if names is None:
        return variants
    unknown = set(names) - {v.name for v in variants}
    if unknown:
        raise ValueError(f"Unknown audit variants {sorted(unknown)}; known: "
                         f"{', '.join(v.name for v in variants)}")
    return [v for v in variants if v.name in set(names) | {reference}]
