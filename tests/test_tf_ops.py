"""`_tf/ops.py`: the device the op really runs on picks the implementation."""

import numpy as np
import pytest
import tensorflow as tf

from keras_resize_layers import data
from keras_resize_layers import resize
from keras_resize_layers._core import resample as resample_lib
from keras_resize_layers._tf import ops as tf_ops
from keras_resize_layers._tf import cpu_resample as tf_taps
from keras_resize_layers.layers import Resize


@pytest.fixture
def calls(monkeypatch):
    """Counts which implementation each resize takes."""
    seen = []
    for module, name, label in ((resample_lib, "resample", "matmul"),
                                (tf_ops, "resample_with_tf_kernels", "tf"),
                                (tf_taps, "resample_dynamic", "taps_dynamic"),
                                (tf_taps, "resample_taps", "taps_xla")):
        real = getattr(module, name)

        def spy(*args, _real=real, _label=label, **kwargs):
            seen.append(_label)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    return seen


def _pipelines(images):
    """(one image per element, ragged batch) through the tf.data twin, and the layer."""
    single = tf.data.Dataset.from_generator(
        lambda: iter(images), output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
    one = [x.numpy() for x in single.map(data.resize_fn(24, 20, policy="crop"))]
    ragged = tf.data.Dataset.from_tensor_slices(data.to_ragged(images)).ragged_batch(3)
    batched = next(iter(ragged.map(Resize(24, 20, policy="crop")))).numpy()
    return one, batched


def test_tf_data_functions_take_the_cpu_paths_when_a_gpu_exists(monkeypatch, calls, rng):
    images = [rng.integers(0, 256, s + (3,), dtype=np.uint8) for s in
              [(50, 40), (37, 61), (80, 80)]]
    reference = _pipelines(images)
    assert calls and "matmul" not in calls, calls
    del calls[:]
    monkeypatch.setattr(tf_ops, "gpu_available", lambda: True)
    one, batched = _pipelines(images)
    # tf.data runs on the host: TF's kernels per element, the per-image taps per batch.
    assert set(calls) == {"tf", "taps_dynamic"}, calls
    for a, b in zip(one, reference[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(batched, reference[1])
    # Outside tf.data, the same call on the "GPU" machine takes the device path.
    del calls[:]
    fn = tf.function(lambda x: resize(x, (24, 20), policy="crop"),
                     input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])
    out = fn(images[0]).numpy()
    assert calls == ["matmul"], calls
    np.testing.assert_allclose(out, reference[0][0], atol=5e-4)


def test_tf_data_function_detection():
    seen = []

    def probe(x):
        seen.append(tf_ops.in_tf_data_function())
        return x

    list(tf.data.Dataset.range(2).map(probe))
    list(tf.data.Dataset.range(2).interleave(
        lambda x: tf.data.Dataset.from_tensors(x).map(tf.function(probe))))
    tf.function(probe)(tf.constant(1))
    probe(1)
    assert seen == [True, True, False, False]
