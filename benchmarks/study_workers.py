"""The accuracy study's training processes (`accuracy.run(..., workers=N)`).

A module of its own, importable by name in a spawned process: `benchmarks.accuracy` may be
the parent's `__main__`, whose functions a child cannot look up (and importing it a second
time in the parent would define its flags twice). `benchmarks.accuracy` is imported here only
inside the workers.
"""

import os
import sys

_STATE = {}


def init(dataset, cfg, data_kwargs, data_path, jit_compile, block_tensorflow):
    """A training process: one thread for the backend, its own copy of the data."""
    if block_tensorflow:  # as in the parent (a machine without TensorFlow)
        sys.modules["tensorflow"] = None
    main = sys.modules.get("__mp_main__")  # `python -m benchmarks.accuracy`: already loaded
    if getattr(main, "__file__", "").endswith(os.path.join("benchmarks", "accuracy.py")):
        sys.modules.setdefault("benchmarks.accuracy", main)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "jax":
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread"
                                   "_eigen=false intra_op_parallelism_threads=1").strip()
    elif backend == "torch":
        import torch

        torch.set_num_threads(1)
    else:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    from benchmarks import accuracy, datasets

    split = datasets.load(dataset, max_train=cfg["max_train"], max_test=cfg["max_test"],
                          **(data_kwargs or {}))
    _STATE.update(split=split, data=accuracy.DataPath(data_path, split, cfg["batch_size"],
                                                      jit_compile))


def job(s, seed, cfg, model_name, names):
    """One training and its servings, in this process."""
    from benchmarks import accuracy

    return accuracy.timed_job(_STATE["split"], _STATE["data"], s, seed, cfg, model_name, names)
