"""Access to a Keras backend's op namespaces without importing TensorFlow.

The core functions take `bk`, an object with the attributes of
`keras.src.backend.<name>` (`numpy`, `cast`, `convert_to_tensor`, `shape`,
`name`). Keras's own data layers use the same object (`DynamicBackend`) to run
the TensorFlow implementation inside `tf.data` whatever the global backend is.
"""

from keras.src.utils.backend_utils import DynamicBackend


def get(backend=None):
    """Returns a backend namespace: the global one, a named one, or `backend` itself."""
    if backend is None:
        return DynamicBackend()
    if isinstance(backend, str):
        return DynamicBackend(backend)
    return backend


def is_tf_tensor(x):
    """True for TensorFlow tensors (incl. ragged) without importing TensorFlow."""
    module = type(x).__module__ or ""
    return module.startswith("tensorflow")


def is_ragged(x):
    return type(x).__name__ == "RaggedTensor" and is_tf_tensor(x)
