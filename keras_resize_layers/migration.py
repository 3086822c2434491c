"""Migration helpers: `keras.layers.Resizing` -> `Resize` in an existing model, and the
deprecated `ImageDataGenerator` -> Keras 3 layers."""

import math

import keras
import numpy as np

__all__ = ["replace_resizing", "probe_image", "augmentation_from_image_data_generator"]


def probe_image(height=300, width=451, channels=3):
    """A deterministic float32 test image on the 0..255 scale: smooth shading, hard
    edges and a zone plate whose rings reach the Nyquist limit, so that kernel,
    antialiasing and crop differences all show in its resized pixels."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    shade = 255 * (0.5 + 0.25 * np.sin(x / width * 5.1) * np.cos(y / height * 3.7))
    r2 = (x - width / 2) ** 2 + (y - height / 2) ** 2
    radius = min(height, width) / 3  # the rings' frequency reaches Nyquist at the rim
    zone = 127.5 * (1 + np.cos(np.pi * r2 / (2 * radius)))
    edges = 255.0 * (((x // 17) + (y // 23)) % 2)
    image = np.where(r2 < radius ** 2, zone,
                     np.where(x < width / 4, edges, shade))
    out = np.stack([np.roll(image, 7 * c, axis=1) for c in range(channels)], axis=-1)
    return out.astype(np.float32)


def _channels(layer):
    try:
        shape = tuple(layer.input.shape)
    except (AttributeError, ValueError):
        return 3
    axis = 1 if getattr(layer, "data_format", "channels_last") == "channels_first" else -1
    return shape[axis] or 3


def replace_resizing(model, antialias=None, probe=None):
    """Clones a model with every `keras.layers.Resizing` replaced by `layers.Resize`.

    Works on Functional and Sequential models, nested models included. Every
    other layer is cloned from its config and gets the original's weights;
    the clone is not compiled (compile it as the original was). Each
    replacement is `layers.Resize.from_keras(layer, antialias)`.

    Args:
        model: a Functional or Sequential `keras.Model`.
        antialias: `None` (default) keeps each layer's own `antialias`
            (Keras's default `False`: the pixels stay Keras's to 1e-3);
            `True` switches to antialiased shrinking (this library's default).
        probe: optional `(H, W, C)` image on the model's input scale for the
            report; defaults to `probe_image()` (300x451, shading, edges and a
            zone plate).

    Returns:
        `(clone, report)`: the new model and one dict per replaced layer with
        `layer` (its name), `size`, `method`, `policy`, `antialias` (before ->
        after) and `mean_abs_diff` / `max_abs_diff`, the difference of the two
        layers' outputs on the probe (on the probe's scale, 0..255 by default).

    Example:

    >>> clone, report = replace_resizing(model, antialias=True)
    >>> for row in report: print(row["layer"], row["mean_abs_diff"])
    """
    from keras_resize_layers.layers import Resize

    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: {type(model).__name__}")
    pairs, replaced = [], []

    def clone(layer):
        if isinstance(layer, keras.layers.Resizing):
            new = Resize.from_keras(layer, antialias=antialias)
            replaced.append((layer, new))
            return new
        new = layer.__class__.from_config(layer.get_config())
        pairs.append((layer, new))
        return new

    try:
        cloned = keras.models.clone_model(model, clone_function=clone, recursive=True)
    except ValueError as error:
        raise TypeError(
            "replace_resizing works on Functional and Sequential models (nested ones "
            "included); a subclassed model's call() cannot be rewritten. Build the "
            "replacement with `layers.Resize.from_keras(layer)` by hand. Keras said: "
            f"{error}") from error
    for old, new in pairs:
        if old.weights:
            new.set_weights(old.get_weights())
    report = []
    for old, new in replaced:
        channels = _channels(old)
        image = probe_image(channels=channels) if probe is None else np.asarray(
            probe, np.float32)
        if old.data_format == "channels_first":
            image = np.transpose(image, (2, 0, 1))
        a = keras.ops.convert_to_numpy(old(image[None]))
        b = keras.ops.convert_to_numpy(new(image[None]))
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        report.append(dict(
            layer=old.name, size=(new.height, new.width), method=new.method,
            policy=new.policy, antialias=(bool(old.antialias), new.antialias),
            mean_abs_diff=float(diff.mean()), max_abs_diff=float(diff.max())))
    return cloned, report

SUPPORTED = (
    "rotation_range", "width_shift_range", "height_shift_range", "shear_range",
    "zoom_range", "horizontal_flip", "vertical_flip", "rescale", "brightness_range",
    "fill_mode", "cval", "seed",
)


def _fraction(name, value):
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(
            f"`{name}`={value!r}: only fractions of the image size in [0, 1) are "
            "supported (ImageDataGenerator's pixel counts and value lists depend on "
            "the image size; convert them to a fraction)."
        )
    return value


def augmentation_from_image_data_generator(**kwargs):
    """Returns a `keras.Sequential` reproducing `ImageDataGenerator` augmentation.

    Built from Keras 3 layers (`RandomRotation`, `RandomTranslation`,
    `RandomShear`, `RandomZoom`, `RandomFlip`, `Rescaling`) and this
    library's `RandomBrightnessScale`, in ImageDataGenerator's order
    (geometry, flips, brightness, then `rescale`). Active in training only.
    README lists the unit conversions and what is not reproduced exactly.

    Args:
        rotation_range: degrees; uniform in [-r, r].
        width_shift_range, height_shift_range: fraction of the width/height in
            [0, 1); uniform in [-f, f].
        shear_range: degrees, < 45; sheared along x by tan(angle).
        zoom_range: float `z` for [1 - z, 1 + z] or `(lo, hi)`; independent
            for height and width; > 1 zooms out, as in ImageDataGenerator.
        horizontal_flip, vertical_flip: bool.
        rescale: multiplier applied last (e.g. `1/255`).
        brightness_range: `(lo, hi)` multipliers.
        fill_mode: `"nearest"` (ImageDataGenerator's default), `"constant"`,
            `"reflect"` or `"wrap"`.
        cval: fill value for `fill_mode="constant"`.
        seed: int or None, seeds every random layer.

    Example:

    >>> augment = augmentation_from_image_data_generator(
    ...     rotation_range=20, width_shift_range=0.1, horizontal_flip=True,
    ...     rescale=1 / 255)
    >>> model = keras.Sequential([keras.Input((224, 224, 3)), augment, backbone])
    """
    unknown = sorted(set(kwargs) - set(SUPPORTED))
    if unknown:
        raise TypeError(
            f"Unsupported ImageDataGenerator argument(s): {', '.join(unknown)}. "
            f"Supported: {', '.join(SUPPORTED)}."
        )
    from keras_resize_layers.layers.random_brightness_scale import RandomBrightnessScale

    fill_mode = kwargs.get("fill_mode", "nearest")
    if fill_mode not in ("nearest", "constant", "reflect", "wrap"):
        raise ValueError(f"Unknown `fill_mode`: {fill_mode!r}. Expected one of "
                         "nearest, constant, reflect, wrap.")
    fill = dict(fill_mode=fill_mode, fill_value=float(kwargs.get("cval", 0.0)),
                interpolation="bilinear")
    seed = kwargs.get("seed")
    layers = []
    if kwargs.get("rotation_range"):
        layers.append(keras.layers.RandomRotation(
            float(kwargs["rotation_range"]) / 360.0, seed=seed, **fill))
    h_shift = _fraction("height_shift_range", kwargs.get("height_shift_range", 0.0))
    w_shift = _fraction("width_shift_range", kwargs.get("width_shift_range", 0.0))
    if h_shift or w_shift:
        layers.append(keras.layers.RandomTranslation(h_shift, w_shift, seed=seed, **fill))
    if kwargs.get("shear_range"):
        angle = float(kwargs["shear_range"])
        if not 0.0 < angle < 45.0:
            raise ValueError(f"`shear_range` must be in (0, 45) degrees. Received: {angle}")
        layers.append(keras.layers.RandomShear(
            x_factor=math.tan(math.radians(angle)), y_factor=0.0, seed=seed, **fill))
    zoom = kwargs.get("zoom_range", 0.0)
    if isinstance(zoom, (int, float)):
        zoom = (1.0 - float(zoom), 1.0 + float(zoom))
    lo, hi = (float(z) for z in zoom)
    if not 0.0 < lo <= hi:
        raise ValueError(f"`zoom_range` must give 0 < lo <= hi. Received: {zoom!r}")
    if (lo, hi) != (1.0, 1.0):
        layers.append(keras.layers.RandomZoom(
            height_factor=(lo - 1.0, hi - 1.0), width_factor=(lo - 1.0, hi - 1.0),
            seed=seed, **fill))
    flips = [n for n, key in (("horizontal", "horizontal_flip"),
                              ("vertical", "vertical_flip")) if kwargs.get(key)]
    if flips:
        layers.append(keras.layers.RandomFlip("_and_".join(flips), seed=seed))
    if kwargs.get("brightness_range") is not None:
        layers.append(RandomBrightnessScale(kwargs["brightness_range"], seed=seed))
    if kwargs.get("rescale"):
        layers.append(keras.layers.Rescaling(float(kwargs["rescale"])))
    return keras.Sequential(layers, name="image_data_generator_augmentation")
