"""`exp` and `sin(pi x)` of `_core/exact_math.py`: float64 NumPy accuracy, and
the same value for an element wherever it sits in a tensor (TensorFlow's own
`exp` and `sin` round differently in their vector loops and the tails)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_resize_layers._core import backend
from keras_resize_layers._core import exact_math

XNP = backend.get("tensorflow").numpy


def test_sin_pi_matches_float64():
    x = np.linspace(-12, 12, 400_001).astype(np.float32)
    got = exact_math.sin_pi(XNP, tf.constant(x)).numpy()
    np.testing.assert_allclose(got, np.sin(np.pi * x.astype(np.float64)), atol=3e-7, rtol=0)
    exact = exact_math.sin_pi(XNP, tf.constant([0.0, 0.5, 1.0, -1.5, 2.0, 3.5])).numpy()
    np.testing.assert_array_equal(exact, [0.0, 1.0, 0.0, 1.0, 0.0, -1.0])


def test_exp_matches_float64():
    y = np.linspace(-21, 21, 400_001).astype(np.float32)
    got = exact_math.exp(XNP, tf.constant(y)).numpy()
    np.testing.assert_allclose(got, np.exp(y.astype(np.float64)), rtol=2e-7, atol=0)
    assert exact_math.exp(XNP, tf.constant([0.0])).numpy()[0] == 1.0


@pytest.mark.parametrize("fn", ["sin_pi", "exp"])
def test_an_element_gets_the_same_value_in_any_tensor(fn):
    rng = np.random.default_rng(0)
    x = (rng.random(4099) * 6 - 3).astype(np.float32)
    f = getattr(exact_math, fn)
    whole = f(XNP, tf.constant(x)).numpy()
    for start, stop in [(0, 1), (5, 22), (100, 4099), (4090, 4099)]:
        np.testing.assert_array_equal(f(XNP, tf.constant(x[start:stop])).numpy(),
                                      whole[start:stop])


def test_jax_gives_the_same_values():
    pytest.importorskip("jax")
    jnp = backend.get("jax").numpy
    x = np.linspace(-3, 3, 10_001).astype(np.float32)
    for fn in (exact_math.sin_pi, exact_math.exp):
        np.testing.assert_allclose(np.asarray(fn(jnp, x)), fn(XNP, tf.constant(x)).numpy(),
                                   rtol=1e-6, atol=1e-7)
