"""The TensorFlow paths of the taps: XLA programs (padding ladder, cache-set widening), run-time plans."""

import numpy as np
import pytest
import tensorflow as tf

from keras_resize_layers._tf import cpu_resample as tf_taps


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


def test_run_time_sizes_are_planned_once_per_distinct_size_and_box():
    """The op's per-image plan is computed per distinct (size, box) row and
    gathered: repeated and near-identical rows (boxes differing in one field)
    each get their own taps, equal to resizing each image alone."""
    import keras_resize_layers as krl

    rng = np.random.default_rng(5)
    canvas = rng.integers(0, 256, (6, 300, 400, 3), dtype=np.uint8)
    boxes = np.array([[0, 0, 300, 400], [10, 20, 200, 300], [0, 0, 300, 400],
                      [10, 21, 200, 300], [10, 20, 200, 300], [0, 0, 299, 400]])
    got = krl.resized_crop(canvas, boxes, (56, 72)).numpy()
    for i, (y, x, h, w) in enumerate(boxes):
        ref = krl.resize(canvas[i, y:y + h, x:x + w], (56, 72), implementation="matmul")
        np.testing.assert_allclose(got[i], ref.numpy(), atol=5e-4, rtol=0)
    sizes = [(300, 400)] * 3 + [(120, 90), (300, 400), (120, 90)]
    padded = np.zeros((6, 300, 400, 3), np.uint8)
    for i, (h, w) in enumerate(sizes):
        padded[i, :h, :w] = canvas[i, :h, :w]
    got = krl.resize(padded, (56, 72), image_sizes=sizes).numpy()
    for i, (h, w) in enumerate(sizes):
        ref = krl.resize(canvas[i, :h, :w], (56, 72), implementation="matmul")
        np.testing.assert_allclose(got[i], ref.numpy(), atol=5e-4, rtol=0)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic", "area", "lanczos3",
                                    "lanczos5", "gaussian", "mitchellcubic"])
def test_an_image_gets_the_same_pixels_in_any_batch(photos, method, dtype):
    """Bit for bit: an image resized with run-time sizes alone, and padded into
    batches whose other images are larger (more taps, wider rows) or smaller.
    Its plan's K, the plan tensor's size and the padded row length all change
    with the batch; the normalising sums run in tap order
    (`resample._sum_in_tap_order`), `exp` and `sin` are `exact_math`'s and the
    op's row tails use FMAs like its vectors (each of the three made pixels
    depend on the batch; the row tails failed the tf.data service test)."""
    import keras_resize_layers as krl

    image = photos["chelsea"][:150, :226].astype(dtype)
    others = [photos["astronaut"][:256, :300], photos["coffee"][:60, :90]]
    for size in [(40, 56), (33, 77)]:
        alone = krl.resize(image[None], size, method=method, image_sizes=[image.shape[:2]],
                           backend="tensorflow").numpy()[0]
        for batch in ([others[0], image], [image, others[1]], [others[1], image, others[0]]):
            padded = np.zeros((len(batch), 256, 300, 3), dtype)
            for i, x in enumerate(batch):
                padded[i, :x.shape[0], :x.shape[1]] = x
            out = krl.resize(padded, size, method=method, image_sizes=[x.shape[:2] for x in batch],
                             backend="tensorflow").numpy()
            np.testing.assert_array_equal(out[[x is image for x in batch].index(True)], alone)
