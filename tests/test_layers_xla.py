"""The layers under the compilers users meet: XLA on TensorFlow (`jit_compile=True` and
`"auto"` on a machine with a GPU), `jax.jit` on JAX, `torch.compile` on PyTorch (Keras's
`jit_compile=True` there). Plain tests: `.ci/run` runs this module once per Keras backend
(`KERAS_BACKEND=tensorflow`, `jax`, `torch`); each test runs under its own backend."""

import warnings

import keras
import numpy as np
import pytest

from keras_resize_layers.layers import RandomResizedCrop, RandomResolution, Resize

SIZES = [(40, 50), (60, 30), (33, 33), (70, 80)]
LABELS = np.array([0, 1, 0, 1])


@pytest.fixture(scope="session")  # session: tests run longest first, modules interleave
def images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (h, w, 3), dtype="uint8") for h, w in SIZES]


@pytest.fixture(scope="session")  # session: tests run longest first, modules interleave
def dense(images):
    return np.stack([np.resize(i, (48, 48, 3)) for i in images])


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
    """Compiles; returns Keras's warnings about `jit_compile`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile("adam", "sparse_categorical_crossentropy", jit_compile=jit)
    return [str(w.message) for w in caught if "jit_compile" in str(w.message)]


@pytest.fixture
def a_gpu_for_keras(monkeypatch):
    """Keras's "auto" turns XLA on for TensorFlow when a non-CPU device exists: make
    Keras (and only Keras's no-argument query) see one, as on a GPU machine."""
    import tensorflow as tf

    real = tf.config.list_physical_devices

    def with_gpu(device_type=None):
        devices = real(device_type)
        if device_type is None:
            devices = devices + [tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")]
        return devices

    monkeypatch.setattr(tf.config, "list_physical_devices", with_gpu)


@pytest.mark.slow(8)
@pytest.mark.tensorflow_only
@pytest.mark.parametrize("jit", [True, "auto"])
def test_tensorflow_jit_compile_with_a_gpu(jit, images, dense, a_gpu_for_keras):
    import tensorflow as tf

    from keras_resize_layers import data

    ragged = tf.data.Dataset.from_tensor_slices((data.to_ragged(images), LABELS)).ragged_batch(2)
    # Any-size input: ragged batches may come, so the model runs without XLA.
    model = build((None, None, 3), Resize(32, 32, policy="crop"))
    warned = compile_(model, jit)
    assert model.jit_compile is False
    assert bool(warned) == (jit is True), warned
    history = model.fit(ragged, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(ragged, verbose=0).shape == (4, 2)
    # Known input size: XLA compiles the whole step, the taps inside it.
    model = build((48, 48, 3), Resize(32, 32, policy="crop"), RandomResizedCrop(24, 24, seed=1))
    assert not compile_(model, jit)
    assert model.jit_compile is True
    model.fit(dense, LABELS, epochs=2, batch_size=2, verbose=0)
    assert model.predict(dense, verbose=0).shape == (4, 2)
    # RandomResolution changes the batch shape per step: never compiled.
    model = build((48, 48, 3), RandomResolution([(24, 24), (32, 32)], (32, 32), seed=3))
    compile_(model, jit)
    assert model.jit_compile is False
    model.fit(dense, LABELS, epochs=2, batch_size=2, verbose=0)


@pytest.mark.tensorflow_only
def test_a_ragged_batch_forced_under_xla_gets_the_librarys_error(images):
    import tensorflow as tf

    from keras_resize_layers import data

    ragged = tf.data.Dataset.from_tensor_slices((data.to_ragged(images), LABELS)).ragged_batch(2)
    model = build((None, None, 3), Resize(32, 32))
    model.layers[1].supports_jit = True
    compile_(model, True)
    assert model.jit_compile is True
    with pytest.raises(ValueError, match="ragged batch cannot be resized inside a function "
                       "that XLA compiles"):
        model.predict(ragged, verbose=0)


def test_the_compiled_model_gives_the_eager_models_outputs(dense, monkeypatch):
    """XLA on TensorFlow, jax.jit on JAX, torch.compile on PyTorch. On PyTorch the graph
    Dynamo captures from the layers runs through AOTAutograd without Inductor's C++ code
    generation (`aot_eager`): the tracing is what meets our code, and Inductor compiling 28
    C++ kernels took 56 s of the CI machine's two cores from a cold cache (BUILD_NOTES)."""
    if keras.backend.backend() == "torch":
        import functools

        import torch

        monkeypatch.setattr(torch, "compile", functools.partial(torch.compile,
                                                                backend="aot_eager"))
    model = build((48, 48, 3), Resize(32, 32, policy="crop"), RandomResizedCrop(24, 24, seed=1))
    eager = model.predict(dense, verbose=0, batch_size=4)
    compile_(model, True)
    assert model.jit_compile is True
    np.testing.assert_allclose(model.predict(dense, verbose=0, batch_size=4), eager, atol=1e-5)
    model.fit(dense, LABELS, epochs=1, batch_size=4, verbose=0)


@pytest.mark.backends("jax")
def test_jax_auto_compiles_any_size_models_and_jit_of_a_layer(dense):
    import jax

    model = build((None, None, 3), Resize(32, 32, policy="crop"), RandomResizedCrop(24, 24, seed=1))
    compile_(model, "auto")
    assert model.jit_compile is True
    model.fit(dense, LABELS, epochs=2, batch_size=2, verbose=0)
    layer = Resize(20, 24, policy="pad")
    np.testing.assert_allclose(jax.jit(layer)(dense), layer(dense), atol=1e-4)
    model = build((48, 48, 3), RandomResolution([(24, 24), (32, 32)], (32, 32), seed=3))
    compile_(model, "auto")
    assert model.jit_compile is False  # shape changes per batch: Keras runs it eagerly
    model.fit(dense, LABELS, epochs=2, batch_size=2, verbose=0)
