"""LSTM in NumPy: one step, the unrolled sequence, and full BPTT, with a hand-written backward.

Lecture 4, eqs. (4.1)-(4.6), row-vector form; gates stacked i, f, g, o as in torch.nn.LSTM.
The candidate g is what the slides call C~ (the intermediate memory):

    i_t = sigma(x_t W_xi + h_{t-1} W_hi + b_i)        input gate: how much to write
    f_t = sigma(x_t W_xf + h_{t-1} W_hf + b_f)        forget gate: how much of c_{t-1} to keep
    g_t = tanh (x_t W_xg + h_{t-1} W_hg + b_g)        candidate content C~_t
    o_t = sigma(x_t W_xo + h_{t-1} W_ho + b_o)        output gate: how much to read
    c_t = f_t * c_{t-1} + i_t * g_t                   the cell: additive in time
    h_t = o_t * tanh(c_t)

Stacked: W_x = [W_xi | W_xf | W_xg | W_xo] (D, 4H), W_h (H, 4H), b (4H,). The state is the
tuple (h, c), both (B, H).
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
from lstm_course.scratch.activations import sigmoid


class LSTMStepCache(NamedTuple):
    """What lstm_step_backward needs from the forward step; every array is (B, H) but x_t."""

    x_t: np.ndarray  # (B, D)
    h_prev: np.ndarray
    c_prev: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    tanh_c: np.ndarray
    p: dict


class LSTMCache(NamedTuple):
    """What lstm_backward needs from lstm_forward; also the gate activations, for plots."""

    X: np.ndarray  # (T, B, D)
    h0: np.ndarray  # (B, H)
    c0: np.ndarray  # (B, H)
    H_all: np.ndarray  # (T, B, H)
    C_all: np.ndarray  # (T, B, H)
    i: np.ndarray  # (T, B, H) input gate at every step
    f: np.ndarray  # (T, B, H) forget gate
    g: np.ndarray  # (T, B, H) candidate
    o: np.ndarray  # (T, B, H) output gate
    p: dict


def lstm_param_shapes(D, H):
    """{key: (shape, letters)} of an LSTM parameter dict, for checks and initialisation."""
    return {
        "W_x": ((D, 4 * H), ("D", "4H")),
        "W_h": ((H, 4 * H), ("H", "4H")),
        "b": ((4 * H,), ("4H",)),
    }


def _cell(a, c_prev):
    """Gates and new cell from the stacked pre-activations a (B, 4H): eqs. (4.1)-(4.6)."""
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    return i, f, g, o, c, tanh_c


def _cell_backward(dh, dc, c_prev, i, f, g, o, tanh_c):
    """Backward through eqs. (4.1)-(4.6) given dL/dh_t and dL/dc_t (from the future).

    Returns:
        da: (B, 4H) gradient of the stacked pre-activations (Graves' deltas, in i, f, g, o order).
        dc_prev: (B, H) gradient flowing along the cell to step t-1.
    """
    do = dh * tanh_c
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)  # h = o * tanh(c) is a second path into c
    di, df, dg = dc * g, dc * c_prev, dc * i
    dc_prev = dc * f  # the conveyor belt: scaled only by the forget gate, no squashing
    da = np.concatenate(
        [di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g * g), do * o * (1.0 - o)], axis=1
    )
    return da, dc_prev


def lstm_step_forward(x_t, h_prev, c_prev, p):
    """One LSTM step, eqs. (4.1)-(4.6).

    Args:
        x_t: (B, D) input at time t.
        h_prev, c_prev: (B, H) previous hidden and cell state.
        p: {"W_x": (D, 4H), "W_h": (H, 4H), "b": (4H,)}, gates stacked i, f, g, o.
    Returns:
        h, c: (B, H) new state; cache for lstm_step_backward.
    """
    states = [("h_prev", h_prev), ("c_prev", c_prev)]
    check_step(x_t, states, p, lstm_param_shapes, "lstm_step_forward")
    a = x_t @ p["W_x"] + h_prev @ p["W_h"] + p["b"]  # (B, 4H) all gate pre-activations at once
    i, f, g, o, c, tanh_c = _cell(a, c_prev)
    h = o * tanh_c
    return h, c, LSTMStepCache(x_t, h_prev, c_prev, i, f, g, o, c, tanh_c, p)


def lstm_step_backward(dh, dc, cache):
    """Backward of one LSTM step.

    Args:
        dh: (B, H) gradient of the loss with respect to h.
        dc: (B, H) gradient with respect to c coming from step t+1 (zeros at the last step).
        cache: from lstm_step_forward.
    Returns:
        dx_t (B, D), dh_prev (B, H), dc_prev (B, H), grads {"W_x", "W_h", "b"} shaped like p.
    """
    check_shape("dh", dh, cache.c.shape, ("B", "H"))
    check_shape("dc", dc, cache.c.shape, ("B", "H"))
    x_t, h_prev, c_prev, i, f, g, o, _, tanh_c, p = cache
    da, dc_prev = _cell_backward(dh, dc, c_prev, i, f, g, o, tanh_c)
    grads = {"W_x": x_t.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
    return da @ p["W_x"].T, da @ p["W_h"].T, dc_prev, grads


def _unpack_state(state, name, B, H, dtype):
    """(h, c) tuple, or None for zeros."""
    if state is None:
        return np.zeros((B, H), dtype=dtype), np.zeros((B, H), dtype=dtype)
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise TypeError(f"{name} must be a tuple (h, c) of two (B, H) arrays or None")
    return state


def lstm_forward(X, state0, p):
    """Run the LSTM over a whole sequence.

    Args:
        X: (T, B, D) inputs, time-major.
        state0: (h0, c0), each (B, H), or None for zeros.
        p: {"W_x": (D, 4H), "W_h": (H, 4H), "b": (4H,)}.
    Returns:
        H_all: (T, B, H) every hidden state; (h_T, c_T): the final state; cache for lstm_backward.
    """
    check_float_array("X", X, ndim=3)
    h0, c0 = _unpack_state(state0, "state0", X.shape[1], hidden_size(p), X.dtype)
    check_sequence(X, [("h0", h0), ("c0", c0)], p, lstm_param_shapes, "lstm_forward")
    T, B, _ = X.shape
    H = h0.shape[1]
    A_x = X @ p["W_x"] + p["b"]  # (T, B, 4H) the input part of every step, in one matmul
    dtype = np.result_type(A_x, h0, c0, p["W_h"])
    H_all, C_all, i, f, g, o = (np.empty((T, B, H), dtype=dtype) for _ in range(6))
    h, c = h0, c0
    for t in range(T):
        i[t], f[t], g[t], o[t], c, tanh_c = _cell(A_x[t] + h @ p["W_h"], c)
        h = o[t] * tanh_c
        H_all[t], C_all[t] = h, c
    return H_all, (h, c), LSTMCache(X, h0, c0, H_all, C_all, i, f, g, o, p)


def lstm_backward(dH_all, cache, dstate_T=None):
    """Full backpropagation through time for lstm_forward.

    Walks t = T..1 carrying (dh_next, dc_next), the gradients that flow back from step t+1,
    then sums the per-step weight gradients (the weights are shared by all steps).

    Args:
        dH_all: (T, B, H) gradient of the loss with respect to every hidden state.
        cache: from lstm_forward.
        dstate_T: (dh_T, dc_T) extra gradient on the final state, or None (either may be None).
    Returns:
        dX (T, B, D), (dh0, dc0) each (B, H), grads {"W_x", "W_h", "b"} shaped like p.
    """
    X, h0, c0, H_all, C_all, i, f, g, o, p = cache
    check_shape("dH_all", dH_all, H_all.shape, ("T", "B", "H"))
    dh_next, dc_next = _unpack_state(dstate_T, "dstate_T", *h0.shape, H_all.dtype)
    dh_next = np.zeros_like(h0) if dh_next is None else check_shape("dh_T", dh_next, h0.shape)
    dc_next = np.zeros_like(c0) if dc_next is None else check_shape("dc_T", dc_next, c0.shape)
    T, B, D = X.shape
    H = h0.shape[1]
    C_prev = np.concatenate([c0[None], C_all[:-1]], axis=0)  # (T, B, H) c_{t-1} for each t
    dA = np.empty((T, B, 4 * H), dtype=H_all.dtype)  # gradient of every stacked pre-activation
    for t in reversed(range(T)):
        dA[t], dc_next = _cell_backward(
            dH_all[t] + dh_next, dc_next, C_prev[t], i[t], f[t], g[t], o[t], np.tanh(C_all[t])
        )
        dh_next = dA[t] @ p["W_h"].T
    H_prev = np.concatenate([h0[None], H_all[:-1]], axis=0)  # (T, B, H) h_{t-1} for each t
    dA_flat = dA.reshape(T * B, 4 * H)
    grads = {
        "W_x": X.reshape(T * B, D).T @ dA_flat,  # the sum over t of x_t^T da_t, in one matmul
        "W_h": H_prev.reshape(T * B, H).T @ dA_flat,
        "b": dA_flat.sum(axis=0),
    }
    return dA @ p["W_x"].T, (dh_next, dc_next), grads
