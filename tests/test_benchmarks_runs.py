"""Smoke runs of the benchmarks: report structure only, no timing or accuracy asserted."""

import json
import os
import subprocess
import sys

import pytest

from benchmarks import accuracy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def test_throughput_quick_writes_reports_with_quality(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.throughput", "--quick",
         f"--output_dir={tmp_path}"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "throughput.json").read_text())
    assert report["config"]["quick"] is True and report["machine"]["cpu_count"] >= 1
    names = {r["name"] for r in report["rows"]}
    for expected in ("tf.image.resize", "keras.layers.Resizing", "OpenCV INTER_AREA",
                     "Pillow draft + resize (thread pool)"):
        assert expected in names
    assert any(n.startswith("krl Resize layer") for n in names)
    assert any(n.startswith("tf.data decode_and_resize_fn") for n in names)
    for row in report["rows"]:
        assert "error" not in row, row
        assert row["trials"] >= 5
        ips = row["images_per_s"]
        assert ips["min"] <= ips["median"] <= ips["max"]
        for key in ("psnr_photo", "max_abs_photo", "psnr_zone", "max_abs_zone"):
            assert isinstance(row[key], float)
    assert (tmp_path / "throughput.md").read_text().count("\n|") >= len(report["rows"])
    assert (tmp_path / "throughput.png").stat().st_size > 0


def _tiny_cfg():
    cfg = accuracy.settings(True, seeds=2, epochs=1, max_train=40, max_test=20)
    cfg.update(resolutions=[8, 16], native=16, method_size=8,
               methods=[("bilinear", True), ("nearest", False)], policy_size=8,
               skew_size=8, fixres_train=8, fixres_test=[8, 12], batch_size=16)
    return cfg


def test_every_experiment_writes_a_well_formed_report_and_resumes(tmp_path, monkeypatch):
    cfg = _tiny_cfg()
    report = accuracy.run("embedded", cfg, list(accuracy.EXPERIMENTS), "small_cnn",
                          str(tmp_path))
    assert set(report["sections"]) == set(accuracy.EXPERIMENTS)
    for rows in report["sections"].values():
        for row in rows:
            assert 0.0 <= row["accuracy"]["mean"] <= 1.0 and row["accuracy"]["n"] == 2
            assert row["images_per_s"] > 0 and row["exceeds_noise"] in (True, False)
    skew = {r["label"] for r in report["sections"]["skew"]}
    assert {"embedded Resize layer (same as training)", "OpenCV INTER_AREA",
            "Pillow BILINEAR (antialiased)"} <= skew
    assert len(report["sections"]["fixres"]) == 2
    md = (tmp_path / "accuracy.md").read_text()
    for name in accuracy.EXPERIMENTS:
        assert f"accuracy_{name}.png" in md and (tmp_path / f"accuracy_{name}.png").exists()
    # A second run is served from the cache: no training at all.
    monkeypatch.setattr(accuracy, "run_job", lambda *a, **k: pytest.fail("retrained"))
    again = accuracy.run("embedded", cfg, list(accuracy.EXPERIMENTS), "small_cnn",
                         str(tmp_path))
    assert again["sections"] == report["sections"]


def test_keras_applications_model_and_synthetic_dataset(tmp_path):
    cfg = _tiny_cfg()
    cfg.update(seeds=1, resolutions=[32], native=32)
    report = accuracy.run("synthetic", cfg, ["resolution"], "MobileNetV3Small", str(tmp_path))
    assert report["model"] == "MobileNetV3Small"
    assert report["sections"]["resolution"][0]["exceeds_noise"] is None  # one seed


def test_unknown_model():
    with pytest.raises(ValueError, match="Unknown --model"):
        accuracy.backbone("ResNet9000", 10)
