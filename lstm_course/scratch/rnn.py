"""Vanilla (Elman) RNN in NumPy: one step, the unrolled sequence, and full BPTT by hand.

Lecture 1, eq. (1.2), row-vector form (the code is literally the equation):

    h_t = phi(x_t W_x + h_{t-1} W_h + b),    phi = tanh (or ReLU)

Shapes: x_t (B, D), h_t (B, H), W_x (D, H), W_h (H, H), b (H,); sequences are time-major,
X (T, B, D) and H_all (T, B, H).
"""

from typing import NamedTuple

import numpy as np

from lstm_course.scratch._checks import (
    check_float_array,
    check_sequence,
    check_shape,
    check_step,
    hidden_size,
)
from lstm_course.scratch._project import project, project_backward

NONLINEARITIES = ("tanh", "relu")


class RNNStepCache(NamedTuple):
    """What rnn_step_backward needs from the forward step."""

    x_t: np.ndarray  # (B, D)
    h_prev: np.ndarray  # (B, H)
    h: np.ndarray  # (B, H) phi's output: phi' is a function of it
    p: dict
    nonlinearity: str


class RNNCache(NamedTuple):
    """What rnn_backward needs from rnn_forward."""

    X: np.ndarray  # (T, B, D)
    h0: np.ndarray  # (B, H)
    H_all: np.ndarray  # (T, B, H)
    p: dict
    nonlinearity: str


def rnn_param_shapes(D, H):
    """{key: (shape, letters)} of an RNN parameter dict, for checks and initialisation."""
    return {"W_x": ((D, H), ("D", "H")), "W_h": ((H, H), ("H", "H")), "b": ((H,), ("H",))}


def _check_nonlinearity(nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")


def _phi(a, nonlinearity):
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)


def _dphi(h, nonlinearity):
    """phi'(a) written with h = phi(a): 1 - h^2 for tanh, [h > 0] for ReLU."""
    return 1.0 - h * h if nonlinearity == "tanh" else (h > 0).astype(h.dtype)


def rnn_step_forward(x_t, h_prev, p, nonlinearity="tanh"):
    """One RNN step, h = phi(x_t W_x + h_prev W_h + b).

    Args:
        x_t: (B, D) input at time t.
        h_prev: (B, H) previous hidden state.
        p: {"W_x": (D, H), "W_h": (H, H), "b": (H,)}.
        nonlinearity: "tanh" (default, as torch.nn.RNN) or "relu".
    Returns:
        h: (B, H) new hidden state; cache for rnn_step_backward.
    """
    check_step(x_t, [("h_prev", h_prev)], p, rnn_param_shapes, "rnn_step_forward")
    _check_nonlinearity(nonlinearity)
    h = _phi(x_t @ p["W_x"] + h_prev @ p["W_h"] + p["b"], nonlinearity)
    return h, RNNStepCache(x_t, h_prev, h, p, nonlinearity)


def rnn_step_backward(dh, cache):
    """Backward of one RNN step.

    With a = x_t W_x + h_prev W_h + b and da = dh * phi'(a):
        dx_t = da W_x^T,  dh_prev = da W_h^T,  dW_x = x_t^T da,  dW_h = h_prev^T da,  db = sum_B da

    Args:
        dh: (B, H) gradient of the loss with respect to h.
        cache: from rnn_step_forward.
    Returns:
        dx_t (B, D), dh_prev (B, H), grads {"W_x", "W_h", "b"} shaped like p.
    """
    check_shape("dh", dh, cache.h.shape, ("B", "H"))
    p = cache.p
    da = dh * _dphi(cache.h, cache.nonlinearity)  # (B, H)
    grads = {"W_x": cache.x_t.T @ da, "W_h": cache.h_prev.T @ da, "b": da.sum(axis=0)}
    return da @ p["W_x"].T, da @ p["W_h"].T, grads


def rnn_forward(X, h0, p, nonlinearity="tanh"):
    """Run the RNN over a whole sequence (the unrolled graph of lecture 1).

    Args:
        X: (T, B, D) inputs, time-major.
        h0: (B, H) initial hidden state, or None for zeros.
        p: {"W_x": (D, H), "W_h": (H, H), "b": (H,)}.
        nonlinearity: "tanh" or "relu".
    Returns:
        H_all: (T, B, H) every hidden state; h_T: (B, H) the last one; cache for rnn_backward.
    """
    check_float_array("X", X, ndim=3)
    if h0 is None:
        h0 = np.zeros((X.shape[1], hidden_size(p)), dtype=X.dtype)
    check_sequence(X, [("h0", h0)], p, rnn_param_shapes, "rnn_forward")
    _check_nonlinearity(nonlinearity)
    T, B, _ = X.shape
    A_x = project(X, p["W_x"], p["b"])  # (T, B, H) the input part of every step, one matmul
    H_all = np.empty(A_x.shape[:2] + (h0.shape[1],), dtype=np.result_type(A_x, h0, p["W_h"]))
    h = h0
    for t in range(T):
        h = _phi(A_x[t] + h @ p["W_h"], nonlinearity)
        H_all[t] = h
    return H_all, h, RNNCache(X, h0, H_all, p, nonlinearity)


def rnn_backward(dH_all, cache, dh_T=None):
    """Full backpropagation through time for rnn_forward.

    Walks t = T..1 carrying dh_next = dL/dh_t that flows back from the future (lecture 2):
        da_t = (dH_all[t] + dh_next) * phi'(a_t),   dh_next <- da_t W_h^T
    then sums every step's weight gradient, because W_x, W_h and b are shared by all steps.

    Args:
        dH_all: (T, B, H) gradient of the loss with respect to every hidden state.
        cache: from rnn_forward.
        dh_T: (B, H) extra gradient on the final state (e.g. from a later chunk), or None.
    Returns:
        dX (T, B, D), dh0 (B, H), grads {"W_x", "W_h", "b"} shaped like p.
    """
    X, h0, H_all, p, nonlinearity = cache
    check_shape("dH_all", dH_all, H_all.shape, ("T", "B", "H"))
    if dh_T is not None:
        check_shape("dh_T", dh_T, h0.shape, ("B", "H"))
    T, B, D = X.shape
    H = h0.shape[1]
    dh_next = np.zeros_like(H_all[0]) if dh_T is None else dh_T
    dA = np.empty_like(H_all)  # (T, B, H) gradient of every pre-activation a_t
    for t in reversed(range(T)):
        dA[t] = (dH_all[t] + dh_next) * _dphi(H_all[t], nonlinearity)
        dh_next = dA[t] @ p["W_h"].T
    H_prev_all = np.concatenate([h0[None], H_all[:-1]], axis=0)  # (T, B, H) h_{t-1} for each t
    dA_flat = dA.reshape(T * B, H)
    grads = {
        "W_x": X.reshape(T * B, D).T @ dA_flat,  # sum over t and b of x_t^T da_t, one matmul
        "W_h": H_prev_all.reshape(T * B, H).T @ dA_flat,
        "b": dA_flat.sum(axis=0),
    }
    return project_backward(dA, p["W_x"]), dh_next, grads
