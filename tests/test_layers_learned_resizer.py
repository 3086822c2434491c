"""The `LearnedResizer` layer: exact at start, padded = ragged = one by one, training,
serialization, tf.data, channels-first, and the same outputs on JAX and PyTorch."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_resize_layers import data
from keras_resize_layers.layers import LearnedResizer, Resize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = [(40, 50), (64, 30), (17, 80), (64, 80)]


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in SIZES]


def _padded(images, fill=0):
    canvas = np.full((len(images), 64, 80, 3), fill, np.uint8)
    for i, image in enumerate(images):
        canvas[i, :image.shape[0], :image.shape[1]] = image
    return canvas, np.array([i.shape[:2] for i in images], np.int32)


def _perturbed(layer, seed=1):
    """Random non-zero weights everywhere (an untrained layer's last conv is zero)."""
    if not layer.built:
        layer.build((None, None, None, 3))
    rng = np.random.default_rng(seed)
    assert len(layer.trainable_weights) >= 17
    for w in layer.trainable_weights:
        w.assign(np.asarray(w) + rng.normal(0, 0.05, w.shape).astype("float32"))
    return layer


def test_untrained_layer_is_exactly_resize(images):
    canvas, sizes = _padded(images)
    layer = LearnedResizer(16, 12, method="bicubic")
    fixed = Resize(16, 12, method="bicubic")
    np.testing.assert_array_equal(layer(canvas, image_sizes=sizes).numpy(),
                                  fixed(canvas, image_sizes=sizes).numpy())
    np.testing.assert_array_equal(layer(data.to_ragged(images)).numpy(),
                                  fixed(data.to_ragged(images)).numpy())
    assert len(layer.trainable_weights) == 17  # 6 convs (4 with bias) + 4 norms x 2 weights


def test_padded_equals_ragged_equals_one_by_one_whatever_the_padding(images):
    layer = _perturbed(LearnedResizer(16, 16, num_res_blocks=2))
    one_by_one = np.concatenate([layer(i[None]).numpy() for i in images])
    for fill in (0, 255):  # the padding is masked: its value never matters
        canvas, sizes = _padded(images, fill)
        np.testing.assert_allclose(layer(canvas, image_sizes=sizes).numpy(), one_by_one,
                                   atol=2e-3)
    np.testing.assert_allclose(layer(data.to_ragged(images)).numpy(), one_by_one, atol=2e-3)
    assert np.abs(one_by_one - Resize(16, 16)(data.to_ragged(images)).numpy()).max() > 1.0


def test_trains_end_to_end_and_survives_keras_save(tmp_path, images):
    canvas, sizes = _padded(images)
    inputs = keras.Input((64, 80, 3), dtype="uint8", name="images")
    image_sizes = keras.Input((2,), dtype="int32", name="image_sizes")
    x = LearnedResizer(16, 16, filters=8, name="learned")(inputs, image_sizes=image_sizes)
    outputs = keras.layers.Dense(4)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model({"images": inputs, "image_sizes": image_sizes}, outputs)
    model.compile(keras.optimizers.Adam(1e-2),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    feed = {"images": canvas, "image_sizes": sizes}
    before = model.get_layer("learned")(canvas, image_sizes=sizes).numpy()
    model.fit(feed, np.arange(4), epochs=3, verbose=0)
    after = model.get_layer("learned")(canvas, image_sizes=sizes).numpy()
    assert np.abs(after - before).max() > 0.1  # the residual learned something
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(feed, verbose=0), model.predict(feed, verbose=0),
                               atol=1e-5)
    assert loaded.get_layer("learned").get_config() == model.get_layer("learned").get_config()


def test_get_config_round_trip():
    layer = LearnedResizer(24, 32, filters=8, num_res_blocks=2, method="lanczos3",
                           antialias=False, value_scale=1.0, data_format="channels_first",
                           name="lr")
    config = layer.get_config()
    for key, value in dict(height=24, width=32, filters=8, num_res_blocks=2,
                           method="lanczos3", antialias=False, value_scale=1.0,
                           data_format="channels_first").items():
        assert config[key] == value
    assert LearnedResizer.from_config(config).get_config() == config


def test_in_tf_data_and_channels_first(images):
    layer = _perturbed(LearnedResizer(16, 16))
    batch = np.stack([i[:17, :30] for i in images])
    ds = tf.data.Dataset.from_tensor_slices(batch).batch(4).map(layer)
    np.testing.assert_allclose(next(iter(ds)).numpy(), layer(batch).numpy(), atol=2e-3)
    first = LearnedResizer(16, 16, data_format="channels_first")
    first.build((None, 3, None, None))
    first.set_weights(layer.get_weights())
    out = first(np.transpose(batch, (0, 3, 1, 2))).numpy()
    np.testing.assert_allclose(np.transpose(out, (0, 2, 3, 1)), layer(batch).numpy(),
                               atol=1e-4)


def test_bad_arguments():
    for kwargs, match in ((dict(filters=0), "filters"), (dict(num_res_blocks=-1),
                                                          "num_res_blocks"),
                          (dict(value_scale=0), "value_scale"), (dict(method="cubic"),
                                                                 "method")):
        with pytest.raises(ValueError, match=match):
            LearnedResizer(16, 16, **kwargs)
    with pytest.raises(ValueError, match="image_sizes"):
        LearnedResizer(8, 8)(data.to_ragged([np.zeros((9, 9, 3), np.uint8)]),
                             image_sizes=[[9, 9]])


OTHER_BACKEND = r"""
import os, sys
import numpy as np
import keras
import keras_resize_layers.layers  # registers the layers for load_model
backend = keras.backend.backend()
assert backend in ("jax", "torch") and "tensorflow" not in sys.modules
folder = sys.argv[1]
model = keras.saving.load_model(os.path.join(folder, "m.keras"))
z = np.load(os.path.join(folder, "inputs.npz"))
feed = {"images": z["canvas"], "image_sizes": z["sizes"]}
np.save(os.path.join(folder, backend + ".npy"), model.predict(feed, verbose=0))
# Training under the backend's compiler (jax.jit; PyTorch eager), then a .keras round trip.
model.compile("adam", keras.losses.MeanSquaredError(), jit_compile=backend == "jax")
model.fit(feed, np.zeros((len(z["sizes"]), 16, 16, 3)), epochs=1, verbose=0)
model.save(os.path.join(folder, backend + ".keras"))
again = keras.saving.load_model(os.path.join(folder, backend + ".keras"))
assert np.allclose(again.predict(feed, verbose=0), model.predict(feed, verbose=0), atol=1e-4)
print("ok")
"""


@pytest.mark.slow(15)
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_same_outputs_on_jax_and_torch_without_tensorflow(tmp_path, images, backend):
    pytest.importorskip(backend)  # PyTorch: installed by .ci/run
    canvas, sizes = _padded(images)
    inputs = keras.Input((64, 80, 3), dtype="uint8", name="images")
    image_sizes = keras.Input((2,), dtype="int32", name="image_sizes")
    layer = LearnedResizer(16, 16, num_res_blocks=2)
    model = keras.Model({"images": inputs, "image_sizes": image_sizes},
                        layer(inputs, image_sizes=image_sizes))
    _perturbed(layer)
    model.save(tmp_path / "m.keras")
    np.savez(tmp_path / "inputs.npz", canvas=canvas, sizes=sizes)
    blocked = tmp_path / "blocked"
    (blocked / "tensorflow").mkdir(parents=True)
    (blocked / "tensorflow" / "__init__.py").write_text("raise ImportError('blocked')\n")
    env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu",
               PYTHONPATH=str(blocked))
    result = subprocess.run([sys.executable, "-c", OTHER_BACKEND, str(tmp_path)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), (
        result.stdout[-2000:] + result.stderr[-4000:])
    expected = model.predict({"images": canvas, "image_sizes": sizes}, verbose=0)
    np.testing.assert_allclose(np.load(tmp_path / f"{backend}.npy"), expected, atol=2e-3)


def test_xla_when_the_input_size_is_known(images):
    unknown = LearnedResizer(8, 8)
    unknown(keras.Input((None, None, 3), dtype="uint8"))
    assert unknown.supports_jit is False  # ragged may come
    # Known size: a model compiled with jit_compile=True predicts the eager pixels and trains.
    inputs = keras.Input((64, 80, 3), dtype="uint8")
    layer = LearnedResizer(8, 8)
    resized = layer(inputs)
    _perturbed(layer)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Rescaling(1 / 255)(resized))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    assert layer.supports_jit is True
    batch, _ = _padded([np.resize(i, (64, 80, 3)) for i in images])
    eager = model.predict(batch, verbose=0)
    model.compile("adam", "sparse_categorical_crossentropy", jit_compile=True)
    assert model.jit_compile is True
    np.testing.assert_allclose(model.predict(batch, verbose=0), eager, atol=1e-5)
    before = [keras.ops.convert_to_numpy(w) for w in layer.trainable_weights]
    model.fit(batch, np.array([0, 1, 0, 1]), epochs=1, batch_size=2, verbose=0)
    after = [keras.ops.convert_to_numpy(w) for w in layer.trainable_weights]
    assert any(not np.allclose(a, b) for a, b in zip(before, after))  # it trained
