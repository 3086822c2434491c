"""Access to a Keras backend's op namespaces without importing TensorFlow.

The core functions take `bk`, an object with the attributes of
a Keras backend module (`numpy`, `cast`, `convert_to_tensor`, `shape`, `name`),
from `_compat.dynamic_backend`. Keras's own data layers use the same object to run
the TensorFlow implementation inside `tf.data` whatever the global backend is.
"""

from keras_resize_layers import _compat


def get(backend=None):
    """Returns a backend namespace: the global one, a named one, or `backend` itself."""
    if backend is None:
        return _compat.dynamic_backend()
    if isinstance(backend, str):
        return _compat.dynamic_backend(backend)
    return backend


def is_tf_tensor(x):
    """True for TensorFlow tensors (incl. ragged) without importing TensorFlow."""
    module = type(x).__module__ or ""
    return module.startswith("tensorflow")


def is_ragged(x):
    return type(x).__name__ == "RaggedTensor" and is_tf_tensor(x)


class _Float32NumPy:
    """NumPy functions with Keras's dtype defaults: float64 results become
    float32 and int64 become int32 (as `keras.ops` gives with the default
    `floatx`), so host-side weights round like the backends' float32 ones."""

    def __getattr__(self, name):
        import numpy as np

        fn = getattr(np, name)

        def call(*args, **kwargs):
            out = np.asarray(fn(*args, **kwargs))
            if out.dtype == np.float64:
                return out.astype(np.float32)
            if out.dtype == np.int64:
                return out.astype(np.int32)
            return out

        return call


def numpy_backend():
    """A backend namespace computing eagerly on the host with NumPy (Keras's
    own NumPy backend cannot be loaded beside another one), for the taps plan."""
    import types

    import numpy as np

    return types.SimpleNamespace(
        numpy=_Float32NumPy(), cast=lambda x, dtype: np.asarray(x).astype(dtype),
        convert_to_tensor=np.asarray, shape=np.shape, name="numpy")
