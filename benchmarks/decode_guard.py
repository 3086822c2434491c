"""What the per-element guard of `data.decode_images` costs.

    python -m benchmarks.decode_guard [--count=256] [--rounds=5]

Real photos (scikit-image's astronaut, coffee, chelsea) as JPEG q90 and PNG,
decoded and resized to 224x224 by `data.decode_and_resize_fn` (unguarded: a
bad element stops the pipeline) and by `data.decode_images(..., (224, 224),
on_error="skip")` (every element guarded: a bad one is skipped and
counted). The two pipelines alternate, `--rounds` times each, in one process;
prints milliseconds per element (median and range) and their ratio.
"""

import time

import numpy as np
from absl import app, flags

from benchmarks import common_flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("count", 256, "Elements per pass.")
common_flags.define_once(flags.DEFINE_integer, "rounds", 5, "Alternating passes of each pipeline.")


def main(_):
    import io

    import tensorflow as tf
    from PIL import Image
    from skimage import data as skdata

    from keras_resize_layers import data

    encoded = []
    for name in ("astronaut", "coffee", "chelsea"):
        for fmt in ("JPEG", "PNG"):
            buffer = io.BytesIO()
            Image.fromarray(getattr(skdata, name)()).save(buffer, fmt)
            encoded.append(buffer.getvalue())
    source = tf.data.Dataset.from_tensor_slices(
        [encoded[i % len(encoded)] for i in range(FLAGS.count)])
    plain = source.map(data.decode_and_resize_fn(224, 224),
                       num_parallel_calls=tf.data.AUTOTUNE)
    guarded = data.decode_images(source, (224, 224), on_error="skip").dataset
    times = {"decode_and_resize_fn (unguarded)": [], "decode_images(on_error='skip')": []}
    for _ in range(FLAGS.rounds):
        for (name, spent), ds in zip(times.items(), (plain, guarded)):
            start = time.perf_counter()
            n = sum(1 for _ in ds)
            spent.append((time.perf_counter() - start) / n * 1e3)
    for name, spent in times.items():
        print(f"{name:36s} {np.median(spent):6.2f} ms/element "
              f"(range {min(spent):.2f}-{max(spent):.2f})")
    a, b = (np.median(v) for v in times.values())
    print(f"guarded / unguarded: {b / a:.2f}x, +{b - a:.2f} ms per element")


if __name__ == "__main__":
    app.run(main)
