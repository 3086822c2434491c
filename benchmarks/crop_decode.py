"""Decoding only the crop: RandomResizedCrop drawn from the JPEG header and the window decoded
(`data.decode_random_resized_crop`, and `data.batched_decode_random_resized_crop`, which
resizes each batch in one call) against full `decode_jpeg` + `data.random_resized_crop` (the
same seeds, so the same boxes).

    python -m benchmarks.crop_decode [--trials=3] [--images=64] [--output_dir=results]

JPEGs (quality 90) of scikit-image's photos scaled to 500x375 ... 4000x3000; the pipelines
map with AUTOTUNE parallelism and batch 32 to 224x224; trials alternate the pipelines (the
order rotating from trial to trial). A trial makes a new iterator, pulls WARM_BATCHES
untimed (the iterator's start is `benchmarks.pipeline_passes`' subject, not this one's), then
times the next images: `--images` at 4000x3000, more for smaller photos (in proportion to
their pixels, at most MAX_SCALE times as many), so that no trial is a fraction of a second;
a ratio is the median of per-trial ratios.
"""

import io
import json
import os
import time

import numpy as np
from absl import app, flags

from benchmarks import common_flags

FLAGS = flags.FLAGS
common_flags.define_once(flags.DEFINE_integer, "trials", 3, "Alternated trials per size.")
common_flags.define_once(flags.DEFINE_integer, "images", 64,
                         "Images timed per trial at 4000x3000 (more for smaller photos).")

SIZES = [(375, 500), (768, 1024), (1536, 2048), (3000, 4000)]
BATCH = 32
WARM_BATCHES = 2
MAX_SCALE = 8


def images_for(size, images):
    """Images timed per trial for photos of `size`: `images` at 4000x3000, more for
    smaller ones (at most MAX_SCALE times), a multiple of the batch."""
    scale = min(MAX_SCALE, max(1.0, 3000 * 4000 / (size[0] * size[1])))
    return max(BATCH, int(images * scale) // BATCH * BATCH)


def _jpegs(size, count=8):
    from PIL import Image
    from skimage import data as photos

    out = []
    for i, name in enumerate(("astronaut", "coffee", "chelsea", "rocket") * (count // 4)):
        image = Image.fromarray(getattr(photos, name)()).resize((size[1], size[0]),
                                                                 Image.BICUBIC)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


FULL = "full decode_jpeg + data.random_resized_crop"


def pipelines(jpegs, images, seed=7):
    import tensorflow as tf

    from keras_resize_layers import data

    # Finite, a few batches past the timed ones: each trial's iterator ends on its own.
    count = images + (WARM_BATCHES + 2) * BATCH
    source = tf.data.Dataset.from_tensor_slices(jpegs).repeat().take(count)
    window = source.apply(data.decode_random_resized_crop(224, 224, seed=seed)).batch(BATCH)
    batched = source.apply(data.batched_decode_random_resized_crop(BATCH, 224, 224, seed=seed))
    full = source.map(lambda b: tf.io.decode_jpeg(b, channels=3),
                      num_parallel_calls=tf.data.AUTOTUNE).apply(
        data.random_resized_crop(224, 224, seed=seed)).batch(BATCH)
    return {"window decode (data.decode_random_resized_crop)": window,
            "window decode, batched resize (data.batched_decode_random_resized_crop)": batched,
            FULL: full}


def run(trials, images):
    import tensorflow as tf

    rows = []
    for size in SIZES:
        timed = images_for(size, images)
        pipes = pipelines(_jpegs(size), timed)
        times = {name: [] for name in pipes}
        for name, ds in pipes.items():  # warm-up: traces, the op's build
            for _ in ds.take(1):
                pass
        names = list(pipes)
        for trial in range(trials):  # the order rotates: no pipeline always runs first
            shift = trial % len(names)
            for name in names[shift:] + names[:shift]:
                iterator = iter(pipes[name])
                for _ in range(WARM_BATCHES):
                    next(iterator)
                start, count = time.perf_counter(), 0
                while count < timed:
                    count += int(tf.nest.flatten(next(iterator))[0].shape[0])
                times[name].append(time.perf_counter() - start)
                for _ in iterator:  # the rest, untimed: the iterator ends on its own
                    pass
        speedups = {}
        for name in pipes:
            if name != FULL:
                ratios = [tb / ta for ta, tb in zip(times[name], times[FULL])]
                speedups[name] = dict(median=float(np.median(ratios)), min=float(min(ratios)),
                                      max=float(max(ratios)))
        rows.append(dict(source=list(size), images=timed, trials=trials,
                         images_per_s={n: float(timed / np.median(t)) for n, t in times.items()},
                         speedup_over_full=speedups))
        print(f"{size[1]}x{size[0]}: " + "; ".join(
            f"{n.split(' (')[0]} {r['median']:.2f}x full decode ({r['min']:.2f}-{r['max']:.2f})"
            for n, r in speedups.items()) + "; images/s " + ", ".join(
            f"{n}: {v:.0f}" for n, v in rows[-1]["images_per_s"].items()), flush=True)
    return rows


def main(argv):
    del argv
    rows = run(FLAGS.trials, FLAGS.images)
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    path = os.path.join(FLAGS.output_dir, "crop_decode.json")
    with open(path, "w") as f:
        json.dump(dict(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                       cpu_count=os.cpu_count(), rows=rows), f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    app.run(main)
