"""Numerically stable sigmoid, softmax and log-softmax: no overflow even for |a| = 1e4."""

import numpy as np


def sigmoid(a):
    """Logistic function sigma(a) = 1 / (1 + exp(-a)), elementwise.

    ``exp(-a)`` overflows for a < -709, so we only ever exponentiate ``-|a|`` (at most 1)
    and use sigma(a) = exp(a) / (1 + exp(a)) on the negative side.
    """
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(a, axis=-1):
    """softmax(a)_k = exp(a_k) / sum_j exp(a_j) along ``axis``.

    Subtracting max(a) first changes nothing mathematically and keeps exp() from overflowing.
    A row that is entirely -inf (every position masked out) has no distribution: it gives NaN,
    so callers that mask must keep at least one position per row.
    """
    z = a - np.max(a, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(a, axis=-1):
    """log softmax(a)_k = a_k - log sum_j exp(a_j), computed as z - log sum exp(z), z = a - max a.

    Never takes the log of an underflowed probability, so it stays finite where
    ``np.log(softmax(a))`` returns -inf.
    """
    z = a - np.max(a, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
