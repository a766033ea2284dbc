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
from lstm_course.scratch._project import project, project_backward
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


# The sequence functions below compute the same equations as the step functions above, arranged
# for speed: everything that does not depend on the recursion is done for all T steps at once
# (the input matmul, the gate derivatives, the weight gradients), and the loop over t carries
# only the state, writing into preallocated (T, B, *) arrays.
#
# One tanh call gives all four gates: sigma(a) = (1 + tanh(a / 2)) / 2, so with the i, f, o
# columns of the pre-activation scaled by 1/2 (folded into W_x, W_h and b, once per call),
# tanh of the whole (B, 4H) row followed by one multiply and one add by per-column constants
# turns the i, f, o columns into sigmoids and leaves g = tanh(a_g). The identity is exact and,
# like the stable sigmoid, never overflows.


def _gate_affine(H, dtype):
    """(4H,) scale and offset: gates = offset + scale * tanh(scale * a), i, f, o as sigmoids."""
    scale = np.full(4 * H, 0.5, dtype=dtype)
    scale[2 * H : 3 * H] = 1.0  # g: tanh itself
    offset = np.full(4 * H, 0.5, dtype=dtype)
    offset[2 * H : 3 * H] = 0.0
    return scale, offset


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
    dtype = np.result_type(X, p["W_x"], p["b"], h0, c0, p["W_h"])
    scale, offset = _gate_affine(H, dtype)
    # (T, B, 4H): x_t W_x + b for every step in one matmul (i, f, o columns halved); each step
    # adds h_{t-1} W_h in place and turns its row into the gates: no second (T, B, 4H) array.
    gates = project(X, p["W_x"] * scale, p["b"] * scale).astype(dtype, copy=False)
    W_h = p["W_h"] * scale
    H_all, C_all = np.empty((T, B, H), dtype=dtype), np.empty((T, B, H), dtype=dtype)
    hW = np.empty((B, 4 * H), dtype=dtype)
    ig, tanh_c = np.empty((B, H), dtype=dtype), np.empty((B, H), dtype=dtype)
    h, c = h0, c0
    for t in range(T):
        a = gates[t]
        a += np.matmul(h, W_h, out=hW)  # (B, 4H) all gate pre-activations, eqs. (4.1)-(4.4)
        np.tanh(a, out=a)
        a *= scale
        a += offset  # i, f, o = sigma(a), g = tanh(a_g)
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        c_new = np.multiply(f, c, out=C_all[t])
        c_new += np.multiply(i, g, out=ig)  # c_t = f * c_{t-1} + i * g, eq. (4.5)
        np.tanh(c_new, out=tanh_c)
        h = np.multiply(o, tanh_c, out=H_all[t])  # h_t = o * tanh(c_t), eq. (4.6)
        c = c_new
    i, f, g, o = np.split(gates, 4, axis=2)
    return H_all, (h, c), LSTMCache(X, h0, c0, H_all, C_all, i, f, g, o, p)


def lstm_backward(dH_all, cache, dstate_T=None):
    """Full backpropagation through time for lstm_forward.

    Walks t = T..1 carrying (dh_next, dc_next), the gradients that flow back from step t+1,
    then sums the per-step weight gradients (the weights are shared by all steps). The gate
    derivatives do not depend on the recursion, so they are computed for all steps first:

        dA[t] = [dc g i(1-i) | dc c_{t-1} f(1-f) | dc i (1-g^2) | dh tanh(c_t) o(1-o)]
        dc = dc_next + dh o (1 - tanh(c_t)^2),   dh = dH_all[t] + dh_next

    and the loop only multiplies them by dc and dh (_cell_backward does the same for one step).

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
    dtype = np.result_type(H_all, dH_all)
    # Written with out= into a few buffers: every (T, B, *) temporary costs fresh memory pages.
    tanh_C = np.tanh(C_all)
    dA = np.empty((T, B, 4 * H), dtype=dtype)  # gradient of every stacked pre-activation
    dA_i, dA_f, dA_g, dA_o = np.split(dA, 4, axis=2)
    # First what dc multiplies (i, f, g) or dh multiplies (o), for all steps at once.
    Q = np.empty((T, B, H), dtype=dtype)  # a scratch buffer; at the end o (1 - tanh(c_t)^2)
    np.multiply(i, np.subtract(1.0, i, out=Q), out=dA_i)
    dA_i *= g  # g i (1 - i)
    np.multiply(f, np.subtract(1.0, f, out=Q), out=Q)  # f (1 - f), times c_{t-1}:
    np.multiply(Q[1:], C_all[:-1], out=dA_f[1:])
    np.multiply(Q[0], c0, out=dA_f[0])
    np.subtract(1.0, np.multiply(g, g, out=Q), out=Q)
    np.multiply(i, Q, out=dA_g)  # i (1 - g^2)
    np.multiply(o, np.subtract(1.0, o, out=Q), out=dA_o)
    dA_o *= tanh_C  # tanh(c_t) o (1 - o)
    np.subtract(1.0, np.multiply(tanh_C, tanh_C, out=Q), out=Q)
    Q *= o  # dh's path into c_t through h_t = o tanh(c_t)
    dA_ifg = dA.reshape(T, B, 4, H)[:, :, :3]  # (T, B, 3, H) view: i, f, g side by side
    W_hT = p["W_h"].T
    for t in reversed(range(T)):
        dh = dH_all[t] + dh_next
        dc = dc_next + dh * Q[t]
        dA_ifg[t] *= dc[:, None, :]
        dA_o[t] *= dh
        dc_next = dc * f[t]  # the conveyor belt: scaled only by the forget gate, no squashing
        dh_next = dA[t] @ W_hT
    dA_flat = dA.reshape(T * B, 4 * H)
    # The sums over t of x_t^T da_t and h_{t-1}^T da_t, each in one matmul (h_{t-1} = h0 at t=0)
    W_h_grad = h0.T @ dA[0]
    W_h_grad += H_all[:-1].reshape(-1, H).T @ dA[1:].reshape(-1, 4 * H)
    grads = {"W_x": X.reshape(T * B, D).T @ dA_flat, "W_h": W_h_grad, "b": dA_flat.sum(axis=0)}
    return project_backward(dA, p["W_x"]), (dh_next, dc_next), grads
