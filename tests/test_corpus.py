"""End to end: 53 kinds of real-world files through every decoding entry point.

Good files must give Pillow's pixels (exact for lossless formats, mean <= 2
grey levels for JPEG and lossy WebP); bad files must be refused with a
reason, never crash the process, never take the rest of a batch with them.
The SavedModel runs in a fresh process. docs/decoding.md's "What happens to bad
input" table is generated here and must match.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import corpus
from keras_resize_layers import data, decode, serving
from keras_resize_layers.layers import Resize

SIZE = (24, 24)
KINDS = corpus.build()
GOOD = [k for k in KINDS if k.good]
BAD = [k for k in KINDS if not k.good]
HERE = os.path.dirname(os.path.abspath(__file__))

SERVE = r"""
import json, sys
import numpy as np
import tensorflow as tf
kinds = [bytes.fromhex(h) for h in json.load(open(sys.argv[2]))["data"]]
good = json.load(open(sys.argv[2]))["good"]
served = tf.saved_model.load(sys.argv[1])
bytes_fn = served.signatures["bytes"]
out = bytes_fn(contents=tf.constant(kinds))
result = {"ok": out["ok"].numpy().tolist(),
          "reason": [r.decode() for r in out["reason"].numpy()],
          "pixels": out["probabilities"].numpy().tolist()}
# 7 good + 1 bad, for every bad kind: the 7 must be answered as without it.
seven = [kinds[i] for i in good[:7]]
alone = bytes_fn(contents=tf.constant(seven))["probabilities"].numpy()
worst = 0.0
for i, ok in enumerate(result["ok"]):
    if not ok:
        mixed = bytes_fn(contents=tf.constant(seven[:3] + [kinds[i]] + seven[3:]))
        flags = mixed["ok"].numpy().tolist()
        assert flags == [True] * 3 + [False] + [True] * 4, (i, flags)
        probs = np.delete(mixed["probabilities"].numpy(), 3, axis=0)
        worst = max(worst, float(np.abs(probs - alone).max()))
result["worst_7_plus_1"] = worst
empty = bytes_fn(contents=tf.constant([], tf.string))
result["empty_shapes"] = [list(empty["ok"].shape), list(empty["probabilities"].shape)]
result["imported"] = sorted(m for m in sys.modules if m.startswith("keras_resize_layers"))
json.dump(result, open(sys.argv[3], "w"))
"""


def _pipeline_pixels(kinds):
    """The training pipeline's pixels of each kind (one traced map for all of them)."""
    ds = tf.data.Dataset.from_tensor_slices([k.data for k in kinds])
    return [x.numpy() for x in ds.map(data.decode_and_resize_fn(*SIZE, policy="crop"))]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every kind through decode_image, decode_images (skip) and serving."""
    tmp = tmp_path_factory.mktemp("corpus")
    inputs = keras.Input((None, None, 3), dtype="uint8")
    preprocessor = keras.Model(inputs, Resize(*SIZE, policy="crop")(inputs))
    path = serving.export(preprocessor, str(tmp / "model"), input="bytes")
    spec = tmp / "kinds.json"
    spec.write_text(json.dumps({"data": [k.data.hex() for k in KINDS],
                                "good": [i for i, k in enumerate(KINDS) if k.good]}))
    result = subprocess.run([sys.executable, "-c", SERVE, path, str(spec), str(tmp / "o.json")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads((tmp / "o.json").read_text())
    images = data.decode_images(tf.data.Dataset.from_tensor_slices(
        {"image": [k.data for k in KINDS], "path": [k.name for k in KINDS]}),
        on_error="skip", name_key="path")
    kept = [element["path"].numpy().decode() for element in images]
    return {"served": served, "kept": kept, "skipped": dict(images.skipped)}


@pytest.mark.parametrize("kind", GOOD, ids=[k.name for k in GOOD])
def test_good_files_decode_to_pillows_pixels(kind):
    out = decode.decode_image(kind.data).numpy()
    assert out.shape == kind.expected.shape and out.dtype == np.uint8
    error = np.abs(out.astype(float) - kind.expected).mean()
    assert error <= kind.tolerance, f"{kind.name}: mean difference {error:.3f}"
    if kind.tolerance == 0:
        np.testing.assert_array_equal(out, kind.expected)


def test_bad_files_get_their_reason_from_the_header_or_the_decoder():
    for kind in BAD:
        ok, reason, _, _ = decode.inspect(kind.data)
        if kind.reason != "decoder rejected":  # header-level problems are found by inspect
            assert not bool(ok) and kind.reason in reason.numpy().decode(), kind.name
        assert kind.reason in decode.reason_of_failure(kind.data).numpy().decode(), kind.name


# One of each way to fail: header, decoder, bomb, malformed RLE stream (every bad
# kind's reason is checked through the skip path and serving below).
RAISING = [k for k in BAD if k.name in (
    "empty", "PNG with a bad CRC", "JPEG declaring 60000x60000",
    "BMP RLE8 run past the end of its row")]


@pytest.mark.parametrize("kind", RAISING, ids=[k.name for k in RAISING])
def test_bad_files_are_refused_naming_the_element(kind):
    ds = tf.data.Dataset.from_tensor_slices({"image": [kind.data], "path": ["uploads/x.bin"]})
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"uploads/x.bin.*" + (
            "" if kind.reason == "decoder rejected" else kind.reason)):
        list(data.decode_images(ds, name_key="path"))


def _decode_images_skips_and_counts_exactly_the_bad_files(outcomes):
    assert outcomes["kept"] == [k.name for k in GOOD]
    assert sorted(outcomes["skipped"]) == sorted(k.name for k in BAD)
    for kind in BAD:
        assert kind.reason in outcomes["skipped"][kind.name], kind.name


def _serving_answers_every_good_element_as_training_decodes(outcomes):
    served = outcomes["served"]
    assert served["ok"] == [k.good for k in KINDS]
    trained = iter(_pipeline_pixels(GOOD))
    for kind, reason, pixels in zip(KINDS, served["reason"], served["pixels"]):
        if kind.good:
            assert reason == ""
            # Same decode (DCT scale included) as the training pipeline; the
            # resize differs only by float rounding (taps vs TF's kernels).
            np.testing.assert_allclose(np.array(pixels, np.float32), next(trained),
                                       atol=1e-4, rtol=0, err_msg=kind.name)
        else:
            assert kind.reason in reason, (kind.name, reason)
    assert served["worst_7_plus_1"] <= 1e-6
    assert served["empty_shapes"] == [[0], [0, *SIZE, 3]]
    assert served["imported"] == []


CRASHERS = r"""
import sys
sys.path.insert(0, sys.argv[1])
import tensorflow as tf
import corpus
from keras_resize_layers import data
kinds = corpus.build()
webp = [k.data for k in kinds if "WebP animated" in k.name]
everything = [k.data for k in kinds]
for item in webp:
    data.decode_fn()(tf.constant(item)).numpy()
    data.decode_and_resize_fn(16, 16)(tf.constant(item)).numpy()
ds = tf.data.Dataset.from_tensor_slices(webp + [k.data for k in kinds if k.good][:3])
for batch in ds.apply(data.batched_decode_and_resize(2, 16, 16)):
    pass
images = data.decode_images(tf.data.Dataset.from_tensor_slices(everything), (16, 16),
                            on_error="skip")
n = sum(1 for _ in images)
print("survived", n, images.skipped_count)
"""


@pytest.mark.slow(20)
def test_crash_prone_inputs_never_abort_the_process():
    result = subprocess.run([sys.executable, "-c", CRASHERS, HERE], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"survived {len(GOOD)} {len(BAD)}" in result.stdout


def bad_input_table(outcomes):
    """docs/decoding.md's table: every kind and what each entry point does with it."""
    rows = ["| file | decoded pixels | `decode_images` raise / skip | serving `bytes` |",
            "|---|---|---|---|"]
    served = outcomes["served"]
    for kind, ok, reason in zip(KINDS, served["ok"], served["reason"]):
        if kind.good:
            error = np.abs(decode.decode_image(kind.data).numpy().astype(float)
                           - kind.expected).mean()
            pixels = "Pillow's pixels" if error == 0 else f"mean {error:.2f} from Pillow"
            rows.append(f"| {kind.name} | {pixels} | decoded / kept | ok |")
        else:
            skip = outcomes["skipped"][kind.name]
            assert skip == reason, kind.name
            rows.append(f"| {kind.name} | refused | error naming it / skipped, counted | "
                        f"ok=False, reason: {reason} |")
    return "\n".join(rows) + "\n"


def _docs_table_is_generated_from_this_corpus(outcomes):
    table = bad_input_table(outcomes)
    guide = open(os.path.join(HERE, "..", "docs", "decoding.md"), encoding="utf-8").read()
    assert table in guide, "docs/decoding.md's bad-input table is stale; replace it with:\n" \
        + table


@pytest.mark.slow(30)
def test_every_entry_point_on_the_whole_corpus(outcomes):
    """One test for the three checks of the expensive `outcomes` (so that one worker
    builds it): `decode_images` skips and counts exactly the bad files; serving answers
    every good element as training decodes it; docs/decoding.md's table is this run's."""
    _decode_images_skips_and_counts_exactly_the_bad_files(outcomes)
    _serving_answers_every_good_element_as_training_decodes(outcomes)
    _docs_table_is_generated_from_this_corpus(outcomes)
