"""Gated recurrent unit (GRU) in NumPy: one step, the unrolled sequence, and BPTT by hand.

Lecture 5, eqs. (5.1)-(5.4), row-vector form, exactly torch.nn.GRU's equations:

    r = sigma(x_t W_xr + b_xr + h_prev W_hr + b_hr)         (5.1)  reset gate
    z = sigma(x_t W_xz + b_xz + h_prev W_hz + b_hz)         (5.2)  update gate
    n = tanh(x_t W_xn + b_xn + r * (h_prev W_hn + b_hn))    (5.3)  candidate state
    h = (1 - z) * n + z * h_prev                            (5.4)  z = 1 keeps the old state

Gates are stacked r, z, n as in torch.nn.GRU: W_x = [W_xr | W_xz | W_xn] (D, 3H),
W_h = [W_hr | W_hz | W_hn] (H, 3H), b_x = [b_xr | b_xz | b_xn] (3H,), b_h likewise, so
weight_ih_l0.T, weight_hh_l0.T, bias_ih_l0 and bias_hh_l0 copy across without permutation.

Why two biases: in (5.3) the reset gate multiplies the whole h-projection, its bias included,
so r * b_hn changes with r and cannot be merged into b_xn. In (5.1) and (5.2) the two biases are
simply added and could be merged into one; we keep both halves so the layout is torch's.
(Cho et al. 2014 reset h_prev before the matmul, r * h_prev; torch resets after it, as here.)

Shapes: x_t (B, D), h_prev and h (B, H); sequences are time-major, X (T, B, D), H_all (T, B, H).
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
from lstm_course.scratch.activations import sigmoid


class GRUStepCache(NamedTuple):
    """What gru_step_backward needs from the forward step."""

    x_t: np.ndarray  # (B, D)
    h_prev: np.ndarray  # (B, H)
    r: np.ndarray  # (B, H) gate outputs: sigma' and tanh' are functions of them
    z: np.ndarray  # (B, H)
    n: np.ndarray  # (B, H)
    a_hn: np.ndarray  # (B, H) h_prev W_hn + b_hn, what r multiplies: dL/dr needs it
    p: dict


class GRUCache(NamedTuple):
    """What gru_backward needs from gru_forward: the step cache's arrays for every t."""

    X: np.ndarray  # (T, B, D)
    h0: np.ndarray  # (B, H)
    H_all: np.ndarray  # (T, B, H)
    R: np.ndarray  # (T, B, H)
    Z: np.ndarray  # (T, B, H)
    N: np.ndarray  # (T, B, H)
    A_hn: np.ndarray  # (T, B, H)
    p: dict


def gru_param_shapes(D, H):
    """{key: (shape, letters)} of a GRU parameter dict, for checks and initialisation."""
    return {
        "W_x": ((D, 3 * H), ("D", "3H")),
        "W_h": ((H, 3 * H), ("H", "3H")),
        "b_x": ((3 * H,), ("3H",)),
        "b_h": ((3 * H,), ("3H",)),
    }


def _cell(a_x, a_h, h_prev):
    """Eqs. (5.1)-(5.4) given the two projections a_x = x_t W_x + b_x and a_h = h_prev W_h + b_h.

    The projections are kept apart (not summed as in the RNN) because r enters between them.
    Returns h and what the backward needs: r, z, n, a_hn, each (B, H).
    """
    a_xr, a_xz, a_xn = np.split(a_x, 3, axis=-1)
    a_hr, a_hz, a_hn = np.split(a_h, 3, axis=-1)
    r = sigmoid(a_xr + a_hr)
    z = sigmoid(a_xz + a_hz)
    n = np.tanh(a_xn + r * a_hn)
    h = (1.0 - z) * n + z * h_prev
    return h, r, z, n, a_hn


def _cell_backward(dh, h_prev, r, z, n, a_hn):
    """Backward of (5.1)-(5.4) given the cached gates, written once for step and sequence.

    Returns:
        dA_x, dA_h: (B, 3H) gradients of the projections a_x and a_h (stacked r, z, n);
        dh * z: (B, H) the part of dL/dh_prev that bypasses W_h through (5.4).
    """
    da_n = dh * (1.0 - z) * (1.0 - n * n)  # through (5.4), then tanh
    da_r = da_n * a_hn * r * (1.0 - r)  # dL/dr = da_n * a_hn, then sigma
    da_z = dh * (h_prev - n) * z * (1.0 - z)  # dh/dz = h_prev - n, then sigma
    dA_x = np.concatenate([da_r, da_z, da_n], axis=-1)
    # r scales the n-third of the h-projection, b_hn included: hence da_n * r there.
    dA_h = np.concatenate([da_r, da_z, da_n * r], axis=-1)
    return dA_x, dA_h, dh * z


def gru_step_forward(x_t, h_prev, p):
    """One GRU step, eqs. (5.1)-(5.4).

    Args:
        x_t: (B, D) input at time t.
        h_prev: (B, H) previous hidden state.
        p: {"W_x": (D, 3H), "W_h": (H, 3H), "b_x": (3H,), "b_h": (3H,)}, gates stacked r, z, n.
    Returns:
        h: (B, H) new hidden state; cache for gru_step_backward.
    """
    check_step(x_t, [("h_prev", h_prev)], p, gru_param_shapes, "gru_step_forward")
    a_x = x_t @ p["W_x"] + p["b_x"]  # (B, 3H)
    a_h = h_prev @ p["W_h"] + p["b_h"]  # (B, 3H)
    h, r, z, n, a_hn = _cell(a_x, a_h, h_prev)
    return h, GRUStepCache(x_t, h_prev, r, z, n, a_hn, p)


def gru_step_backward(dh, cache):
    """Backward of one GRU step.

    With dA_x, dA_h the gradients of a_x = x_t W_x + b_x and a_h = h_prev W_h + b_h:
        dx_t = dA_x W_x^T,  dh_prev = dh * z + dA_h W_h^T,
        dW_x = x_t^T dA_x,  dW_h = h_prev^T dA_h,  db_x = sum_B dA_x,  db_h = sum_B dA_h

    Args:
        dh: (B, H) gradient of the loss with respect to h.
        cache: from gru_step_forward.
    Returns:
        dx_t (B, D), dh_prev (B, H), grads {"W_x", "W_h", "b_x", "b_h"} shaped like p.
    """
    check_shape("dh", dh, cache.h_prev.shape, ("B", "H"))
    x_t, h_prev, r, z, n, a_hn, p = cache
    dA_x, dA_h, dh_prev = _cell_backward(dh, h_prev, r, z, n, a_hn)
    grads = {
        "W_x": x_t.T @ dA_x,
        "W_h": h_prev.T @ dA_h,
        "b_x": dA_x.sum(axis=0),
        "b_h": dA_h.sum(axis=0),
    }
    return dA_x @ p["W_x"].T, dh_prev + dA_h @ p["W_h"].T, grads


def gru_forward(X, h0, p):
    """Run the GRU over a whole sequence.

    Args:
        X: (T, B, D) inputs, time-major.
        h0: (B, H) initial hidden state, or None for zeros.
        p: {"W_x": (D, 3H), "W_h": (H, 3H), "b_x": (3H,), "b_h": (3H,)}, gates stacked r, z, n.
    Returns:
        H_all: (T, B, H) every hidden state; h_T: (B, H) the last one; cache for gru_backward.
    """
    check_float_array("X", X, ndim=3)
    if h0 is None:
        h0 = np.zeros((X.shape[1], hidden_size(p)), dtype=X.dtype)
    check_sequence(X, [("h0", h0)], p, gru_param_shapes, "gru_forward")
    T = X.shape[0]
    A_x = project(X, p["W_x"], p["b_x"])  # (T, B, 3H) the input part of every step at once
    dtype = np.result_type(A_x, h0, p["W_h"], p["b_h"])
    H_all, R, Z, N, A_hn = (np.empty((T,) + h0.shape, dtype=dtype) for _ in range(5))
    h = h0
    for t in range(T):
        h, R[t], Z[t], N[t], A_hn[t] = _cell(A_x[t], h @ p["W_h"] + p["b_h"], h)
        H_all[t] = h
    return H_all, h, GRUCache(X, h0, H_all, R, Z, N, A_hn, p)


def gru_backward(dH_all, cache, dh_T=None):
    """Full backpropagation through time for gru_forward.

    Walks t = T..1 carrying dh_next = dL/dh_t that flows back from the future:
        dA_x[t], dA_h[t] = cell backward of (dH_all[t] + dh_next),
        dh_next <- (dH_all[t] + dh_next) * z_t + dA_h[t] W_h^T
    then sums every step's weight gradient, because W_x, W_h, b_x and b_h are shared by all steps.

    Args:
        dH_all: (T, B, H) gradient of the loss with respect to every hidden state.
        cache: from gru_forward.
        dh_T: (B, H) extra gradient on the final state (e.g. from a later chunk), or None.
    Returns:
        dX (T, B, D), dh0 (B, H), grads {"W_x", "W_h", "b_x", "b_h"} shaped like p.
    """
    X, h0, H_all, R, Z, N, A_hn, p = cache
    check_shape("dH_all", dH_all, H_all.shape, ("T", "B", "H"))
    if dh_T is not None:
        check_shape("dh_T", dh_T, h0.shape, ("B", "H"))
    T, B, D = X.shape
    H = h0.shape[1]
    H_prev_all = np.concatenate([h0[None], H_all[:-1]], axis=0)  # (T, B, H) h_{t-1} for each t
    dtype = np.result_type(dH_all, H_all)
    dA_x = np.empty((T, B, 3 * H), dtype=dtype)  # gradient of every step's a_x
    dA_h = np.empty((T, B, 3 * H), dtype=dtype)  # and of every step's a_h
    dh_next = np.zeros_like(H_all[0]) if dh_T is None else dh_T
    for t in reversed(range(T)):
        dA_x[t], dA_h[t], dh_skip = _cell_backward(
            dH_all[t] + dh_next, H_prev_all[t], R[t], Z[t], N[t], A_hn[t]
        )
        dh_next = dh_skip + dA_h[t] @ p["W_h"].T
    dA_x_flat = dA_x.reshape(T * B, 3 * H)
    dA_h_flat = dA_h.reshape(T * B, 3 * H)
    grads = {
        "W_x": X.reshape(T * B, D).T @ dA_x_flat,  # sum over t and b of x_t^T dA_x[t], one matmul
        "W_h": H_prev_all.reshape(T * B, H).T @ dA_h_flat,
        "b_x": dA_x_flat.sum(axis=0),
        "b_h": dA_h_flat.sum(axis=0),
    }
    return project_backward(dA_x, p["W_x"]), dh_next, grads
