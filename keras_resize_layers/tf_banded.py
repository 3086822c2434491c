"""Banded taps compiled with XLA (`implementation="banded"`).

TensorFlow only. For a dense batch whose input size is known when the graph is
built, every output pixel reads only the K input pixels of its kernel's span:
the weight matrices of `resample.py` are cut to `(out, K)` taps and the resize
becomes gather -> multiply -> sum per axis, compiled with XLA, which fuses the
uint8 -> float32 cast into the first pass instead of materialising the whole
float image. Same weights as the reference kernels (exact to float rounding).

Measured on 2 CPU cores (BUILD_NOTES): ~1.3x TF's ScaleAndTranslate for
512 -> 224, slower from 1024 -> 224 (the span grows to 11 taps). It needs
static input sizes, so `auto` never picks it: the implementation must not
depend on whether a shape happens to be static, or the layer and the
tf.data map function could differ in the last bits.
"""

import functools

import numpy as np
import tensorflow as tf

from keras_resize_layers import backend as backend_lib
from keras_resize_layers import geometry as geometry_lib
from keras_resize_layers import resample

def _taps(weights):
    """(out, in) dense weights -> int32 (out, K) indices and float32 (out, K) taps."""
    size = weights.shape[1]
    nonzero = weights != 0
    has = nonzero.any(axis=1)
    first = np.where(has, nonzero.argmax(axis=1), 0)
    last = np.where(has, size - 1 - nonzero[:, ::-1].argmax(axis=1), 0)
    k = int(max((last - first + 1).max(), 1))
    start = np.clip(first, 0, size - k)
    index = start[:, None] + np.arange(k)[None, :]
    return index.astype(np.int32), np.take_along_axis(weights, index, 1).astype(np.float32)


@functools.lru_cache(maxsize=256)
def plan(in_h, in_w, size, policy, crop_fraction, method, antialias):
    """Static taps and padding mask for one input size (computed eagerly, cached)."""
    bk = backend_lib.get("tensorflow")
    with tf.init_scope():
        g = geometry_lib.for_policy(bk, policy, tf.constant([in_h]), tf.constant([in_w]),
                                    size, crop_fraction)
        g = {k: v.numpy()[:1] for k, v in g.items()}
        wy = resample.axis_weights(bk, size[0], in_h, g["box_y"], g["box_h"], g["place_y"],
                                   g["place_h"], method, antialias)[0].numpy()
        wx = resample.axis_weights(bk, size[1], in_w, g["box_x"], g["box_w"], g["place_x"],
                                   g["place_w"], method, antialias)[0].numpy()
        mask = resample.placement_mask(bk, size, g)[0].numpy()
    iy, ty = _taps(wy)
    ix, tx = _taps(wx)
    return dict(iy=iy, wy=ty, ix=ix, wx=tx, mask=mask)


@tf.function(jit_compile=True)
def _run(images, iy, wy, ix, wx):
    x = tf.cast(images, tf.float32)
    x = tf.reduce_sum(tf.gather(x, iy, axis=1) * wy[None, :, :, None, None], axis=2)
    return tf.reduce_sum(tf.gather(x, ix, axis=2) * wx[None, None, :, :, None], axis=3)


def resample_banded(images, size, policy, crop_fraction, method, antialias, fill_value):
    """Dense `(N, H, W, C)` batch with static H and W -> float32 `(N, h, w, C)`."""
    in_h, in_w = int(images.shape[1]), int(images.shape[2])
    p = plan(in_h, in_w, tuple(size), policy, crop_fraction, method, antialias)
    out = _run(images, tf.constant(p["iy"]), tf.constant(p["wy"]), tf.constant(p["ix"]),
               tf.constant(p["wx"]))
    if policy == "pad" and fill_value != 0.0:
        out = out + (1.0 - tf.constant(p["mask"]))[None, :, :, None] * fill_value
    return out
