"""`exp` and `sin(pi x)` from additions, multiplications, `floor` and a table.

TensorFlow's CPU kernels compute `exp` and `sin` with vector code for most
elements and the C library for the rest, and the two differ in the last bit:
which elements get which depends on the tensor's size and its split among
threads. A per-image plan (or random draw) computed inside a batch then
changed with the batch's other images. These functions use only operations
that IEEE arithmetic rounds the same everywhere (and an exact table of powers
of two), so a value depends on its input alone: the same weights for an image
in any batch (BUILD_NOTES, "Exact equality across batches"). Accurate to a few
float32 ulps (tests compare them with float64 NumPy).
"""

import math

# sin(pi r) = sum_k SIN_PI[k] r^(2k+1), |r| <= 1/2 (Taylor; the first
# omitted term is below 7e-10).
_SIN_PI = tuple((-1) ** k * math.pi ** (2 * k + 1) / math.factorial(2 * k + 1) for k in range(7))
# exp(r) for |r| <= ln(2)/2 (Taylor; the first omitted term is below 6e-9).
_EXP = tuple(1.0 / math.factorial(k) for k in range(8))
_POWERS_OF_TWO = tuple(2.0 ** k for k in range(-31, 32))
# ln 2 in two parts: k * _LN2_HI is exact for |k| < 2^15.
_LN2_HI = 0.693145751953125
_LN2_LO = 1.4286068203094172e-06
# exp's argument is clipped to [-_EXP_LIMIT, _EXP_LIMIT]: 2^k for |k| < 32.
_EXP_LIMIT = 21.0


def _horner(xnp, z, coefficients):
    result = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        result = result * z + c
    return result


def sin_pi(xnp, x):
    """`sin(pi * x)` of a float32 tensor with |x| < 2^22."""
    n = xnp.floor(x + 0.5)
    r = x - n  # in [-1/2, 1/2], exact
    odd = n - 2.0 * xnp.floor(n * 0.5)  # 0 or 1
    value = r * _horner(xnp, r * r, _SIN_PI)
    return value * (1.0 - 2.0 * odd)


def exp(xnp, y):
    """`exp(y)` of a float32 tensor, y clipped to [-21, 21] (exp(-21) ~ 7.6e-10)."""
    y = xnp.clip(y, -_EXP_LIMIT, _EXP_LIMIT)
    k = xnp.floor(y * (1.0 / math.log(2.0)) + 0.5)
    r = (y - k * _LN2_HI) - k * _LN2_LO
    value = _horner(xnp, r, _EXP)
    # times 2^k (|k| <= 31), exact: read from a table
    return value * xnp.take(xnp.array(_POWERS_OF_TWO, dtype="float32"),
                            xnp.array(k + 31.0, dtype="int32"))
