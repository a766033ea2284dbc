"""The small layers around a recurrent cell: affine maps, embeddings, and the gate product.

Row-vector form, as in the lectures (the code is literally the equation):

    affine:            out = x W + b                      x (N, D), W (D, M), b (M,)
    temporal affine:   y_t = h_t W_y + b_y  for every t    X (T, B, D) -> (T, B, M)
    embedding:         x_t[b] = W[idx[t, b]]              idx (T, B) -> (T, B, D)
    multiply:          out = a * b (entry-wise)           e.g. o_t * tanh(c_t) in the LSTM

Each layer is a ``*_forward(...) -> (out, cache)`` and ``*_backward(dout, cache) -> gradients``
pair, checked against numeric gradients and torch autograd in tests/test_layers.py.
"""

from typing import NamedTuple

import numpy as np

from lstm_course.scratch._checks import check_float_array, check_int_array, check_shape


class AffineCache(NamedTuple):
    """What affine_backward and temporal_affine_backward need from the forward pass."""

    x: np.ndarray  # (N, D) or (T, B, D)
    W: np.ndarray  # (D, M)
    out_shape: tuple  # (N, M) or (T, B, M)


class EmbeddingCache(NamedTuple):
    """What embedding_backward needs: which rows were read, and the table they came from."""

    idx: np.ndarray  # (T, B) integer
    W: np.ndarray  # (V, D)


class MultiplyCache(NamedTuple):
    """What multiply_backward needs: each factor is the other's local gradient."""

    a: np.ndarray
    b: np.ndarray


def _check_affine_params(x, W, b):
    """W must be (D, M) with D = x's last axis, b must be (M,)."""
    check_float_array("W", W, ndim=2)
    D, M = x.shape[-1], W.shape[1]
    check_shape("W", W, (D, M), ("D", "M"))
    check_float_array("b", b, ndim=1)
    check_shape("b", b, (M,), ("M",))


def affine_forward(x, W, b):
    """Affine (fully connected) layer, out = x W + b.

    Args:
        x: (N, D) inputs, one per row.
        W: (D, M) weights.
        b: (M,) bias, broadcast over the rows.
    Returns:
        out: (N, M); cache for affine_backward.
    """
    check_float_array("x", x, ndim=2)
    _check_affine_params(x, W, b)
    out = x @ W + b
    return out, AffineCache(x, W, out.shape)


def affine_backward(dout, cache):
    """Backward of affine_forward.

        dx = dout W^T,   dW = x^T dout,   db = sum_N dout

    db sums over the rows because the same b was added to every row.

    Args:
        dout: (N, M) gradient of the loss with respect to out.
        cache: from affine_forward.
    Returns:
        dx (N, D), dW (D, M), db (M,).
    """
    x, W, out_shape = cache
    check_shape("dout", dout, out_shape, ("N", "M"))
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def temporal_affine_forward(X, W, b):
    """The same affine map at every time step, y_t = x_t W + b.

    The output layer of a language model, y_t = h_t W_y + b_y, is this applied to H_all.

    Args:
        X: (T, B, D) inputs, time-major.
        W: (D, M) weights, shared by all steps.
        b: (M,) bias, shared by all steps.
    Returns:
        out: (T, B, M); cache for temporal_affine_backward.
    """
    check_float_array("X", X, ndim=3)
    _check_affine_params(X, W, b)
    out = X @ W + b  # (T, B, M): matmul broadcasts over T, one call for all steps
    return out, AffineCache(X, W, out.shape)


def temporal_affine_backward(dout, cache):
    """Backward of temporal_affine_forward.

        dX = dout W^T,   dW = sum_t x_t^T dout_t,   db = sum_{t, b} dout

    W and b are shared by all T steps, so their gradients add up the steps' contributions
    (the same rule as for W_h in BPTT).

    Args:
        dout: (T, B, M) gradient of the loss with respect to out.
        cache: from temporal_affine_forward.
    Returns:
        dX (T, B, D), dW (D, M), db (M,).
    """
    X, W, out_shape = cache
    check_shape("dout", dout, out_shape, ("T", "B", "M"))
    T, B, D = X.shape
    M = W.shape[1]
    dout_flat = dout.reshape(T * B, M)
    dW = X.reshape(T * B, D).T @ dout_flat  # the sum over t and b, in one matmul
    return dout @ W.T, dW, dout_flat.sum(axis=0)


def embedding_forward(idx, W):
    """Embedding lookup, x_t[b] = W[idx[t, b]]: one_hot(idx) W, without building the one-hot.

    Args:
        idx: (T, B) integer array of token ids, each in [0, V).
        W: (V, D) embedding table.
    Returns:
        out: (T, B, D); cache for embedding_backward.
    """
    check_int_array("idx", idx, ndim=2)
    check_float_array("W", W, ndim=2)
    V = W.shape[0]
    bad = (idx < 0) | (idx >= V)
    if bad.any():
        # NumPy would silently wrap negative ids around, so reject them like torch does
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"idx must hold token ids in [0, V) with V = {V}, "
            f"got {int(idx[where])} at idx[{', '.join(map(str, where))}]"
        )
    return W[idx], EmbeddingCache(idx, W)


def embedding_backward(dout, cache):
    """Backward of embedding_forward: scatter-add every row of dout into the row it was read from.

        dW[v] = sum over (t, b) with idx[t, b] = v of dout[t, b]

    np.add.at, not ``dW[idx] += dout``: with repeated ids the latter keeps only one of the
    additions (buffered fancy assignment), and a word usually appears many times.

    Args:
        dout: (T, B, D) gradient of the loss with respect to out.
        cache: from embedding_forward.
    Returns:
        dW: (V, D), zero on the rows no token used.
    """
    idx, W = cache
    check_shape("dout", dout, idx.shape + (W.shape[1],), ("T", "B", "D"))
    dW = np.zeros(W.shape, dtype=np.result_type(W, dout))
    np.add.at(dW, idx, dout)
    return dW


def multiply_forward(a, b):
    """Entry-wise product layer, out = a * b: a gate times a signal (i_t * g_t, o_t * tanh(c_t)).

    Args:
        a: float array of any shape, e.g. (B, H).
        b: float array of a's shape.
    Returns:
        out: a's shape; cache for multiply_backward.
    """
    check_float_array("a", a)
    check_shape("b", b, a.shape)  # no broadcasting: a gate and its signal always match
    return a * b, MultiplyCache(a, b)


def multiply_backward(dout, cache):
    """Backward of multiply_forward: each factor's gradient is dout times the other factor.

        da = dout * b,   db = dout * a

    Args:
        dout: gradient of the loss with respect to out, a's shape.
        cache: from multiply_forward.
    Returns:
        da, db: each a's shape.
    """
    a, b = cache
    check_shape("dout", dout, a.shape)
    return dout * b, dout * a
