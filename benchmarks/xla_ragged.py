"""What ragged batches cost under XLA: a training step with and without it.

    python -m benchmarks.xla_ragged [--steps=20] [--rounds=5] [--batch=16] [--size=128]

A `Resize` on `keras.Input((None, None, 3))` may be fed ragged batches, so it reports
`supports_jit = False` and Keras compiles the model's step without XLA. This measures
the training step of one small classifier (Resize -> MobileNetV3Small, `--size` px)
three ways, A/B/C alternated round by round in one process:

- ragged batches of photos of different sizes, any-size input (no XLA: what such a model gets);
- the same photos pre-resized to one size (dense), fixed-size input, without XLA;
- the same, with XLA (`jit_compile=True`: what a fixed-size model gets).

The dense rows skip the resize's ragged -> dense step; the gap between the two dense rows
is what XLA brings to the rest of the model on this machine.
"""

import time

import numpy as np
from absl import app, flags

from benchmarks import common_flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("steps", 20, "Timed training steps per round.")
common_flags.define_once(flags.DEFINE_integer, "rounds", 5, "Alternating rounds.")
common_flags.define_once(flags.DEFINE_integer, "batch", 16, "Images per step.")
common_flags.define_once(flags.DEFINE_integer, "size", 128, "The model's input size.")


def _model(input_shape, size):
    import keras

    from keras_resize_layers.layers import Resize

    inputs = keras.Input(input_shape, dtype="uint8")
    x = Resize(size, size, policy="crop", crop_fraction=0.875)(inputs)
    x = keras.applications.MobileNetV3Small(
        input_shape=(size, size, 3), weights=None, include_top=False, pooling="avg",
        include_preprocessing=True)(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


def main(argv):
    del argv
    import tensorflow as tf

    from benchmarks import photos
    from keras_resize_layers import data

    rng = np.random.default_rng(0)
    sources = [photos.load(name) for name in photos.PHOTOS]
    images = []
    for i in range(FLAGS.batch * 4):
        photo = sources[i % len(sources)]
        h, w = rng.integers(photo.shape[0] // 2, photo.shape[0] + 1), rng.integers(
            photo.shape[1] // 2, photo.shape[1] + 1)
        images.append(photo[:h, :w])
    labels = rng.integers(0, 10, len(images))
    ragged = tf.data.Dataset.from_tensor_slices((data.to_ragged(images), labels)).ragged_batch(
        FLAGS.batch).cache().repeat()
    dense_images = np.stack([np.asarray(data.resize_to_side(i, shorter=FLAGS.size)[
        :FLAGS.size, :FLAGS.size], np.uint8) for i in images])
    dense = tf.data.Dataset.from_tensor_slices((dense_images, labels)).batch(
        FLAGS.batch).cache().repeat()
    size = FLAGS.size
    setups = {"ragged, any-size input, no XLA": ((None, None, 3), True, ragged),
              "dense, fixed-size input, no XLA": ((size, size, 3), False, dense),
              "dense, fixed-size input, XLA": ((size, size, 3), True, dense)}
    models = {}
    for name, (shape, jit, ds) in setups.items():
        model = _model(shape, size)
        model.compile("adam", "sparse_categorical_crossentropy", jit_compile=jit)
        start = time.perf_counter()
        model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0)
        models[name] = (model, ds)
        print(f"{name}: jit_compile={model.jit_compile}, first 2 steps "
              f"{time.perf_counter() - start:.1f} s")
    times = {name: [] for name in setups}
    for _ in range(FLAGS.rounds):
        for name, (model, ds) in models.items():
            start = time.perf_counter()
            model.fit(ds, steps_per_epoch=FLAGS.steps, epochs=1, verbose=0)
            times[name].append((time.perf_counter() - start) / FLAGS.steps)
    base = np.median(times["dense, fixed-size input, XLA"])
    print(f"\nbatch {FLAGS.batch}, {size}x{size}, median of {FLAGS.rounds} rounds of "
          f"{FLAGS.steps} steps (ms per step, min-max, ratio to XLA):")
    for name, values in times.items():
        ms = 1000 * np.array(values)
        print(f"  {name}: {np.median(ms):.1f} ({ms.min():.1f}-{ms.max():.1f}), "
              f"{np.median(values) / base:.2f}x")


if __name__ == "__main__":
    app.run(main)
