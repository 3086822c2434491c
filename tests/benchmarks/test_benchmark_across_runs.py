"""`benchmarks.across_runs`: each run's per-trial ratio median, then the median and range of
the runs, hand-computed."""

import json
import os
import subprocess
import sys

import pytest

from benchmarks import across_runs


def _row(name, source, times, images_per_s):
    return dict(name=name, source=[source, source], input="array", times_s=times,
                images_per_s=dict(median=images_per_s),
                megapixels_per_s=images_per_s * source * source / 1e6)


def _report(hour, rows):
    return dict(date="2026-12-05", time=hour, rows=rows, machine=dict(cpu_count=2))


OURS = "krl Resize uint8 out (compiled model, tensorflow)"
RUNS = [
    _report("07:00 UTC", [_row(OURS, 512, [1.0, 1.0, 1.0], 100),
                          _row("fast_image_resize bilinear", 512, [2.0, 3.0, 1.0], 50),
                          _row("Pillow-SIMD resize BILINEAR", 512, [4.0, 4.0, 4.0], 25),
                          _row("fast_image_resize bilinear", 256, [1.0], 9)]),
    _report("09:00 UTC", [_row(OURS, 512, [2.0, 2.0], 50),
                          _row("fast_image_resize bilinear", 512, [2.0, 2.0], 50),
                          _row("Pillow-SIMD resize BILINEAR", 512, [1.0, 1.0], 100)]),
    _report("11:00 UTC", [_row(OURS, 512, [1.0], 100),
                          _row("fast_image_resize bilinear", 512, [1.5], 70)]),
]


def test_median_of_the_runs_medians_and_the_fastest_rival_of_each_run():
    rows = {(s[0], rival): rest for s, rival, *rest in across_runs.summarize(
        RUNS, "krl Resize uint8 out", ["fast_image_resize", "Pillow-SIMD"])}
    # fast_image_resize: per-run medians 2.0 (of 2, 3, 1), 1.0, 1.5 -> median 1.5.
    assert rows[(512, "fast_image_resize")] == [[2.0, 1.0, 1.5], 1.5, 1.0, 2.0]
    assert rows[(512, "Pillow-SIMD")] == [[4.0, 0.5], 2.25, 0.5, 4.0]
    # The fastest rival of each run: fast_image_resize (50 > 25), Pillow-SIMD (100 > 50),
    # fast_image_resize (the only one).
    assert rows[(512, "fastest")] == [[2.0, 0.5, 1.5], 1.5, 0.5, 2.0]
    assert not any(source == 256 for source, _ in rows)  # no row of ours at 256²: skipped


def test_command_line_writes_the_table(tmp_path):
    paths = []
    for i, report in enumerate(RUNS):
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(json.dumps(report))
    out = tmp_path / "table.md"
    done = subprocess.run([sys.executable, "-m", "benchmarks.across_runs", *map(str, paths),
                           "--against=fast_image_resize", f"--table={out}"],
                          capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(across_runs.__file__)))
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text()
    assert "3 reports (2026-12-05 07:00 UTC; 2026-12-05 09:00 UTC; 2026-12-05 11:00 UTC)" in text
    assert "| 512² | fast_image_resize | **1.50×** (1.00–2.00) | 2.00, 1.00, 1.50 |" in text
    assert text == done.stdout


def test_no_files_is_a_usage_error():
    from absl import app

    with pytest.raises(app.UsageError, match="one or more throughput.json"):
        across_runs.main(["across_runs"])


def test_pipeline_rows_compare_within_their_input_kind():
    pipeline = dict(_row("tf.data batched_decode_and_resize (batches of 32)", 512, [2.0, 2.0],
                         16), input="jpeg")
    bare = dict(_row("tf.data bare decode_jpeg(ratio=2)", 512, [1.6, 1.8], 19), input="jpeg")
    array_rival = _row("tf.data bare decode_jpeg(ratio=2)", 512, [0.1, 0.1], 300)  # array
    rows = across_runs.summarize([_report("08:00 UTC", [pipeline, bare, array_rival])],
                                 "tf.data batched_decode_and_resize", ["tf.data bare decode"])
    assert rows[0][:2] == ((512, 512), "tf.data bare decode")
    assert rows[0][2] == [pytest.approx(0.85)]  # 1.6 / 2 and 1.8 / 2; the array row is apart


def test_megapixels_per_core_and_bandwidth_share_are_medians_over_the_runs():
    runs = [_report("07:00 UTC", [dict(_row(OURS, 1000, [1.0], 4.0), bandwidth_fraction=0.2)]),
            _report("08:00 UTC", [dict(_row(OURS, 1000, [1.0], 2.0), bandwidth_fraction=0.4)]),
            _report("09:00 UTC", [dict(_row(OURS, 1000, [1.0], 3.0), bandwidth_fraction=0.3),
                                  _row("fast_image_resize x", 1000, [1.0], 1.0)])]
    rows = across_runs.per_core(runs, "krl Resize uint8 out", ["fast_image_resize"])
    # 3 images/s of 1 Mpx on 2 cores: 1.5 Mpx/s per core; no share for the rival.
    assert rows == [((1000, 1000), "fast_image_resize", 0.5, None),
                    ((1000, 1000), "krl Resize uint8 out", pytest.approx(1.5),
                     pytest.approx(0.3))]
    text = across_runs.markdown(runs, [], rows)
    assert "| 1000² | krl Resize uint8 out | 2 | 30% |" in text
