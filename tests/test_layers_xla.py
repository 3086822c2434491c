"""The layers under the compilers users meet: XLA on TensorFlow (`jit_compile=True` and
`"auto"` on a machine with a GPU), `jax.jit` on JAX, `torch.compile` on PyTorch (Keras's
`jit_compile=True` there). One subprocess per backend, so each runs with its own
`KERAS_BACKEND` and nothing leaks between them."""

import os
import subprocess
import sys

import pytest

COMMON = r"""
import warnings
import numpy as np
import keras
from keras_resize_layers.layers import RandomResizedCrop, RandomResolution, Resize

rng = np.random.default_rng(0)
SIZES = [(40, 50), (60, 30), (33, 33), (70, 80)]
IMAGES = [rng.integers(0, 256, (h, w, 3), dtype="uint8") for h, w in SIZES]
LABELS = np.array([0, 1, 0, 1])


def build(shape, *front):
    inputs = keras.Input(shape, dtype="uint8")
    x = inputs
    for layer in front:
        x = layer(x)
    x = keras.layers.Rescaling(1 / 255)(x)
    x = keras.layers.Conv2D(4, 3)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


def compile_(model, jit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile("adam", "sparse_categorical_crossentropy", jit_compile=jit)
    return [str(w.message) for w in caught if "jit_compile" in str(w.message)]
"""

TF_SCRIPT = COMMON + r"""
import tensorflow as tf
from keras_resize_layers import data

# Keras's "auto" turns XLA on for TensorFlow when a non-CPU device exists: make Keras
# (and only Keras's no-argument query) see one, as on a GPU machine.
_real = tf.config.list_physical_devices
def _with_gpu(device_type=None):
    devices = _real(device_type)
    if device_type is None:
        devices = devices + [tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")]
    return devices
tf.config.list_physical_devices = _with_gpu

ragged = tf.data.Dataset.from_tensor_slices((data.to_ragged(IMAGES), LABELS)).ragged_batch(2)
dense = np.stack([np.resize(i, (48, 48, 3)) for i in IMAGES])

for jit in (True, "auto"):
    # Any-size input: ragged batches may come, so the model runs without XLA.
    model = build((None, None, 3), Resize(32, 32, policy="crop"))
    warned = compile_(model, jit)
    assert model.jit_compile is False, (jit, model.jit_compile)
    assert bool(warned) == (jit is True), warned
    history = model.fit(ragged, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(ragged, verbose=0).shape == (4, 2)
    # Known input size: XLA compiles the whole step, the taps inside it.
    model = build((48, 48, 3), Resize(32, 32, policy="crop"), RandomResizedCrop(24, 24, seed=1))
    assert not compile_(model, jit)
    assert model.jit_compile is True, (jit, model.jit_compile)
    model.fit(dense, LABELS, epochs=2, batch_size=2, verbose=0)
    assert model.predict(dense, verbose=0).shape == (4, 2)
    # RandomResolution changes the batch shape per step: never compiled.
    model = build((48, 48, 3), RandomResolution([(24, 24), (32, 32)], (32, 32), seed=3))
    compile_(model, jit)
    assert model.jit_compile is False
    model.fit(dense, LABELS, epochs=2, batch_size=2, verbose=0)

# The fixed-size model under XLA gives the eager model's outputs.
model = build((48, 48, 3), Resize(32, 32, policy="crop"))
eager = model.predict(dense, verbose=0)
compile_(model, True)
assert model.jit_compile is True
np.testing.assert_allclose(model.predict(dense, verbose=0), eager, atol=1e-5)

# Forcing XLA on a ragged batch gives the library's error, not tf2xla's.
model = build((None, None, 3), Resize(32, 32))
model.layers[1].supports_jit = True
compile_(model, True)
assert model.jit_compile is True
try:
    model.predict(ragged, verbose=0)
except ValueError as error:
    assert "ragged batch cannot be resized inside a function that XLA compiles" in str(error)
else:
    raise AssertionError("ragged input under XLA did not raise")
print("ok")
"""

JAX_SCRIPT = COMMON + r"""
import sys
import jax
assert "tensorflow" not in sys.modules
dense = np.stack([np.resize(i, (48, 48, 3)) for i in IMAGES])
model = build((None, None, 3), Resize(32, 32, policy="crop"), RandomResizedCrop(24, 24, seed=1))
compile_(model, "auto")
assert model.jit_compile is True
model.fit(dense, LABELS, epochs=2, batch_size=2, verbose=0)
eager = build((None, None, 3), Resize(32, 32, policy="crop"))
out = eager.predict(dense, verbose=0)
compile_(eager, True)
np.testing.assert_allclose(eager.predict(dense, verbose=0), out, atol=1e-5)
layer = Resize(20, 24, policy="pad")
np.testing.assert_allclose(jax.jit(layer)(dense), layer(dense), atol=1e-4)
model = build((48, 48, 3), RandomResolution([(24, 24), (32, 32)], (32, 32), seed=3))
compile_(model, "auto")
assert model.jit_compile is False  # shape changes per batch: Keras runs it eagerly
model.fit(dense, LABELS, epochs=2, batch_size=2, verbose=0)
assert "tensorflow" not in sys.modules
print("ok")
"""

TORCH_SCRIPT = COMMON + r"""
import sys
dense = np.stack([np.resize(i, (48, 48, 3)) for i in IMAGES])
model = build((48, 48, 3), Resize(32, 32, policy="crop"), RandomResizedCrop(24, 24, seed=1))
eager = model.predict(dense, verbose=0, batch_size=4)
compile_(model, True)
assert model.jit_compile is True  # Keras runs its steps through torch.compile
np.testing.assert_allclose(model.predict(dense, verbose=0, batch_size=4), eager, atol=1e-5)
model.fit(dense, LABELS, epochs=1, batch_size=4, verbose=0)
assert "tensorflow" not in sys.modules
print("ok")
"""


def _run(script, backend, tmp_path, block_tensorflow=False):
    env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu",
               TF_CPP_MIN_LOG_LEVEL="3")
    if block_tensorflow:  # a `tensorflow` that fails to import, first on the path
        (tmp_path / "tensorflow").mkdir()
        (tmp_path / "tensorflow" / "__init__.py").write_text(
            "raise ImportError('tensorflow is blocked in this test')\n")
        env["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=600, env=env)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), (
        result.stdout[-2000:] + result.stderr[-4000:])


def test_tensorflow_backend_jit_compile_true_and_auto_with_a_gpu(tmp_path):
    _run(TF_SCRIPT, "tensorflow", tmp_path)


def test_jax_backend_under_jax_jit_without_tensorflow(tmp_path):
    pytest.importorskip("jax")
    _run(JAX_SCRIPT, "jax", tmp_path, block_tensorflow=True)


def test_torch_backend_under_torch_compile_without_tensorflow(tmp_path):
    pytest.importorskip("torch")  # installed in .ci/run's second environment
    _run(TORCH_SCRIPT, "torch", tmp_path, block_tensorflow=True)
