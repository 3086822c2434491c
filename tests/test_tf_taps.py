"""The taps as XLA programs: padding ladder for sizes known only at run time."""

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
