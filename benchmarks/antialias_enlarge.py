"""What antialias=True costs when enlarging (64² -> 224², bilinear, uint8, in tf.data).

    python -m benchmarks.antialias_enlarge

Per element (`map` then `batch`, TF's kernels) and per batch of 32 (`batch` then `map`, the
taps), antialias on and off alternated, 5 rounds, median images/s; and the largest pixel
difference between the two (antialias has no effect when enlarging).
"""

import time

import numpy as np
import tensorflow as tf

from keras_resize_layers import data

imgs = np.random.default_rng(0).integers(0, 256, (512, 64, 64, 3), dtype=np.uint8)
def pipeline(aa, batched):
    ds = tf.data.Dataset.from_tensor_slices(imgs)
    if batched:
        ds = ds.batch(32).map(data.resize_fn(224, 224, antialias=aa))
    else:
        ds = ds.map(data.resize_fn(224, 224, antialias=aa), num_parallel_calls=2).batch(32)
    return ds
def rate(ds):
    for _ in ds.take(2): pass
    t = time.perf_counter(); n = 0
    for b in ds: n += int(b.shape[0])
    return n / (time.perf_counter() - t)
for batched in (False, True):
    res = {True: [], False: []}
    for r in range(5):
        for aa in (True, False):
            res[aa].append(rate(pipeline(aa, batched)))
    print("batched" if batched else "per element", {k: round(float(np.median(v))) for k, v in res.items()})
a = next(iter(pipeline(True, False))).numpy(); b = next(iter(pipeline(False, False))).numpy()
print("max diff aa vs no aa when enlarging", np.abs(a - b).max())
