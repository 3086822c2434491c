"""Run by `test_tf_native.py` in a fresh process: TensorFlow's thread settings must be made
before its runtime starts. Prints the op's pool size and the threads it ever started after a
tf.data pipeline with parallel maps ran it on every element.

    python tests/native_threads_probe.py INTRA_OP_THREADS
"""

import json
import os
import sys

import tensorflow as tf

tf.config.threading.set_intra_op_parallelism_threads(int(sys.argv[1]))

from keras_resize_layers import data  # noqa: E402
from keras_resize_layers._tf import native  # noqa: E402


def names():
    """The names of this process's threads (Linux)."""
    out = []
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                out.append(f.read().strip())
        except OSError:
            pass
    return out


import numpy as np  # noqa: E402

images = np.random.default_rng(0).integers(0, 256, (32, 4, 320, 320, 3), dtype=np.uint8)
ds = tf.data.Dataset.from_tensor_slices(images).map(
    data.resize_fn(224, 224), num_parallel_calls=tf.data.AUTOTUNE).prefetch(4)
seen = 0
for batch in ds:
    seen += int(batch.shape[0])
    assert batch.shape == (4, 224, 224, 3), batch.shape
print(json.dumps(dict(batches=seen // 4, pool_size=native.pool().krl_pool_size(),
                      threads_started=native.pool().krl_threads_started(),
                      named=names().count("krl-resample"),
                      intra_op=tf.config.threading.get_intra_op_parallelism_threads(),
                      cores=len(os.sched_getaffinity(0)))))
