"""Training = serving: export, reload in a fresh process, and the parity proof."""

import io
import json
import os
import subprocess
import sys

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_resize_layers import data, decode, serving
from keras_resize_layers._core import geometry
from keras_resize_layers.layers import Resize

SIZE = (64, 64)
OPTIONS = dict(method="bicubic", policy="crop", crop_fraction=0.875)


def encode(array, fmt):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture(scope="session")  # session: tests run longest first, modules interleave
def encoded(photos):
    from skimage import data as skdata

    images = list(photos.values()) + [skdata.rocket()]
    return [encode(im, fmt) for im in images for fmt in ("JPEG", "PNG")]


def _models():
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((*SIZE, 3)), keras.layers.Rescaling(1 / 255),
                            keras.layers.Conv2D(4, 3, activation="relu"),
                            keras.layers.GlobalAveragePooling2D(),
                            keras.layers.Dense(3, activation="softmax")])
    inputs = keras.Input((None, None, 3), dtype="uint8")
    pre = Resize(*SIZE, **OPTIONS)
    classifier = keras.Model(inputs, net(pre(inputs)))
    preprocessor = keras.Model(inputs, pre(inputs))
    return net, classifier, preprocessor


LOADER = r"""
import json, sys
import numpy as np
import tensorflow as tf
contents = [bytes.fromhex(h) for h in json.load(open(sys.argv[2]))]
out = {}
for name in ("classifier", "preprocessor"):
    served = tf.saved_model.load(sys.argv[1] + "/" + name)
    result = served.signatures["bytes"](contents=tf.constant(contents))
    out[name] = {k: v.numpy().tolist() for k, v in result.items()
                 if k not in ("label", "reason")}
    for key in ("label", "reason"):
        if key in result:
            out[name][key] = [x.decode() for x in result[key].numpy()]
out["imported"] = sorted(m for m in sys.modules if m.startswith(("keras_resize_layers", "keras")))
json.dump(out, open(sys.argv[3], "w"))
"""


@pytest.mark.slow(22)
def test_parity_tf_data_model_and_savedmodel_in_a_fresh_process(tmp_path, encoded):
    net, classifier, preprocessor = _models()
    # (a) the tf.data evaluation pipeline built with the map functions.
    ds = tf.data.Dataset.from_tensor_slices(encoded).map(data.decode_fn()).map(
        data.resize_fn(*SIZE, **OPTIONS))
    a_pixels = np.stack([x.numpy() for x in ds])
    a_probs = net.predict(a_pixels, verbose=0)
    # (b) the model with the embedded layer, fed decoded images of every size.
    decoded = [decode.decode_image(c).numpy() for c in encoded]
    b_pixels = np.stack([preprocessor.predict(d[None], verbose=0)[0] for d in decoded])
    b_probs = np.concatenate([classifier.predict(d[None], verbose=0) for d in decoded])
    # (c) the exported SavedModel, reloaded where keras_resize_layers is never imported.
    # The pipeline (a) decodes at full size (decode_fn), so serving must too.
    serving.export(classifier, str(tmp_path / "classifier"), input="bytes",
                   class_names=["x", "y", "z"], dct_downscale=False)
    serving.export(preprocessor, str(tmp_path / "preprocessor"), input="bytes",
                   dct_downscale=False)
    (tmp_path / "contents.json").write_text(json.dumps([c.hex() for c in encoded]))
    result = subprocess.run(
        [sys.executable, "-c", LOADER, str(tmp_path), str(tmp_path / "contents.json"),
         str(tmp_path / "out.json")], capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads((tmp_path / "out.json").read_text())
    assert not [m for m in served["imported"] if m.startswith("keras_resize_layers")]
    c_pixels = np.array(served["preprocessor"]["probabilities"], np.float32)
    c_probs = np.array(served["classifier"]["probabilities"], np.float32)
    assert all(served["classifier"]["ok"])
    # Equal to float rounding: a fixed-size call runs the XLA taps, a call whose
    # size is unknown while tracing runs TF's kernels (both within 1e-3 of tf.image.resize).
    np.testing.assert_allclose(b_pixels, a_pixels, atol=5e-4, rtol=0)
    np.testing.assert_allclose(c_pixels, a_pixels, atol=5e-4, rtol=0)
    np.testing.assert_allclose(b_probs, a_probs, atol=1e-5, rtol=0)
    np.testing.assert_allclose(c_probs, a_probs, atol=1e-5, rtol=0)
    assert served["classifier"]["label"] == [["x", "y", "z"][i] for i in a_probs.argmax(-1)]


def test_other_libraries_skew_from_the_pipeline(encoded, capsys):
    """The skew the library removes: the same photos preprocessed elsewhere."""
    crop = Resize(*SIZE, **OPTIONS)
    ours, pil, cv = [], [], []
    for c in encoded:
        image = decode.decode_image(c).numpy()
        ours.append(crop(image).numpy())
        h, w = image.shape[:2]
        side = int(round(min(h, w) * 0.875))
        y0, x0 = (h - side) // 2, (w - side) // 2
        box = image[y0:y0 + side, x0:x0 + side]
        pil.append(np.asarray(Image.fromarray(box).resize(SIZE[::-1], Image.BICUBIC), np.float32))
        cv.append(cv2.resize(box, SIZE[::-1], interpolation=cv2.INTER_CUBIC).astype(np.float32))
    ours = np.stack(ours)
    skew = {name: float(np.abs(np.stack(other) - ours).mean())
            for name, other in (("Pillow BICUBIC", pil), ("OpenCV INTER_CUBIC", cv))}
    print("mean |difference| from the tf.data pipeline (0..255):", skew)
    # Pillow antialiases like we do (rounding to uint8 remains); OpenCV does not.
    assert 0.05 < skew["Pillow BICUBIC"] < 2.0
    assert skew["OpenCV INTER_CUBIC"] > 2 * skew["Pillow BICUBIC"]


def test_bad_elements_are_flagged_and_the_rest_answered(tmp_path, encoded):
    _, classifier, _ = _models()
    path = serving.export(classifier, str(tmp_path / "m"), class_names=["x", "y", "z"])
    served = tf.saved_model.load(path)
    batch = [encoded[0], b"", encoded[1][:200], b"GIF89a nonsense", encoded[1],
             encoded[0][: len(encoded[0]) // 2]]
    out = served.signatures["bytes"](contents=tf.constant(batch))
    assert out["ok"].numpy().tolist() == [True, False, False, False, True, False]
    reasons = [r.decode() for r in out["reason"].numpy()]
    assert reasons[0] == "" and reasons[1] == "empty (0 bytes)"
    assert reasons[5] == "the JPEG decoder rejected the data (truncated or corrupt)"
    probs = out["probabilities"].numpy()
    assert np.allclose(probs[~out["ok"].numpy()], 0)
    # Serving decodes as decode_and_resize_fn does: DCT-domain downscaling by default.
    hint = geometry.decoded_size_hint(SIZE, OPTIONS["policy"], OPTIONS["crop_fraction"])
    np.testing.assert_allclose(probs[0], classifier.predict(
        decode.decode_image(encoded[0], hint).numpy()[None], verbose=0)[0], atol=1e-5)
    assert out["label"].numpy()[1] == b""
    pixels = served.signatures["pixels"](images=tf.constant(
        decode.decode_image(encoded[1]).numpy()[None]))
    np.testing.assert_allclose(pixels["probabilities"].numpy()[0], probs[4], atol=1e-5)


@pytest.mark.slow(12)
def test_saved_model_cli_lists_the_signatures(tmp_path):
    _, classifier, _ = _models()
    path = serving.export(classifier, str(tmp_path / "m"), class_names=["x", "y", "z"])
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    result = subprocess.run([cli, "show", "--all", "--dir", path], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout
    for expected in ("signature_def['bytes']", "signature_def['pixels']", "DT_STRING",
                     "DT_UINT8", "outputs['probabilities']", "outputs['ok']", "DT_BOOL",
                     "outputs['label']"):
        assert expected in text, expected


def test_class_names_must_match_the_outputs(tmp_path):
    _, classifier, _ = _models()
    with pytest.raises(ValueError, match="`class_names` has 2 names but the model outputs 3"):
        serving.export(classifier, str(tmp_path / "m"), class_names=["x", "y"])


def test_resize_not_at_the_input_still_serves_every_element(tmp_path, encoded):
    """A model whose resize is not its first step runs whole, per element."""
    inputs = keras.Input((None, None, 3), dtype="uint8")
    x = keras.layers.Lambda(lambda t: 255 - t)(inputs)
    x = Resize(*SIZE)(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    served = tf.saved_model.load(serving.export(model, str(tmp_path / "m"), input="bytes"))
    out = served.signatures["bytes"](contents=tf.constant([encoded[0], b"", encoded[1]]))
    assert out["ok"].numpy().tolist() == [True, False, True]
    for row, contents in ((0, encoded[0]), (2, encoded[1])):
        expected = model(decode.decode_image(contents, SIZE)[None]).numpy()[0]
        np.testing.assert_allclose(out["probabilities"].numpy()[row], expected, atol=1e-4)


MEMORY = r"""
import resource, sys
import tensorflow as tf
big, small = open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
fn = tf.saved_model.load(sys.argv[1]).signatures["bytes"]
fn(contents=tf.constant([small] * 8))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = fn(contents=tf.constant([big] + [small] * 7))
growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print("ok", out["ok"].numpy().all(), "growth_mib", round(growth))
"""


@pytest.mark.slow(23)
def test_one_huge_image_does_not_pad_the_batch(tmp_path):
    """A valid 12000x12000 PNG (~440 KB) among 7 small ones: peak memory grows
    by about one decoded image (412 MiB), not eight (padding: 3.2 GiB)."""
    inputs = keras.Input((None, None, 3), dtype="uint8")
    x = Resize(64, 64)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    path = serving.export(model, str(tmp_path / "m"), input="bytes")
    big, small = tmp_path / "big.png", tmp_path / "small.png"
    Image.new("RGB", (12000, 12000), (10, 200, 30)).save(big, "PNG")
    Image.new("RGB", (300, 200), (1, 2, 3)).save(small, "PNG")
    result = subprocess.run([sys.executable, "-c", MEMORY, path, str(big), str(small)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    growth = int(result.stdout.split("growth_mib")[1])
    assert "ok True" in result.stdout and growth < 1024, result.stdout


def test_export_needs_the_resize_layers():
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="pass `preprocessing`"):
        serving.export(model, "/tmp/unused")
    with pytest.raises(ValueError, match="Unknown `input`"):
        serving.export(model, "/tmp/unused", preprocessing=Resize(8, 8), input="jpeg")
