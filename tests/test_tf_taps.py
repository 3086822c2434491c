"""The taps as XLA programs: padding ladder, cache-set widening."""

import numpy as np
import tensorflow as tf

from keras_resize_layers._tf import taps as tf_taps


def test_pad_size_ladder_is_half_octaves_and_covers_every_size():
    assert tf_taps.SIZE_LADDER[:8] == (32, 48, 64, 96, 128, 192, 256, 384)
    for n, expected in [(1, 32), (32, 32), (33, 48), (100, 128), (224, 256), (257, 384),
                        (1000, 1024), (200000, 200704)]:
        assert int(tf_taps._pad_size(tf.constant(n))) == expected
    for n in range(1, 5000, 7):
        padded = int(tf_taps._pad_size(tf.constant(n)))
        assert n <= padded <= max(32, 1.5 * n + 1)


def test_rows_of_4_kib_with_many_taps_are_widened_and_give_the_same_pixels(monkeypatch):
    """4096 B rows and K >= 32: the XLA program's input is widened by 16 zero
    columns first (cache-set aliasing); the pixels are those of the unwidened
    program, bit for bit, and within 5e-4 of the matmul (the CPU op, which is not
    widened, too)."""
    from keras_resize_layers._tf import native

    import keras_resize_layers as krl
    from keras_resize_layers._core import taps as taps_lib

    images = np.random.default_rng(2).integers(0, 256, (2, 640, 1024, 4), dtype=np.uint8)
    plan = taps_lib.plan(640, 1024, (40, 40), "bilinear", True, "stretch", 1.0)
    assert plan["taps"] >= 32 and 1024 * 4 % 4096 == 0
    assert tf_taps._unaliased(tf.constant(images), plan["taps"]).shape == (2, 640, 1040, 4)
    assert tf_taps._unaliased(tf.constant(images[..., :3]), plan["taps"]).shape[2] == 1024
    by_op = tf_taps.resample_taps(images, (40, 40), plan, 0.0, "stretch").numpy()
    monkeypatch.setattr(native, "usable", lambda dtype: False)
    out = tf_taps.resample_taps(images, (40, 40), plan, 0.0, "stretch").numpy()
    plain = tf_taps._passes_program(plan["taps"], tf.uint8)(
        tf.constant(images), *(tf.constant(plan[k]) for k in ("iy", "wy", "ix", "wx")))
    np.testing.assert_array_equal(out, plain.numpy())
    ref = krl.resize(images, (40, 40), implementation="matmul").numpy()
    np.testing.assert_allclose(out, ref, atol=5e-4, rtol=0)
    np.testing.assert_allclose(by_op, ref, atol=5e-4, rtol=0)
