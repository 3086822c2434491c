"""A pipeline's start-up in a fresh process: seconds from `Dataset.map` of
`data.decode_and_resize_fn(224, 224)` to its first element (the trace of the decoding
graph dominates), with the library as shipped (AutoGraph calls its code as written) and
with AutoGraph converting the library's code (its rule removed, as before 2026-12-03).

    python -m benchmarks.first_trace [--trials=5] [--output_dir=results]

Each trial starts one new Python process per variant, alternating which goes first; the
ratio is the median of the per-trial ratios.
"""

import os
import subprocess
import sys
import time

import numpy as np
from absl import app, flags

from benchmarks import common_flags

from benchmarks import report_files

FLAGS = flags.FLAGS
common_flags.define_once(flags.DEFINE_integer, "trials", 5, "Alternated pairs of fresh processes.")

CHILD = r"""
import sys, time
import numpy as np, tensorflow as tf
from keras_resize_layers import data
if sys.argv[1] == "converted":
    from tensorflow.python.autograph.core import config
    config.CONVERSION_RULES = tuple(r for r in config.CONVERSION_RULES
                                    if not r.matches("keras_resize_layers"))
jpeg = tf.io.encode_jpeg(np.zeros((300, 400, 3), np.uint8)).numpy()
begin = time.perf_counter()
ds = tf.data.Dataset.from_tensor_slices([jpeg] * 4).map(data.decode_and_resize_fn(224, 224))
assert next(iter(ds)).shape == (224, 224, 3)
print(time.perf_counter() - begin)
"""

VARIANTS = ("as shipped", "converted")


def measure(trials):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    seconds = {v: [] for v in VARIANTS}
    for trial in range(trials):
        for variant in VARIANTS[::1 if trial % 2 == 0 else -1]:
            out = subprocess.run([sys.executable, "-c", CHILD, variant.split()[0]], env=env,
                                 capture_output=True, text=True, check=True)
            seconds[variant].append(float(out.stdout.strip().splitlines()[-1]))
    ratios = np.array(seconds["converted"]) / np.array(seconds["as shipped"])
    return dict(benchmark="first_trace", date=time.strftime("%Y-%m-%d %H:%M %Z"),
                cpu_count=os.cpu_count(), seconds=seconds,
                median_s={v: float(np.median(s)) for v, s in seconds.items()},
                converted_over_shipped=dict(median=float(np.median(ratios)),
                                            min=float(ratios.min()), max=float(ratios.max())))


def main(argv):
    del argv
    report = measure(FLAGS.trials)
    report_files.write_json(FLAGS.output_dir, "first_trace", report)
    r = report["converted_over_shipped"]
    print(f"first element of a new decode_and_resize_fn pipeline in a fresh process: "
          f"{report['median_s']['as shipped']:.2f} s as shipped, "
          f"{report['median_s']['converted']:.2f} s with AutoGraph converting the library "
          f"({r['median']:.2f}x, {r['min']:.2f}-{r['max']:.2f}, {FLAGS.trials} alternated pairs)")


if __name__ == "__main__":
    app.run(main)
