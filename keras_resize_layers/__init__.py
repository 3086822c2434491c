"""keras_resize_layers: resizing that gives the same pixels in training and serving.

`import keras_resize_layers.layers` works without TensorFlow (JAX or PyTorch
backends); the TensorFlow-only modules (`data`, `serving`) load on use.
"""

from keras_resize_layers.migration import augmentation_from_image_data_generator
from keras_resize_layers._core.options import METHODS, POLICIES
from keras_resize_layers._core.resizing import resize, resized_crop

__version__ = "0.1.0"

_SUBMODULES = ("layers", "data", "decode", "serving", "distributed", "migration")


def __getattr__(name):
    """`krl.layers`, `krl.data`, ... load on first use (the TensorFlow-only ones
    import TensorFlow then, not at `import keras_resize_layers`)."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["resize", "resized_crop", "augmentation_from_image_data_generator", "METHODS", "POLICIES", "__version__"]
