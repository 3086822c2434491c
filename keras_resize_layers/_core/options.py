"""Validation of the user-facing options shared by every resize path.

Pure Python: no TensorFlow, no backend. Every public entry point (function,
layer, tf.data map function) validates through these helpers so that a bad
argument gives the same message wherever it is passed.
"""

import dataclasses

METHODS = (
    "nearest",
    "bilinear",
    "bicubic",
    "area",
    "lanczos3",
    "lanczos5",
    "gaussian",
    "mitchellcubic",
)
POLICIES = ("stretch", "crop", "pad")
IMAGE_DTYPES = (
    "uint8",
    "uint16",
    "int32",
    "float16",
    "bfloat16",
    "float32",
    "float64",
)
MAX_SIDE = 2**31 - 1
INTEGER_RANGES = {"uint8": (0, 255), "uint16": (0, 65535), "int32": (-(2**31), 2**31 - 1)}


def check_size(height, width):
    """Returns `(height, width)` as Python ints or raises ValueError."""
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) and not (
            hasattr(value, "__index__")
        ):
            raise TypeError(
                f"`{name}` must be a positive integer. Received: {name}={value!r}"
            )
        if int(value) <= 0:
            raise ValueError(
                f"`{name}` must be a positive integer. Received: {name}={value!r}"
            )
        if int(value) > MAX_SIDE:
            raise ValueError(
                f"`{name}` must be at most {MAX_SIDE} (sizes are int32). "
                f"Received: {name}={value!r}"
            )
    return int(height), int(width)


def check_size_pair(size):
    """`size` as `(height, width)` Python ints, with messages naming `size`."""
    if size is None or isinstance(size, (int, str, bytes)) or not hasattr(size, "__len__") \
            or len(size) != 2:
        raise ValueError(
            f"`size` must be a (height, width) pair of positive integers. Received: size={size!r}"
        )
    try:
        return check_size(size[0], size[1])
    except (TypeError, ValueError) as e:
        raise type(e)(f"Invalid `size`={size!r}: {e}") from None


def check_method(method):
    if method not in METHODS:
        raise ValueError(
            f"Unknown `method`: {method!r}. Expected one of {', '.join(METHODS)}."
        )
    return method


def check_policy(policy):
    if policy not in POLICIES:
        raise ValueError(
            f"Unknown `policy`: {policy!r}. Expected one of {', '.join(POLICIES)}."
        )
    return policy


def check_crop_fraction(crop_fraction):
    try:
        value = float(crop_fraction)
    except (TypeError, ValueError):
        raise TypeError(
            "`crop_fraction` must be a number in (0, 1]. "
            f"Received: crop_fraction={crop_fraction!r}"
        ) from None
    if not 0.0 < value <= 1.0:
        raise ValueError(
            "`crop_fraction` must be in (0, 1]. "
            f"Received: crop_fraction={crop_fraction!r}"
        )
    return value


def check_dtype(dtype, argument="dtype"):
    """Normalizes a dtype-like value to its name; raises TypeError if unsupported."""
    name = getattr(dtype, "name", None) or str(dtype)
    if hasattr(dtype, "as_numpy_dtype") or hasattr(dtype, "is_floating"):
        name = dtype.name
    name = {"float": "float32", "double": "float64", "half": "float16"}.get(name, name)
    if name not in IMAGE_DTYPES:
        raise TypeError(
            f"Unsupported {argument}: {name}. Images must have one of the dtypes "
            f"{', '.join(IMAGE_DTYPES)}."
        )
    return name


DATA_FORMATS = ("channels_last", "channels_first")


def check_data_format(data_format):
    """`data_format`, defaulting to `keras.config.image_data_format()`."""
    if data_format is None:
        import keras

        data_format = keras.config.image_data_format()
    if data_format not in DATA_FORMATS:
        raise ValueError(
            f"Unknown `data_format`: {data_format!r}. Expected one of "
            f"{', '.join(DATA_FORMATS)} (or None for keras.config.image_data_format())."
        )
    return data_format


def check_fill_value(fill_value):
    import math

    try:
        value = float(fill_value)
    except (TypeError, ValueError):
        raise TypeError(
            f"`fill_value` must be a number. Received: fill_value={fill_value!r}"
        ) from None
    if not math.isfinite(value):
        raise ValueError(
            f"`fill_value` must be finite (NaN or infinity would spread through the "
            f"resampling sums). Received: fill_value={fill_value!r}"
        )
    return value


PAD_POSITIONS = ("center", "top_left")


def check_pad_position(pad_position):
    if pad_position not in PAD_POSITIONS:
        raise ValueError(f"Unknown `pad_position`: {pad_position!r}. Expected 'center' or "
                         "'top_left'.")
    return pad_position


def check_antialias(antialias):
    if not isinstance(antialias, bool):
        raise TypeError(
            f"`antialias` must be True or False. Received: antialias={antialias!r}"
        )
    return antialias


@dataclasses.dataclass(frozen=True)
class ResizeOptions:
    """How to resize (everything but the output size), validated once.

    Built from keywords by every entry point (`resize`, the layers, the
    tf.data functions, the decode helpers, serving), or passed to them as
    `options=` so that one value describes a pipeline's resize everywhere.
    Frozen: `dataclasses.replace(options, method="bicubic")` makes a changed
    copy (validated again).

    Args:
        method: resampling kernel, one of `METHODS`. Defaults to `"bilinear"`.
        antialias: widen the kernel when shrinking. Defaults to `True`.
        policy: `"stretch"`, `"crop"` or `"pad"`. Defaults to `"stretch"`.
        crop_fraction: in (0, 1]; the share of the aspect-ratio box that
            `policy="crop"` keeps. Defaults to 1.0.
        fill_value: padding value of `policy="pad"`. Defaults to 0.
        dtype: output dtype, or `None` (default) for the entry point's own:
            float32 for functions, the compute dtype for layers.
        pad_position: `"center"` (default) or `"top_left"` for `policy="pad"`.

    Example:

    >>> options = ResizeOptions(method="bicubic", policy="crop", crop_fraction=0.875)
    >>> options.policy
    'crop'
    """

    method: str = "bilinear"
    antialias: bool = True
    policy: str = "stretch"
    crop_fraction: float = 1.0
    fill_value: float = 0.0
    dtype: str | None = None
    pad_position: str = "center"

    def __post_init__(self):
        checked = dict(
            method=check_method(self.method), antialias=check_antialias(self.antialias),
            policy=check_policy(self.policy),
            crop_fraction=check_crop_fraction(self.crop_fraction),
            fill_value=check_fill_value(self.fill_value),
            dtype=None if self.dtype is None else check_dtype(self.dtype),
            pad_position=check_pad_position(self.pad_position))
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def output_dtype(self, default="float32"):
        """`dtype`, or `default` where it is None."""
        return self.dtype or check_dtype(default)

    def with_dtype(self, default):
        """These options with `dtype` set (to `default` where it is None)."""
        if self.dtype is not None:
            return self
        return dataclasses.replace(self, dtype=check_dtype(default))


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(ResizeOptions)}


def resolve(options=None, **keywords):
    """The `ResizeOptions` of an entry point: `options` when given, else built from the
    keyword arguments (the friendly form). A keyword set away from its default beside
    `options` raises ValueError: the two would disagree."""
    if options is None:
        return ResizeOptions(**keywords)
    if not isinstance(options, ResizeOptions):
        raise TypeError("`options` must be a keras_resize_layers.ResizeOptions. Received: "
                        f"{type(options).__name__}")
    clash = {k: v for k, v in keywords.items() if v != _DEFAULTS[k]}
    if clash:
        given = ", ".join(f"{k}={v!r}" for k, v in clash.items())
        raise ValueError(f"Pass either `options` or the keyword arguments it holds, not "
                         f"both. Received: options={options!r} and {given}")
    return options
