"""The JPEG pipeline against the bare decode, pass by pass, as an outside harness times it:
`batched_decode_and_resize(32, 224, 224)` over 2,048 JPEGs (512x512, quality 90) against a
per-element `decode_jpeg(ratio=2)` map with AUTOTUNE parallelism, each pass either on a
dataset built anew (tracing included, as a harness that applies the pipeline per pass) or on
a new iterator of a dataset built once; and the library's decoder alone (`data.decode_fn`,
DCT-scaled for 224x224, no resize) in a plain map, where tf.data's own function handling
applies.

    python -m benchmarks.pipeline_passes [--trials=3] [--output_dir=results]

One warm-up pass per variant, then `--trials` rounds with the variants' order rotating;
ratios are per round (each pair measured in the same round), median (min-max); the seconds
spent building a dataset (its trace) and starting each pass's iterator (`iter()`: for a new
dataset, tf.data's static optimizations of its graph), medians over the rounds.
"""

import io
import os
import time

import numpy as np
from absl import app, flags

from benchmarks import common_flags

from benchmarks import report_files

FLAGS = flags.FLAGS
common_flags.define_once(flags.DEFINE_integer, "trials", 3, "Rounds of the four variants.")

IMAGES = 2048
VARIANTS = ("ours, built per pass", "bare, built per pass", "ours, new iterator",
            "bare, new iterator", "decode_fn map, new iterator")


def _jpegs():
    from PIL import Image
    from skimage import data as photos

    distinct = []
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        image = Image.fromarray(getattr(photos, name)()).resize((512, 512), Image.BICUBIC)
        for turn in range(16):
            buffer = io.BytesIO()
            image.rotate(turn * 3).save(buffer, "JPEG", quality=90)
            distinct.append(buffer.getvalue())
    return [distinct[i % len(distinct)] for i in range(IMAGES)]


def measure(trials):
    import tensorflow as tf

    from keras_resize_layers import data

    source = tf.data.Dataset.from_tensor_slices(tf.constant(_jpegs()))

    def bare():
        return source.map(lambda c: tf.io.decode_jpeg(c, channels=3, ratio=2),
                          num_parallel_calls=tf.data.AUTOTUNE)

    def ours():
        return source.apply(data.batched_decode_and_resize(32, 224, 224))

    # The library's decoder alone in a user's plain map (DCT-scaled for 224x224, no resize).
    decoder = source.map(data.decode_fn(size=(224, 224)), num_parallel_calls=tf.data.AUTOTUNE)
    once = {"ours, new iterator": ours(), "bare, new iterator": bare(),
            "decode_fn map, new iterator": decoder}
    build = {"ours, built per pass": ours, "bare, built per pass": bare}

    build_s = {name: [] for name in build}
    start_s = {name: [] for name in VARIANTS}  # iter(): a new iterator's start

    def one_pass(name):
        begin = time.perf_counter()
        dataset = build[name]() if name in build else once[name]
        if name in build:
            build_s[name].append(time.perf_counter() - begin)
        started = time.perf_counter()
        iterator = iter(dataset)
        start_s[name].append(time.perf_counter() - started)
        for _ in iterator:
            pass
        return time.perf_counter() - begin

    for name in VARIANTS:
        one_pass(name)
    seconds = {name: [] for name in VARIANTS}
    for trial in range(trials):
        shift = trial % len(VARIANTS)
        for name in VARIANTS[shift:] + VARIANTS[:shift]:
            seconds[name].append(one_pass(name))

    def ratio(a, b):
        r = np.array(seconds[b]) / np.array(seconds[a])
        return dict(median=float(np.median(r)), min=float(r.min()), max=float(r.max()))

    return dict(benchmark="pipeline_passes", date=time.strftime("%Y-%m-%d %H:%M %Z"),
                cpu_count=os.cpu_count(), images=IMAGES,
                images_per_s={n: [IMAGES / t for t in s] for n, s in seconds.items()},
                build_s={n: float(np.median(s[1:])) for n, s in build_s.items()},
                iterator_start_s={n: float(np.median(s[1:])) for n, s in start_s.items()},
                built_per_pass=ratio("ours, built per pass", "bare, built per pass"),
                new_iterator=ratio("ours, new iterator", "bare, new iterator"),
                decode_fn_map=ratio("decode_fn map, new iterator", "bare, new iterator"))


def main(argv):
    del argv
    report = measure(FLAGS.trials)
    report_files.write_json(FLAGS.output_dir, "pipeline_passes", report)
    for key in ("built_per_pass", "new_iterator", "decode_fn_map"):
        r = report[key]
        what = ("decode_fn in a plain map (no resize)" if key == "decode_fn_map" else
                f"batched_decode_and_resize, {key.replace('_', ' ')}")
        print(f"{what} / bare decode: {r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})")
    for name, seconds in report["build_s"].items():
        print(f"{name}: building the dataset takes {seconds:.2f} s (median)")
    for name, seconds in report["iterator_start_s"].items():
        print(f"{name}: iter() takes {seconds:.2f} s (median)")


if __name__ == "__main__":
    app.run(main)
