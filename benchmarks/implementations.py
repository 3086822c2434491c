"""Micro-benchmark of the resize implementations against tf.image.resize.

    python -m benchmarks.implementations [--sizes=512,1024] [--batch=32] [--trials=7]

Antialiased bilinear, uint8 square photos -> 224x224 float32, TensorFlow on
the CPU. Prints images/s (median of the trials), the first call's time
(tracing and, for XLA, compilation) and PSNR against the float64 exact
reference for each implementation.
"""

import time

import numpy as np
from absl import app, flags

from benchmarks import common_flags

from benchmarks import photos, reference

FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["512", "1024"], "Square source sizes.")
common_flags.define_once(flags.DEFINE_integer, "batch", 32, "Images per call.")
common_flags.define_once(flags.DEFINE_integer, "trials", 7, "Timed trials after a warm-up.")


def rows(target):
    import tensorflow as tf

    import keras_resize_layers as krl

    def lib(impl):
        return lambda x: krl.resize(x, target, implementation=impl)

    return [
        ("tf.image.resize(antialias=True), uint8 in", tf.function(
            lambda x: tf.image.resize(x, target, antialias=True))),
        ("tf.image.resize(antialias=True), float32 in", tf.function(
            lambda x: tf.image.resize(tf.cast(x, tf.float32), target, antialias=True))),
        ('resize(implementation="auto") (the CPU op), eager', lib("auto")),
        ('resize(implementation="auto") in a tf.function', tf.function(lib("auto"))),
        ('same, input size unknown while tracing', tf.function(lib("auto"), input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.uint8)])),
        ("same, as a padded batch with image_sizes (per-image taps)", tf.function(
            lambda x: krl.resize(x, target, image_sizes=tf.fill([tf.shape(x)[0], 2],
                                                                tf.shape(x)[1])))),
        ('resize in tf.function(jit_compile=True) (taps inside XLA)',
         tf.function(lib("auto"), jit_compile=True)),
        ('resize(implementation="tf") (TF resize kernels)', tf.function(lib("tf"))),
        ('resize(implementation="matmul")', tf.function(lib("matmul"))),
        ('resize(implementation="matmul") under jit_compile=True',
         tf.function(lib("matmul"), jit_compile=True)),
    ]


def main(argv):
    del argv
    import tensorflow as tf

    target = (224, 224)
    for size in (int(s) for s in FLAGS.sizes):
        batch = tf.constant(photos.batch((size, size), FLAGS.batch))
        ref = reference.resize(batch[0].numpy(), target)
        print(f"\n{size}x{size} -> 224x224, batch {FLAGS.batch}")
        for name, fn in rows(target):
            start = time.perf_counter()
            out = fn(batch).numpy()
            first = time.perf_counter() - start
            times = []
            for _ in range(FLAGS.trials):
                start = time.perf_counter()
                fn(batch).numpy()
                times.append(time.perf_counter() - start)
            rate = FLAGS.batch / np.median(times)
            print(f"  {name:58s} {rate:7.0f} images/s   first call {first:5.2f} s   "
                  f"PSNR {reference.psnr(out[0], ref):6.1f} dB")


if __name__ == "__main__":
    app.run(main)
