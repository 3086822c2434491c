"""keras_resize_layers: resizing that gives the same pixels in training and serving.

Public: `resize`, `resized_crop`, `ResizeOptions`, `replace_resizing`,
`augmentation_from_image_data_generator` here; the modules `layers` (Keras
layers, no TensorFlow needed), `data` (tf.data functions, decoding pipelines,
directory loader), `decode`, `serving` (SavedModel export), `distributed`
(tf.data service), `migration` and `audit` (resize sensitivity of a trained model), which
load on first use
(`krl.layers.Resize` works after `import keras_resize_layers as krl`).
Internal, in floors that import only downwards: `_ops` (the resize operations
the public modules call), `_dispatch` (picks the implementation), `_tf`
(TensorFlow internals), `_core` (backend-agnostic math) and `_compat` (private
Keras/TensorFlow APIs).
"""

import sys as _sys

from keras_resize_layers._core.options import METHODS, POLICIES, ResizeOptions
from keras_resize_layers._ops import resize, resized_crop
from keras_resize_layers.migration import (augmentation_from_image_data_generator,
                                           replace_resizing)

__version__ = "0.1.0"

if _sys.modules.get("tensorflow") is not None:  # no import here: the layers run without it
    from keras_resize_layers import _compat

    _compat.call_library_code_as_written()

_SUBMODULES = ("layers", "data", "decode", "serving", "distributed", "migration", "audit")


def __getattr__(name):
    """`krl.layers`, `krl.data`, ... load on first use (the TensorFlow-only ones
    import TensorFlow then, not at `import keras_resize_layers`)."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))


__all__ = ["resize", "resized_crop", "ResizeOptions", "replace_resizing",
           "augmentation_from_image_data_generator", "METHODS", "POLICIES", "__version__",
           *_SUBMODULES]
