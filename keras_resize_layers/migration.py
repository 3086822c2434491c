"""Migration from the deprecated `ImageDataGenerator` to Keras 3 layers."""

import math

import keras

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
