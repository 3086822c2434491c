"""The CPU op's four ways of summing rows on this host, and the one it measures and keeps.

The op (`keras_resize_layers/_tf/resample_taps.c`) sums uint8 rows either a group of output
rows at a time or one output row at a time, each with or without look-ahead prefetches: the
same values bit for bit, at speeds that depend on the host's caches. By default it times the
four on a class of plan's first calls and keeps the fastest. This benchmark forces each mode
in turn, then lets the op measure, round by round (the order rotating), on random uint8
batches resized to 224x224 (antialiased bilinear, uint8 out):

    python -m benchmarks.row_modes [--row_mode_sizes=512,1024,2048,4096] [--trials=3]

Reports input megapixels/s per mode (median of the rounds), the mode the op chose, and per
round the measured mode's speed over mode 1 (groups with look-ahead, the default before
modes were measured) and over the fastest forced mode.
"""

import os
import time

import numpy as np
from absl import app, flags

from benchmarks import common_flags, report_files

FLAGS = flags.FLAGS
common_flags.define_once(flags.DEFINE_integer, "trials", 3, "Rounds of the five variants.")
flags.DEFINE_list("row_mode_sizes", ["512", "1024", "2048", "4096"],
                  "Square source sizes, resized to 224x224.")

MODES = {0: "one by one", 1: "groups", 2: "one by one, no look-ahead",
         3: "groups, no look-ahead", -1: "measured (default)"}


def measure(sizes, trials, calls=3):
    import tensorflow as tf

    import keras_resize_layers as krl
    from keras_resize_layers._tf import native

    library = native.pool()
    rng = np.random.default_rng(0)
    report = dict(benchmark="row_modes", date=time.strftime("%Y-%m-%d %H:%M %Z"),
                  cpu_count=os.cpu_count(), sizes=[])
    try:
        for size in sizes:
            batch = int(np.clip(32 * (1024 / size) ** 2, 4, 128))
            images = tf.constant(rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8))
            resize = tf.function(lambda x: krl.resize(x, (224, 224), dtype="uint8"))
            library.krl_set_row_mode(-1)
            library.krl_reset_row_modes()
            rates = {mode: [] for mode in MODES}
            for trial in range(trials + 1):  # round 0 warms up (and lets the op measure)
                order = list(MODES)
                order = order[trial % len(order):] + order[:trial % len(order)]
                for mode in order:
                    library.krl_set_row_mode(mode)
                    resize(images).numpy()
                    begin = time.perf_counter()
                    for _ in range(calls):
                        resize(images).numpy()
                    if trial:
                        rates[mode].append(batch * calls * size * size / 1e6
                                           / (time.perf_counter() - begin))
            library.krl_set_row_mode(-1)
            forced = np.array([rates[m] for m in range(4)])
            measured = np.array(rates[-1])

            def summary(r):
                return dict(median=float(np.median(r)), min=float(np.min(r)),
                            max=float(np.max(r)))

            report["sizes"].append(dict(
                source=size, batch=batch,
                megapixels_per_s={MODES[m]: summary(r) for m, r in rates.items()},
                chosen=MODES.get(library.krl_row_mode_of(0, size * 3, _taps(size)),
                                 "not measured"),
                measured_over_groups=summary(measured / forced[1]),
                measured_over_fastest=summary(measured / forced.max(axis=0))))
    finally:
        library.krl_set_row_mode(-1)
    return report


def _taps(size):
    from keras_resize_layers._core import taps

    return taps.plan(size, size, (224, 224), "bilinear", True, "stretch", 1.0)["iy"].shape[-1]


def main(argv):
    del argv
    report = measure([int(s) for s in FLAGS.row_mode_sizes], FLAGS.trials)
    report_files.write_json(FLAGS.output_dir, "row_modes", report)
    print("| source | " + " | ".join(MODES.values()) + " | chosen | measured / groups "
          "| measured / fastest |")
    print("|---" * (len(MODES) + 4) + "|")
    for row in report["sizes"]:
        rates = " | ".join(f"{row['megapixels_per_s'][name]['median']:.0f}"
                           for name in MODES.values())
        a, b = row["measured_over_groups"], row["measured_over_fastest"]
        print(f"| {row['source']}² | {rates} | {row['chosen']} | {a['median']:.2f}× "
              f"({a['min']:.2f}–{a['max']:.2f}) | {b['median']:.2f}× "
              f"({b['min']:.2f}–{b['max']:.2f}) |")
    print("Input megapixels/s (median of the rounds); ratios per round, median (min–max).")


if __name__ == "__main__":
    app.run(main)
