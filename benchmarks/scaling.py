"""How the cost of a resize grows: source size x batch size, cost per input megapixel.

    python -m benchmarks.scaling [--sources=256,512,1024,2048,4096]
        [--batches=1,4,16,64,256] [--max_pixels=1.1e9] [--repeats=5] [--output_dir=results]

The `Resize` layer in a `tf.function` (the library's CPU op on a TensorFlow
CPU), antialiased bilinear, uint8 square sources -> 224x224 float32, each
output copied to NumPy. Each cell is the median of `--repeats` trials after two
warm-up calls (min-max kept); a trial times as many calls as fill
`MIN_TRIAL_S` (one call of a small batch takes about a millisecond, where one
stall of this noisy host would decide the cell), as milliseconds
per input megapixel (batch x side² / 1e6) and images/s; cells whose batch holds
more than `--max_pixels` input pixels are skipped (the 2-core VM has 24 GiB).
Linear cost shows as a flat line per batch size. Writes `scaling.json/.md/.png`.
"""

import os
import time

import numpy as np
from absl import app, flags

from benchmarks import common_flags  # noqa: F401  (--output_dir)

from benchmarks import report_files

FLAGS = flags.FLAGS
flags.DEFINE_list("sources", ["256", "512", "1024", "2048", "4096"], "Square source sides.")
flags.DEFINE_list("batches", ["1", "4", "16", "64", "256"], "Batch sizes.")
flags.DEFINE_float("max_pixels", 1.1e9, "Skip cells with more input pixels per batch.")
flags.DEFINE_integer("repeats", 5, "Timed trials per cell (after two warm-up calls).")
MIN_TRIAL_S = 0.1


def measure(sources, batches, trials, max_pixels):
    import tensorflow as tf

    import keras_resize_layers.layers as L

    layer = L.Resize(224, 224)
    fn = tf.function(lambda x: layer(x))
    cells = []
    rng = np.random.default_rng(0)
    for side in sources:
        for batch in batches:
            pixels = batch * side * side
            if pixels > max_pixels:
                cells.append(dict(source=side, batch=batch, skipped=True))
                continue
            x = tf.constant(rng.integers(0, 256, (batch, side, side, 3), dtype=np.uint8))
            start = time.perf_counter()
            fn(x).numpy()
            first = time.perf_counter() - start
            start = time.perf_counter()
            fn(x).numpy()
            calls = max(1, int(np.ceil(MIN_TRIAL_S / (time.perf_counter() - start))))
            times = []  # seconds per call, one value per trial
            for _ in range(trials):
                start = time.perf_counter()
                for _ in range(calls):
                    fn(x).numpy()
                times.append((time.perf_counter() - start) / calls)
            mp = pixels / 1e6
            cells.append(dict(source=side, batch=batch, skipped=False, first_call_s=first,
                              ms_per_mp=1e3 * float(np.median(times)) / mp,
                              ms_per_mp_min=1e3 * min(times) / mp,
                              ms_per_mp_max=1e3 * max(times) / mp,
                              images_per_s=batch / float(np.median(times))))
            del x
    return cells


def markdown(report):
    cells = {(c["source"], c["batch"]): c for c in report["cells"]}
    batches = report["batches"]
    lines = ["# Cost per input megapixel (ms/MP; images/s below)", "",
             f"{report['machine']}, {report['date']}; `{report['command']}`. "
             f"Median of the trials (each >= {MIN_TRIAL_S:g} s of calls; min–max in "
             "scaling.json); "
             f"— = skipped (batch over {report['max_pixels']:.2g} pixels).", "",
             "| source | " + " | ".join(f"batch {b}" for b in batches) + " |",
             "|---|" + "---|" * len(batches)]
    for side in report["sources"]:
        row = []
        for b in batches:
            c = cells[(side, b)]
            row.append("—" if c["skipped"] else
                       f"{c['ms_per_mp']:.2f} ({c['images_per_s']:,.0f}/s)")
        lines.append(f"| {side}² | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def plot(report, output_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for b in report["batches"]:
        cs = [c for c in report["cells"] if c["batch"] == b and not c["skipped"]]
        if not cs:
            continue
        x = [c["source"] for c in cs]
        y = np.array([c["ms_per_mp"] for c in cs])
        err = [y - [c["ms_per_mp_min"] for c in cs], [c["ms_per_mp_max"] for c in cs] - y]
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=f"batch {b}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(report["sources"], [f"{s}²" for s in report["sources"]])
    ax.set_xlabel("source size (square, uint8) -> 224x224")
    ax.set_ylabel("ms per input megapixel")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(title="whiskers: min-max of trials", fontsize=8)
    ax.set_title(f"Resize layer, antialiased bilinear, XLA taps ({report['machine']})",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(output_dir, "scaling.png"), dpi=120)
    plt.close(fig)


def main(argv):
    del argv
    import platform

    sources = [int(s) for s in FLAGS.sources]
    batches = [int(b) for b in FLAGS.batches]
    report = dict(machine=f"{platform.machine()}, {os.cpu_count()} cores",
                  date=time.strftime("%Y-%m-%d"), sources=sources, batches=batches,
                  max_pixels=FLAGS.max_pixels, trials=FLAGS.repeats,
                  command="python -m benchmarks.scaling --sources=" + ",".join(FLAGS.sources)
                  + " --batches=" + ",".join(FLAGS.batches) + f" --max_pixels="
                  f"{FLAGS.max_pixels:g} --repeats={FLAGS.repeats}",
                  cells=measure(sources, batches, FLAGS.repeats, FLAGS.max_pixels))
    report_files.write(FLAGS.output_dir, "scaling", report, markdown, plot)
    print(markdown(report))


if __name__ == "__main__":
    app.run(main)
