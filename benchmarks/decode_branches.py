"""What the library's JPEG decode costs over TensorFlow's bare decode, branch by branch.

`decode.decode_image` reaches a JPEG's DCT-scaled decode through one 3-byte test and a
functional `If` whose other branch decodes PNG, GIF, WebP and (in a function of its own) BMP
and animated WebP. That branch never runs for a JPEG, yet its size costs every JPEG element
of a `tf.data` map. Over 2,048 JPEGs (512x512, q90: `pipeline_passes`'s photos), each map
with AUTOTUNE parallelism and `padded_batch(32)` (the iterator's per-element cost out of the
way), rounds rotating the variants' order:

- `bare`: `tf.io.decode_jpeg(ratio=2)`;
- `ratio switch`: the header's size -> the DCT ratio (`decode.jpeg_ratio_index`) -> one of
  four `decode_jpeg`s in a `tf.switch_case`;
- `If, empty else`: that switch inside `_compat.unlowered_cond` with a one-op other branch;
- `If, rare formats in else`: the other branch calls the BMP / animated WebP decoder only;
- `decode_image`: the library's decoder;
- `bare, fast-start map` and `decode_image, fast-start map`: both in the map that
  `batched_decode_and_resize` builds (`_compat.fast_start_map`: no grappler pass).

    python -m benchmarks.decode_branches [--trials=7] [--output_dir=results]

Reports images/s per variant (median of the rounds) and each over `bare` per round,
median (min-max); and the process's CPU time per image (user + system, `getrusage`) over
its bare decode in the same kind of map, per round, median (min-max).
"""

import os
import resource
import time

import numpy as np
from absl import app, flags

from benchmarks import common_flags, report_files

FLAGS = flags.FLAGS
common_flags.define_once(flags.DEFINE_integer, "trials", 7, "Rounds of the variants.")


def measure(trials, images=None):
    import tensorflow as tf

    from benchmarks import pipeline_passes
    from keras_resize_layers import _compat, decode

    jpegs = pipeline_passes._jpegs()[:images]
    source = tf.data.Dataset.from_tensor_slices(tf.constant(jpegs))
    size = (224, 224)

    def ratio_switch(c):
        return tf.switch_case(decode.jpeg_ratio_index(c, size), [
            lambda r=r: tf.io.decode_jpeg(c, channels=3, ratio=r) for r in decode.RATIOS])

    def is_jpeg(c):
        return tf.equal(tf.strings.substr(c, 0, 3), b"\xff\xd8\xff")

    rare = decode._rare_decoder(0.0, decode.MAX_PIXELS)
    variants = {
        "bare": lambda c: tf.io.decode_jpeg(c, channels=3, ratio=2),
        "ratio switch": ratio_switch,
        "If, empty else": lambda c: _compat.unlowered_cond(
            is_jpeg(c), lambda: ratio_switch(c), lambda: tf.zeros([1, 1, 3], tf.uint8)),
        "If, rare formats in else": lambda c: _compat.unlowered_cond(
            is_jpeg(c), lambda: ratio_switch(c), lambda: rare(c, tf.constant(""))),
        "decode_image": lambda c: decode.decode_image(c, size),
    }
    datasets = {name: source.map(fn, num_parallel_calls=tf.data.AUTOTUNE).padded_batch(32)
                for name, fn in variants.items()}
    for name in ("bare", "decode_image"):
        datasets[f"{name}, fast-start map"] = _compat.fast_start_map(
            source, variants[name], tf.data.AUTOTUNE).padded_batch(32)
    cpu_s = {name: [] for name in datasets}

    def one_pass(dataset, name=None):
        before = resource.getrusage(resource.RUSAGE_SELF)
        begin = time.perf_counter()
        for _ in dataset:
            pass
        seconds = time.perf_counter() - begin
        after = resource.getrusage(resource.RUSAGE_SELF)
        if name is not None:
            cpu_s[name].append(after.ru_utime - before.ru_utime + after.ru_stime -
                               before.ru_stime)
        return seconds

    for dataset in datasets.values():
        one_pass(dataset)
    seconds = {name: [] for name in datasets}
    names = list(datasets)
    for trial in range(trials):
        for name in names[trial % len(names):] + names[:trial % len(names)]:
            seconds[name].append(one_pass(datasets[name], name))
    bare = np.array(seconds["bare"])

    def cpu_over_bare(name):
        base = "bare, fast-start map" if name.endswith("fast-start map") else "bare"
        return summary((np.array(cpu_s[name]) - np.array(cpu_s[base])) / len(jpegs) * 1e3)

    def summary(r):
        return dict(median=float(np.median(r)), min=float(np.min(r)), max=float(np.max(r)))

    return dict(benchmark="decode_branches", date=time.strftime("%Y-%m-%d %H:%M %Z"),
                cpu_count=os.cpu_count(), images=len(jpegs),
                images_per_s={n: [len(jpegs) / t for t in s] for n, s in seconds.items()},
                over_bare={n: summary(bare / np.array(s)) for n, s in seconds.items()},
                cpu_ms_per_image={n: float(np.median(c)) / len(jpegs) * 1e3
                                  for n, c in cpu_s.items()},
                cpu_ms_over_bare={n: cpu_over_bare(n) for n in cpu_s})


def main(argv):
    del argv
    report = measure(FLAGS.trials)
    report_files.write_json(FLAGS.output_dir, "decode_branches", report)
    print("| variant | images/s | over bare | CPU ms per image | CPU ms over its bare map |\n"
          "|---|---|---|---|---|")
    for name, rates in report["images_per_s"].items():
        r, c = report["over_bare"][name], report["cpu_ms_over_bare"][name]
        print(f"| {name} | {np.median(rates):.0f} | {r['median']:.2f}× "
              f"({r['min']:.2f}–{r['max']:.2f}) | {report['cpu_ms_per_image'][name]:.3f} | "
              f"{c['median']:+.3f} ({c['min']:+.3f} to {c['max']:+.3f}) |")


if __name__ == "__main__":
    app.run(main)
