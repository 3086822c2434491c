"""Per-image boxes and sizes: RandomResizedCrop and padded batches against a fixed Resize.

    python -m benchmarks.per_image [--source=2048] [--batch=256] [--rounds=5]
        [--backends=tensorflow,jax]

For each backend, in one process per row (so that each peak is its own): the
`Resize` layer (one size for the batch), `RandomResizedCrop` (training=True, a
box per image) and `Resize` on a zero-padded batch with `image_sizes` (a size
per image), antialiased bilinear -> 224x224, uint8 in, compiled (`tf.function`
on TensorFlow, `jax.jit` on JAX). Images/s is the median over `--rounds` calls
of the whole batch, and the rows of one backend alternate round by round in a
single process; peak memory is the process's peak RSS above what it held once
the input batch (one uniform value: speed does not depend on the pixels) was
filled on the backend. Writes `per_image.json` and `per_image.md`.
"""

import json
import os
import subprocess
import sys
import time

import numpy as np
from absl import app, flags

from benchmarks import common_flags  # noqa: F401  (--output_dir)

FLAGS = flags.FLAGS
flags.DEFINE_integer("source", 2048, "Square source side (pixels).")
common_flags.define_once(flags.DEFINE_integer, "batch", 256, "Images per batch.")
common_flags.define_once(flags.DEFINE_integer, "rounds",
                          5, "Timed calls per row (after one warm-up call).")
flags.DEFINE_list("backends", ["tensorflow", "jax"], "Keras backends to run.")
flags.DEFINE_string("_child", "", "Internal: run these rows in this process.")

ROWS = ("fixed Resize", "RandomResizedCrop", "padded batch + image_sizes")


def _status_mb(field):
    """VmRSS / VmHWM (peak) of this process in MB, from /proc (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak():
    """Resets VmHWM to the current RSS (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _functions(backend, x, sizes):
    """Compiled callables of the rows on `backend` for the batch `x` (a
    backend tensor) and per-image `sizes`; and a function that waits for a result."""
    import keras_resize_layers.layers as L

    resize = L.Resize(224, 224)
    crop = L.RandomResizedCrop(224, 224, seed=1)
    if backend == "jax":
        import jax

        s = jax.device_put(sizes)
        fixed = jax.jit(lambda a: resize(a))
        state = crop.generator.state.value

        def rrc(a, seed_state):
            crop.generator.state.assign(seed_state)
            return crop(a, training=True)
        rrc_jit = jax.jit(rrc)
        padded = jax.jit(lambda a, b: resize(a, image_sizes=b))
        fns = {ROWS[0]: lambda: fixed(x), ROWS[1]: lambda: rrc_jit(x, state),
               ROWS[2]: lambda: padded(x, s)}
        sync = lambda y: y.block_until_ready()  # noqa: E731
    else:
        import tensorflow as tf

        s = tf.constant(sizes)
        fixed = tf.function(lambda a: resize(a))
        rrc = tf.function(lambda a: crop(a, training=True))
        padded = tf.function(lambda a, b: resize(a, image_sizes=b))
        fns = {ROWS[0]: lambda: fixed(x), ROWS[1]: lambda: rrc(x),
               ROWS[2]: lambda: padded(x, s)}
        sync = lambda y: y.numpy()  # noqa: E731
    return fns, sync


def child(rows):
    """Times `rows` alternated round by round; prints one JSON line."""
    backend = os.environ["KERAS_BACKEND"]
    shape = (FLAGS.batch, FLAGS.source, FLAGS.source, 3)
    # Filled in place on the backend (no NumPy copy, no conversion buffer left in
    # an allocator's pool): the baseline is the runtime plus the input itself.
    if backend == "jax":
        import jax.numpy as jnp
        x = jnp.full(shape, 117, jnp.uint8).block_until_ready()
    else:
        import tensorflow as tf
        x = tf.fill(shape, tf.constant(117, tf.uint8))
    rng = np.random.default_rng(1)
    sizes = rng.integers(FLAGS.source // 4, FLAGS.source + 1, (FLAGS.batch, 2)).astype("int32")
    base = _status_mb("VmRSS")
    _reset_peak()
    fns, sync = _functions(backend, x, sizes)
    result = {}
    for name in rows:
        start = time.perf_counter()
        sync(fns[name]())
        result[name] = {"first_call_s": time.perf_counter() - start, "times": []}
    for _ in range(FLAGS.rounds):
        for name in rows:
            start = time.perf_counter()
            sync(fns[name]())
            result[name]["times"].append(time.perf_counter() - start)
    for name in rows:
        t = result[name]["times"]
        result[name].update(images_per_s=FLAGS.batch / float(np.median(t)),
                            min=FLAGS.batch / max(t), max=FLAGS.batch / min(t))
    peak = _status_mb("VmHWM") - base
    if len(rows) == 1:
        result[rows[0]]["peak_mb_above_input"] = peak
    print(json.dumps(result))


def _run_child(backend, rows):
    env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu",
               TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [sys.executable, "-m", "benchmarks.per_image", f"--source={FLAGS.source}",
           f"--batch={FLAGS.batch}", f"--rounds={FLAGS.rounds}", "--_child=" + ",".join(rows)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"{backend} {rows} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv):
    del argv
    if FLAGS._child:
        return child(FLAGS._child.split(","))
    import platform

    report = {"source": FLAGS.source, "batch": FLAGS.batch, "rounds": FLAGS.rounds,
              "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "date": time.strftime("%Y-%m-%d"), "backends": {}}
    lines = [f"# Per-image boxes and sizes: {FLAGS.batch} images of {FLAGS.source}² -> 224²",
             "", f"{report['machine']}, {report['date']}; `python -m benchmarks.per_image "
             f"--source={FLAGS.source} --batch={FLAGS.batch} --rounds={FLAGS.rounds}`. "
             "Images/s: median (min-max) of the rounds, rows alternated in one process; "
             "vs fixed: per-round ratio to the fixed Resize, median (min-max); "
             "peak: RSS above the input batch, one process per row.", "",
             "| backend | row | images/s | vs fixed | peak MB above input |", "|---|---|---|---|---|"]
    for backend in FLAGS.backends:
        speed = _run_child(backend, list(ROWS))
        for name in ROWS:
            speed[name]["peak_mb_above_input"] = _run_child(backend, [name])[name][
                "peak_mb_above_input"]
        report["backends"][backend] = speed
        fixed = np.array(speed[ROWS[0]]["times"])
        for name in ROWS:
            r = speed[name]
            # Per round: the rows ran back to back, so each round gives one ratio.
            ratio = fixed / np.array(r["times"])
            r["vs_fixed"] = dict(median=float(np.median(ratio)), min=float(ratio.min()),
                                 max=float(ratio.max()))
            lines.append(f"| {backend} | {name} | {r['images_per_s']:,.0f} ({r['min']:,.0f}–"
                         f"{r['max']:,.0f}) | {r['vs_fixed']['median']:.2f}× "
                         f"({r['vs_fixed']['min']:.2f}–{r['vs_fixed']['max']:.2f}) | "
                         f"{r['peak_mb_above_input']:,.0f} |")
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    with open(os.path.join(FLAGS.output_dir, "per_image.json"), "w") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(FLAGS.output_dir, "per_image.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    app.run(main)
