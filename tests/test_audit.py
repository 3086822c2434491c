"""`audit.resize_sensitivity` and its statistics: cases computed by hand, the variants
against independent references, bad inputs, and models saved as `.keras` and SavedModel."""

import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from conftest import encode
from keras_resize_layers import audit
from keras_resize_layers.audit import cli, stats
from keras_resize_layers.audit import variants as variants_lib


def test_wilson_interval_by_hand():
    # 8 of 10, z = 1.96: centre (0.8 + 0.19208) / 1.38416, half-width 1.96 *
    # sqrt(0.016 + 0.0009604) / 1.38416 -> [0.4902, 0.9433] (the textbook values).
    p, low, high = stats.wilson(8, 10)
    assert p == 0.8 and low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(
        0.9433, abs=1e-4)
    assert stats.wilson(10, 10)[2] == 1.0 and stats.wilson(0, 10)[1] == 0.0
    assert all(math.isnan(v) for v in stats.wilson(0, 0))


def test_mcnemar_exact_by_hand():
    # b = 1, c = 7: 2 * P(X <= 1), X ~ Bin(8, 1/2) = 2 * (1 + 8) / 256.
    assert stats.mcnemar_exact(1, 7) == pytest.approx(18 / 256, rel=1e-12)
    assert stats.mcnemar_exact(7, 1) == stats.mcnemar_exact(1, 7)
    assert stats.mcnemar_exact(0, 5) == pytest.approx(2 / 32)
    assert stats.mcnemar_exact(5, 5) == 1.0 and stats.mcnemar_exact(0, 0) == 1.0
    # 0 vs 20 discordant pairs: 2 / 2**20.
    assert stats.mcnemar_exact(0, 20) == pytest.approx(2 / 2 ** 20, rel=1e-9)


def test_bootstrap_intervals():
    assert stats.bootstrap_mean([3.0] * 50) == (3.0, 3.0, 3.0)
    rng = np.random.default_rng(0)
    values = rng.normal(1.0, 2.0, 400)
    mean, low, high = stats.bootstrap_mean(values)
    half = 1.96 * values.std() / math.sqrt(400)  # the normal approximation, for comparison
    assert low < mean < high and abs((high - low) / 2 - half) < 0.02
    assert stats.paired_difference([0, 1, 1], [1, 1, 1])[0] == pytest.approx(1 / 3)


def _colour_model(input_shape=(None, None, 3)):
    """Logits = the mean of each colour channel (class 0 red, 1 green, 2 blue)."""
    inputs = keras.Input(input_shape)
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    dense = keras.layers.Dense(3)
    outputs = dense(x)
    dense.set_weights([np.eye(3, dtype="float32") / 25.0, np.zeros(3, "float32")])
    return keras.Model(inputs, outputs)


def _solid(colour, size):
    image = np.zeros(size + (3,), np.float32)
    image[..., colour] = 200
    return image


def test_paired_statistics_on_a_case_computed_by_hand():
    """10 images, labels known; the reference predicts the label on images 0-7, the variant
    on images 2-9: b = 2 (0, 1: reference only), c = 2 (8, 9: variant only)."""
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    wrong = (labels + 1) % 3
    ref_classes = np.where(np.arange(10) < 8, labels, wrong)
    var_classes = np.where(np.arange(10) >= 2, labels, wrong)
    images = [np.zeros((30, 40 + i, 3), np.uint8) for i in range(10)]

    def painter(classes):
        return lambda imgs, size: np.stack([_solid(int(c), size) for c in classes])

    reference = audit.Variant("ref", "test", painter(ref_classes))
    variant = audit.Variant("var", "test", painter(var_classes))
    result = audit.resize_sensitivity(_colour_model(), images, labels, reference=reference,
                                      variants=[variant], input_size=(8, 8))
    ref_row, row = result["rows"]
    assert ref_row["reference"] and ref_row["accuracy"]["value"] == 0.8
    assert row["discordant"] == {"reference_only": 2, "variant_only": 2}
    assert row["mcnemar_p"] == 1.0 and row["accuracy"]["value"] == 0.8
    assert row["accuracy_difference"]["value"] == 0.0
    # The variant agrees with the reference's top-1 on images 2-7 and on none of 0, 1, 8, 9.
    assert row["agreement"]["value"] == 0.6
    assert row["agreement"]["low"] == pytest.approx(stats.wilson(6, 10)[1])
    assert row["kl"]["value"] > 0.1 and row["top5_overlap"]["value"] == 1.0  # 3 classes
    assert "McNemar" in result["recommendation"]


def test_default_variants_match_independent_references(photos):
    images = [photos["chelsea"], photos["coffee"][:333, :517]]
    variants = {v.name: v for v in audit.default_variants((56, 64))}
    assert len(variants) >= 30
    from PIL import Image

    crop = variants_lib._cropped(images, (56, 64))
    # Pillow's variant is Pillow itself on the library's crop box.
    expected = np.asarray(Image.fromarray(crop[0]).resize((64, 56), Image.BICUBIC), np.float32)
    np.testing.assert_array_equal(variants["pillow:BICUBIC"].fn(images, (56, 64))[0], expected)
    # This library without antialias == tf.image.resize on the same crop, to 1e-3.
    np.testing.assert_allclose(variants["krl:bilinear"].fn(images, (56, 64)),
                               variants["tf.image.resize:bilinear"].fn(images, (56, 64)),
                               atol=1e-3)
    # Keras's Resizing defaults == what image_dataset_from_directory calls.
    np.testing.assert_allclose(variants["keras:Resizing()"].fn(images, (56, 64)),
                               variants["keras:image_dataset_from_directory()"].fn(
                                   images, (56, 64)), atol=1e-3)
    # load_img(target_size) stretches with nearest: exactly Pillow NEAREST on the whole image.
    np.testing.assert_array_equal(
        variants["keras:load_img(target_size)"].fn(images, (56, 64))[1],
        np.asarray(Image.fromarray(images[1]).resize((64, 56), Image.NEAREST), np.float32))
    assert variants["size:64x72"].fn(images, (56, 64)).shape == (2, 64, 72, 3)
    assert variants["dct:1/2"].fn(images, (56, 64)).shape == (2, 56, 64, 3)


def test_audit_rows_and_report(photos, tmp_path):
    images = [photos["chelsea"], photos["astronaut"], photos["coffee"]]
    keep = {"krl:bilinear+aa", "krl:bilinear", "tf.image.resize:bilinear", "opencv:INTER_AREA",
            "size:64x72"}
    variants = [v for v in audit.default_variants((56, 64)) if v.name in keep]
    result = audit.resize_sensitivity(_colour_model(), images, variants=variants,
                                      input_size=(56, 64))
    rows = {r["name"]: r for r in result["rows"]}
    assert set(rows) == keep and result["skipped"] == []
    # Same pixels to 1e-3: the same predictions.
    assert rows["krl:bilinear"]["agreement"]["value"] == 1.0
    assert rows["krl:bilinear"]["kl"]["value"] < 1e-6
    assert rows["krl:bilinear+aa"]["agreement"]["value"] == 1.0
    paths = audit.write_report(result, str(tmp_path))
    assert json.load(open(paths["json"]))["reference"] == "krl:bilinear+aa"
    text = open(paths["md"]).read()
    assert text.startswith("# Resize sensitivity audit\n\nServe with") and "`opencv:INTER_AREA`" in text
    assert os.path.getsize(paths["png"]) > 10_000


def test_bad_inputs_get_clear_messages(photos):
    images = [photos["chelsea"]]
    with pytest.raises(ValueError, match="input size is unknown"):
        audit.resize_sensitivity(_colour_model(), images)
    with pytest.raises(ValueError, match="2 labels for 1 images"):
        audit.resize_sensitivity(_colour_model(), images, labels=[0, 1], input_size=(8, 8))
    with pytest.raises(ValueError, match="empty"):
        audit.resize_sensitivity(_colour_model(), [], input_size=(8, 8))
    with pytest.raises(ValueError, match="expected uint8"):
        audit.resize_sensitivity(_colour_model(), [np.zeros((4, 4), np.uint8)],
                                 input_size=(8, 8))
    with pytest.raises(ValueError, match="not among the variants"):
        audit.resize_sensitivity(_colour_model(), images, input_size=(8, 8),
                                 reference="pillow:MAGIC")
    # A fixed-size model cannot take the sweep's sizes: the variant is skipped with a reason.
    sweep = audit.Variant("size:64x64", "test", variants_lib._library("bilinear", True),
                          output_size=(64, 64))
    missing = audit.Variant("needs-extra", "test", lambda i, s: variants_lib.needs_extra("no_such_lib"))
    fixed = _colour_model((32, 32, 3))
    result = audit.resize_sensitivity(fixed, images, variants=[
        audit.library_variants()[0], sweep, missing])
    reasons = {s["name"]: s["reason"] for s in result["skipped"]}
    assert set(reasons) == {"size:64x64", "needs-extra"}
    assert 'pip install "keras_resize_layers[bench]"' in reasons["needs-extra"]


@pytest.mark.slow(15)
def test_cli_on_a_folder_with_keras_file_and_savedmodel(tmp_path, photos):
    folder = tmp_path / "photos"
    for label, name in enumerate(["0_red", "1_green", "2_blue"]):
        (folder / name).mkdir(parents=True)
        for i in range(2):
            image = np.zeros((40 + 8 * i, 50, 3), np.uint8)
            image[..., label] = 180
            (folder / name / f"{i}.png").write_bytes(encode(image, "PNG"))
    (folder / "0_red" / "broken.png").write_bytes(b"\x89PNG not really")
    model = _colour_model()
    model.save(tmp_path / "model.keras")
    fixed = _colour_model((32, 32, 3))
    fixed.export(str(tmp_path / "saved"), verbose=False)
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    few = ["krl:bilinear", "pillow:BICUBIC", "tf.image.resize:bilinear"]
    # The command in a process of its own for the .keras file; the SavedModel through the
    # same entry point in this process (one TensorFlow start-up fewer).
    for model_path, extra in ((tmp_path / "model.keras", []),
                              (tmp_path / "saved", ["--variants", ",".join(few)])):
        out = tmp_path / f"out_{model_path.name}"
        args = ["--model", str(model_path), "--data", f"dir:{folder}", "--labels", "inferred",
                "--output_dir", str(out), "--input_size", "32x32", *extra]
        if extra:
            cli.main(args)
        else:
            result = subprocess.run([sys.executable, "-m", "keras_resize_layers.audit", *args],
                                    capture_output=True, text=True, timeout=600, env=env)
            assert result.returncode == 0, result.stderr[-3000:]
        report = json.load(open(out / "audit.json"))
        assert report["images"] == 6 and report["unreadable_files_skipped"] == 1
        (bad,) = report["skipped_files"]  # named with its reason, in the Markdown report too
        assert bad["file"].endswith("broken.png") and "PNG" in bad["reason"], bad
        assert f"- `{bad['file']}`: {bad['reason']}" in (out / "audit.md").read_text()
        reference = report["rows"][0]
        assert reference["reference"] and reference["accuracy"]["value"] == 1.0
        names = {r["name"] for r in report["rows"]} | {s["name"] for s in report["skipped"]}
        if extra:
            assert names == set(few) | {reference["name"]}, names
        else:
            assert len(names) >= 30
    with pytest.raises(SystemExit, match=r"Unknown audit variants \['nope'\]"):
        cli.main(["--model", str(tmp_path / "model.keras"), "--data", f"dir:{folder}",
                  "--variants", "krl:bilinear,nope"])
    with pytest.raises((ValueError, OSError), match="not a directory"):
        cli.main(["--model", str(tmp_path / "model.keras"), "--data",
                  f"dir:{tmp_path / 'no'}"])


def test_tfds_data_source_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        images, labels, skipped = cli._load_data("tfds:mnist", "inferred", 4)
    assert len(images) == 4 and len(labels) == 4 and skipped == []
    assert all(i.dtype == np.uint8 and i.shape == (28, 28, 3) for i in images)
    with pytest.raises(ValueError, match="dir:PATH or tfds:NAME"):
        cli._load_data("embedded", None, 4)
