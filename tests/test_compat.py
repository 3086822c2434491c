"""`_compat`: each private Keras/TensorFlow name and its fallback, the fallbacks run for real."""

import json
import os
import subprocess
import sys
import types

import keras
import numpy as np
import tensorflow as tf

from keras_resize_layers import _compat, data, resize
from keras_resize_layers.layers import RandomResizedCrop, Resize


def test_this_keras_provides_the_private_names():
    names = _compat.keras_private_names()
    assert names.DynamicBackend and names.DataLayer and names.GraphOrParentsInXlaContext


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
           "keras.src.layers.preprocessing.tf_data_layer", "tensorflow.python.ops.control_flow_util"}
real = importlib.import_module
importlib.import_module = lambda name, *a, **k: (
    (_ for _ in ()).throw(ImportError(name)) if name in BLOCKED else real(name, *a, **k))
from keras_resize_layers import _compat
importlib.import_module = real
assert _compat.DataLayer is _compat.FallbackDataLayer and _compat._DYNAMIC_BACKEND is None
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
