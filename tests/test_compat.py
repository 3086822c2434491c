"""`_compat`: each private Keras/TensorFlow name and its fallback, the fallbacks run for real."""

import json
import os
import subprocess
import sys
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import encode
from keras_resize_layers import _compat, data, resize
from keras_resize_layers.layers import RandomResizedCrop, Resize


def test_this_keras_provides_the_private_names():
    names = _compat.keras_private_names()
    assert names.DynamicBackend and names.DataLayer and names.GraphOrParentsInXlaContext
    assert names.in_save_context and names.fast_start_map and names.autograph_rules


def test_autograph_calls_the_library_as_written():
    """AutoGraph converts a user's function but calls the library's functions as written
    (TensorFlow's own rule list, which holds TensorFlow and Keras): the user's Python
    `if` on a tensor still becomes a `tf.cond`, the library's graph code is not rewritten."""
    from tensorflow.python.autograph.impl import conversion

    for fn in (resize, data.resize_fn(8, 8), data.decode_and_resize_fn(8, 8),
               data.random_resized_crop_fn(8, 8, seed=1)):
        assert conversion.is_allowlisted(fn), fn
    assert not conversion.is_allowlisted(test_autograph_calls_the_library_as_written)

    @tf.function
    def user(x, flip):
        if flip:  # a tensor: AutoGraph makes this a tf.cond
            x = x[:, ::-1]
        return resize(x, (4, 6))

    x = tf.constant(np.arange(2 * 8 * 12 * 3, dtype=np.float32).reshape(2, 8, 12, 3))
    np.testing.assert_allclose(user(x, tf.constant(True)).numpy(),
                               resize(x[:, ::-1], (4, 6)).numpy(), atol=1e-4)


def test_ops_backend_fallback_gives_the_same_pixels(photos):
    image = photos["chelsea"]
    for policy in ("stretch", "crop", "pad"):
        expected = resize(image, (64, 80), policy=policy)
        got = resize(image, (64, 80), policy=policy, backend=_compat.OpsBackend())
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))


def test_xla_context_fallback_agrees_with_tensorflow():
    seen = []

    def probe(x):
        graph = tf.compat.v1.get_default_graph()
        seen.append((_compat.in_xla_context(), _compat._xla_context_by_attributes(graph)))
        return x + 1

    tf.function(probe, jit_compile=True)(tf.constant(1))
    tf.function(probe)(tf.constant(1))
    tf.function(lambda x: tf.function(probe)(x), jit_compile=True)(tf.constant(1))
    assert seen == [(True, True), (False, False), (True, True)]


def test_seed_generator_and_input_dtype_fallbacks():
    generator = keras.random.SeedGenerator(3)
    assert _compat.seed_generator(types.SimpleNamespace(generator=generator), "jax") is generator
    seen = []

    class Spy(Resize):
        def call(self, inputs):
            seen.append(inputs.dtype)
            return super().call(inputs)

    inputs = keras.Input((None, None, 3), dtype="uint8")
    model = keras.Model(inputs, Spy(8, 8)(inputs))
    model.predict(np.zeros((1, 20, 30, 3), np.uint8), verbose=0)
    assert seen and all(d == tf.uint8 for d in seen)  # no float32 copy before the resize


FALLBACK_SCRIPT = r"""
import importlib, json, sys
import numpy as np
BLOCKED = {"keras.src.utils.backend_utils", "keras.src.layers.preprocessing.data_layer",
           "keras.src.layers.preprocessing.tf_data_layer", "tensorflow.python.ops.control_flow_util",
           "tensorflow.python.autograph.core"}
real = importlib.import_module
importlib.import_module = lambda name, *a, **k: (
    (_ for _ in ()).throw(ImportError(name)) if name in BLOCKED else real(name, *a, **k))
from keras_resize_layers import _compat
importlib.import_module = real
assert _compat.DataLayer is _compat.FallbackDataLayer and _compat._DYNAMIC_BACKEND is None
assert _compat.call_library_code_as_written() is False  # AutoGraph converts the library
import keras, tensorflow as tf
from keras_resize_layers import data
from keras_resize_layers.layers import RandomResizedCrop, Resize
assert isinstance(Resize(8, 8), _compat.FallbackDataLayer)
images = [np.asarray(x) for x in json.loads(sys.argv[1])]
images = [x.astype("uint8") for x in images]
ragged = data.to_ragged(images)
inputs = keras.Input((None, None, 3), dtype="uint8")
model = keras.Model(inputs, Resize(12, 10, policy="crop")(inputs))
in_model = model.predict(tf.data.Dataset.from_tensors(ragged), verbose=0)
in_tf_data = next(iter(tf.data.Dataset.from_tensors(ragged).map(Resize(12, 10, policy="crop"))))
crops = RandomResizedCrop(12, 10, seed=5)(np.stack([images[0]] * 2), training=True)
print(json.dumps([np.asarray(in_model).tolist(), np.asarray(in_tf_data).tolist(),
                  np.asarray(crops).tolist()]))
"""


@pytest.mark.slow(9)
def test_the_layers_run_on_the_fallbacks(rng):
    images = [rng.integers(0, 256, s + (3,), dtype=np.uint8) for s in [(30, 40), (45, 20)]]
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", FALLBACK_SCRIPT, json.dumps([i.tolist() for i in images])],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    in_model, in_tf_data, crops = (np.array(x) for x in
                                   json.loads(result.stdout.strip().splitlines()[-1]))
    expected = Resize(12, 10, policy="crop")(data.to_ragged(images)).numpy()
    np.testing.assert_allclose(in_model, expected, atol=1e-4)
    np.testing.assert_allclose(in_tf_data, expected, atol=1e-4)
    reference = RandomResizedCrop(12, 10, seed=5)(np.stack([images[0]] * 2), training=True)
    np.testing.assert_allclose(crops, np.asarray(reference), atol=1e-4)


# ---- fast_start_map ------------------------------------------------------------------

def _numpy(element):
    return tf.nest.map_structure(
        lambda t: t.to_list() if isinstance(t, tf.RaggedTensor) else np.asarray(t).tolist(),
        element)


def _map_functions_attrs(dataset):
    """The attributes of the functions in a dataset's serialised graph."""
    graph = tf.compat.v1.GraphDef.FromString(
        tf.raw_ops.DatasetToGraphV2(input_dataset=dataset._variant_tensor).numpy())
    return [dict(f.attr) for f in graph.library.function]


OUTPUT_FORMS = {
    "dict": lambda i, s: {"twice": i * 2, "shape": tf.shape(tf.zeros([i, 3])), "s": s,
                          "wide": tf.cast(i, tf.int64),
                          "ragged": tf.RaggedTensor.from_row_lengths(tf.range(i), [i])},
    "tuple": lambda i, s: (i + 1, tf.strings.join([s, "!"])),
    "one int32": lambda i, s: i * 3,
    "no int32": lambda i, s: (tf.cast(i, tf.float32), s),
}


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "fallback"])
@pytest.mark.parametrize("form", OUTPUT_FORMS)
def test_fast_start_map_gives_what_dataset_map_gives(monkeypatch, fast, form):
    if not fast:
        monkeypatch.setattr(_compat, "_one_device_map_class", lambda: None)
    ds = tf.data.Dataset.from_tensor_slices((tf.range(7), tf.strings.as_string(tf.range(7))))
    fn = OUTPUT_FORMS[form]
    expected = ds.map(fn)
    got = _compat.fast_start_map(ds, fn, 2)
    assert got.element_spec == expected.element_spec  # int32 stays int32
    assert [_numpy(e) for e in got] == [_numpy(e) for e in expected]
    marked = [a for a in _map_functions_attrs(got) if "experimental_ints_on_device" in a]
    assert bool(marked) == fast


def test_fast_start_map_survives_tf_data_default_rewrites():
    """Autotune on (the default) runs `inject_prefetch` over the functions too:
    it refuses a multi-output function with int32 device return values, so
    int32 results leave the marked function as int64 (a regression test)."""
    ds = tf.data.Dataset.range(5).map(lambda i: tf.cast(i, tf.int32))
    got = _compat.fast_start_map(ds, lambda i: (i, tf.shape(tf.zeros([i]))), tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.autotune.enabled = True
    assert [(int(a), b.numpy().tolist()) for a, b in got.with_options(options).prefetch(1)] == [
        (i, [i]) for i in range(5)]
    kept = _compat.fast_start_map(ds, lambda i: (i, tf.shape(tf.zeros([i]))), 2, keep_int64=True)
    assert [spec.dtype for spec in kept.element_spec] == [tf.int64, tf.int64]


def test_fast_start_map_skips_the_per_iterator_rewrite_of_a_large_graph(photos):
    """What it is for: a new iterator over the decoder's large graph reaches its
    first element several times sooner than through `Dataset.map` (0.27 s vs
    0.035 s on the 2-core VM, BUILD_NOTES)."""
    import time

    from keras_resize_layers import decode

    jpegs = [encode(p, "JPEG") for p in photos.values()]
    ds = tf.data.Dataset.from_tensor_slices(jpegs)
    fn = lambda c: decode.decode_image(c, (32, 32))  # noqa: E731

    def start(dataset):
        times = []
        for _ in range(5):
            begin = time.perf_counter()
            next(iter(dataset))
            times.append(time.perf_counter() - begin)
        return min(times)

    plain, fast = ds.map(fn, num_parallel_calls=2), _compat.fast_start_map(ds, fn, 2)
    np.testing.assert_array_equal(next(iter(fast)).numpy(), next(iter(plain)).numpy())
    assert start(fast) < 0.4 * start(plain)
