"""TensorFlow-only internals: ragged batches, run-time checks, device choice, TF
kernels and the taps as XLA programs."""

import tensorflow  # noqa: E402,F401  (every module here needs it)

from keras_resize_layers import _compat  # noqa: E402

_compat.call_library_code_as_written()
