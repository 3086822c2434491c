"""Development comparison of formulations of the taps passes, under JAX (any device).

    KERAS_BACKEND=jax python -m benchmarks.taps_variants

Batches of 256 photos, 512² and 1024² -> 224², bilinear antialiased: images/s
and PSNR against the float64 reference for the library's passes
(`keras_resize_layers/taps.py`: rows pass, then a columns pass gathering along
the width), the first version (a transpose between passes, each a rows pass),
one gather of all K rows + a contraction, a `fori_loop` over K, and matmul.
"""

import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import keras_resize_layers as krl  # noqa: E402
from benchmarks import photos, reference  # noqa: E402
from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import taps

BATCH = 256


def _rows_pass(x, index, weight, combine):
    """(N, R, A, C) -> (N, O, A, C) with index/weight (1, O, K); `combine` sums the taps."""
    n, rows, along, channels = x.shape
    flat = x.reshape(n, rows, along * channels)
    return combine(flat, index[0], weight[0]).reshape(n, index.shape[1], along, channels)


def _unrolled(flat, index, weight):
    return sum(jnp.take(flat, index[:, k], axis=1).astype(jnp.float32) * weight[None, :, k, None]
               for k in range(index.shape[1]))


def _one_gather(flat, index, weight):
    out, k = index.shape
    rows = jnp.take(flat, index.reshape(-1), axis=1).reshape(flat.shape[0], out, k, -1)
    return jnp.einsum("nokj,ok->noj", rows.astype(jnp.float32), weight,
                      precision=jax.lax.Precision.HIGHEST)


def _fori(flat, index, weight):
    def body(k, acc):
        rows = jnp.take(flat, index[:, k], axis=1).astype(jnp.float32)
        return acc + rows * weight[None, :, k, None]
    init = jnp.zeros((flat.shape[0], index.shape[0], flat.shape[2]), jnp.float32)
    return jax.lax.fori_loop(0, index.shape[1], body, init)


def with_transposes(combine):
    def passes(x, iy, wy, ix, wx):
        y = jnp.transpose(_rows_pass(x, iy, wy, combine), (0, 2, 1, 3))
        return jnp.transpose(_rows_pass(y, ix, wx, combine), (0, 2, 1, 3))
    return passes


def _time(fn, x):
    jax.block_until_ready(fn(x))
    times = []
    for _ in range(10):
        start = time.perf_counter()
        jax.block_until_ready(fn(x))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    bk = backend_lib.get("jax")
    print(jax.devices())
    for src in (512, 1024):
        x = jax.device_put(photos.batch((src, src), BATCH))
        plan = taps.plan(src, src, (224, 224), "bilinear", True, "stretch", 1.0)
        args = [jnp.asarray(plan[k]) for k in ("iy", "wy", "ix", "wx")]
        ref = reference.resize(np.asarray(x[0]), (224, 224), "bilinear")
        variants = {
            "taps.passes (library)": lambda v: taps.passes(bk, v, *args),
            "with transposes (first version)": lambda v: with_transposes(_unrolled)(v, *args),
            "one gather + einsum": lambda v: with_transposes(_one_gather)(v, *args),
            "fori_loop over K": lambda v: with_transposes(_fori)(v, *args),
            "matmul (default precision)": lambda v: krl.resize(v, (224, 224),
                                                               implementation="matmul"),
        }
        for name, fn in variants.items():
            fn = jax.jit(fn)
            seconds = _time(fn, x)
            psnr = reference.psnr(np.asarray(fn(x)[0]), ref)
            print(f"{src}² K={plan['taps']:2d} {name:34s} {BATCH / seconds:9.0f} images/s"
                  f"  PSNR {psnr:6.1f} dB", flush=True)


if __name__ == "__main__":
    main()
