"""How values and gradients flow through the LSTM cell: Jacobian norms, Graves' deltas, checks.

Lecture 4. The cell update c_t = f_t * c_{t-1} + i_t * g_t is additive, so along the cell path

    d c_T / d c_t = prod_{k=t+1}^{T} diag(f_k)                                   (4.9)

(plus the smaller terms through h_t and the gates), while a tanh RNN multiplies T - t Jacobians
diag(1 - h_k^2) W_h^T (4.10). ``lstm_cell_jacobian_norms`` and ``rnn_hidden_jacobian_norms``
measure both with torch autograd in float64; ``belt_norms`` gives the forget-gate product
alone. ``graves_deltas`` writes the backward step in Graves' notation and matches
``lstm_course.scratch.lstm._cell_backward``; ``lstm_gradcheck`` compares the hand-written
backward with centred differences. ``NNGraphLSTMStep`` re-expresses the Torch7 nngraph cell
of the slides with PyTorch modules, and ``gates_against_cell`` shows what peepholes add.

Shapes: time-major X (T, B, D); states (B, H); norms (T + 1,) indexed by t = 0..T.
"""

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from lstm_course.modules.cells import LSTMGates, lstm_cell, rnn_cell
from lstm_course.scratch.gradcheck import numeric_gradient, rel_error
from lstm_course.scratch.lstm import lstm_backward, lstm_forward


def _weights(module):
    """Layer 0 (or a cell's) W_ih, W_hh, b = b_ih + b_hh and W_ch (or None), as float64 copies."""
    params = dict(module.named_parameters())
    suffix = "" if "weight_ih" in params else "_l0"
    if f"weight_ih{suffix}" not in params:
        raise TypeError(f"expected an RNN/LSTM module or cell, got {type(module).__name__}")

    def get(name):
        value = params.get(name + suffix)
        return None if value is None else value.detach().to(torch.float64)

    W_ih, W_hh = get("weight_ih"), get("weight_hh")
    b = torch.zeros(W_ih.shape[0], dtype=torch.float64)
    for name in ("bias_ih", "bias_hh"):
        if get(name) is not None:
            b = b + get(name)
    return W_ih, W_hh, b, get("weight_ch")


def _replicate(X, H):
    """Each sequence repeated H times along the batch, (T, B, D) -> (T, B * H, D), float64.

    Replica j of sample b (batch row b * H + j) will carry row j of that sample's Jacobian,
    so one backward pass gives all H rows at once instead of H passes over a tiny batch.
    """
    return torch.as_tensor(X, dtype=torch.float64).repeat_interleave(H, dim=1)


def _jacobian_norms(final, states, H):
    """||d final / d s||_F / sqrt(H) for each s in states, per sample: (len(states), B).

    ``final`` and every s are (B * H, H), built from ``_replicate``d inputs. Backpropagating
    final[b * H + j, j] (unit j from replica j) gives, at row b * H + j of each gradient, row j
    of sample b's Jacobian: replicas never interact. Dividing by sqrt(H) makes the identity
    (nothing lost) exactly 1.
    """
    B = final.shape[0] // H
    pick = torch.eye(H, dtype=final.dtype).repeat(B, 1)  # (B * H, H), row b * H + j is e_j
    grads = torch.autograd.grad((final * pick).sum(), states)
    squares = torch.stack([(g * g).reshape(B, H * H).sum(dim=1) for g in grads])
    return (squares / H).sqrt()


def _geometric_mean(norms):
    """exp(mean(log(norms))) over the batch, the right average for a log plot: (T + 1,)."""
    return norms.clamp_min(1e-300).log().mean(dim=1).exp().numpy()


def lstm_cell_jacobian_norms(lstm, X):
    """||d c_T / d c_t||_F / sqrt(H) for t = 0..T, geometric mean over the batch.

    Runs layer 0 of ``lstm`` (modules.LSTM or LSTMCell, peepholes included) from zero state in
    float64 and differentiates c_T with respect to every c_t by autograd (all paths: along the
    cell and through h_t and the gates).

    Args:
        lstm: an LSTM whose layer 0 is measured. X: (T, B, D) inputs.
    Returns:
        (T + 1,) NumPy array; entry T is 1 (the identity).
    """
    W_ih, W_hh, b, W_ch = _weights(lstm)
    H = W_hh.shape[1]
    X = _replicate(X, H)  # (T, B * H, D)
    h = torch.zeros(X.shape[1], H, dtype=torch.float64)
    c = torch.zeros(X.shape[1], H, dtype=torch.float64, requires_grad=True)
    cells = [c]
    for gx_t in (X @ W_ih.T + b).unbind(0):  # unbind: indexing Gx[t] makes backward O(T^2)
        h, c, _ = lstm_cell(gx_t, h, c, W_hh, None, W_ch)
        cells.append(c)
    return _geometric_mean(_jacobian_norms(c, cells, H))


def rnn_hidden_jacobian_norms(rnn, X):
    """||d h_T / d h_t||_F / sqrt(H) for t = 0..T of an Elman RNN, geometric mean over B.

    Args:
        rnn: modules.RNN (layer 0) or RNNCell; its nonlinearity is used. X: (T, B, D).
    Returns:
        (T + 1,) NumPy array; entry T is 1.
    """
    W_ih, W_hh, b, _ = _weights(rnn)
    H = W_hh.shape[1]
    X = _replicate(X, H)  # (T, B * H, D)
    h = torch.zeros(X.shape[1], H, dtype=torch.float64, requires_grad=True)
    hiddens = [h]
    for gx_t in (X @ W_ih.T + b).unbind(0):
        h = rnn_cell(gx_t, h, W_hh, None, getattr(rnn, "nonlinearity", "tanh"))
        hiddens.append(h)
    return _geometric_mean(_jacobian_norms(h, hiddens, H))


def forget_gate_products(f):
    """P[t] = prod_{k=t+1}^{T} f_k, the diagonal of d c_T / d c_t along the cell alone (4.9).

    Args:
        f: (T, B, H) forget gates, f[k - 1] = f_k (as record_gates returns them).
    Returns:
        (T + 1, B, H) array with P[T] = 1.
    """
    f = np.asarray(f, dtype=np.float64)
    P = np.ones((f.shape[0] + 1, *f.shape[1:]))
    P[:-1] = np.cumprod(f[::-1], axis=0)[::-1]  # P[t] = f[t] * f[t+1] * ... * f[T-1]
    return P


def belt_norms(f):
    """||diag(P[t])||_F / sqrt(H) of forget_gate_products, geometric mean over B: (T + 1,)."""
    P = forget_gate_products(f)
    rms = np.sqrt((P * P).mean(axis=2))  # (T + 1, B)
    return np.exp(np.log(np.maximum(rms, 1e-300)).mean(axis=1))


def draw_jacobian_norms(ax, curves):
    """Plot norms against the distance T - t on a log scale.

    Args:
        ax: matplotlib axes. curves: {label: (T + 1,) norms} or {label: (norms, style dict)}.
    """
    for label, curve in curves.items():
        norms, style = curve if isinstance(curve, tuple) else (curve, {})
        distance = np.arange(len(norms))[::-1]  # T - t for t = 0..T
        ax.semilogy(distance, norms, label=label, **style)
    ax.set(xlabel="distance T - t (steps back in time)", ylabel="Jacobian norm / sqrt(H)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)


class GravesDeltas(NamedTuple):
    """Graves' backward quantities of one step, each (B, H), in our gate names."""

    delta_i: np.ndarray  # input gate, Graves' delta_iota
    delta_f: np.ndarray  # forget gate, delta_phi
    delta_g: np.ndarray  # cell input (candidate), delta_c
    delta_o: np.ndarray  # output gate, delta_omega
    eps_s: np.ndarray  # the state error dL/dc_t, epsilon_s


def graves_deltas(eps_c, dc_next, cache):
    """Backward through one LSTM step, one formula per quantity of Graves (2012), ch. 4.

        delta_o = sigma'(a_o) * tanh(c_t) * eps_c                 (4.11)
        eps_s   = o_t * tanh'(c_t) * eps_c + f_{t+1} eps_s^{t+1}  (4.12)
        delta_g = i_t * tanh'(a_g) * eps_s                        (4.13)
        delta_f = sigma'(a_f) * c_{t-1} * eps_s                   (4.14)
        delta_i = sigma'(a_i) * g_t * eps_s                       (4.15)

    with sigma'(a) = s (1 - s) for s = sigma(a) and tanh'(a) = 1 - tanh(a)^2. Graves sums over
    the cells of a block; our blocks have one cell, so the sums have one term.

    Args:
        eps_c: (B, H) dL/dh_t, the cell-output error (from the loss and from step t+1).
        dc_next: (B, H) f_{t+1} * eps_s^{t+1}, what step t+1 sends back along the cell.
        cache: the LSTMStepCache of lstm_course.scratch.lstm.lstm_step_forward.
    Returns:
        GravesDeltas; [delta_i | delta_f | delta_g | delta_o] is _cell_backward's da.
    """
    i, f, g, o, c_prev, tanh_c = cache.i, cache.f, cache.g, cache.o, cache.c_prev, cache.tanh_c
    delta_o = o * (1 - o) * tanh_c * eps_c
    eps_s = o * (1 - tanh_c**2) * eps_c + dc_next
    delta_g = i * (1 - g**2) * eps_s
    delta_f = f * (1 - f) * c_prev * eps_s
    delta_i = i * (1 - i) * g * eps_s
    return GravesDeltas(delta_i, delta_f, delta_g, delta_o, eps_s)


def lstm_gradcheck(T=3, B=2, D=3, H=4, seed=0):
    """Relative error of scratch.lstm's hand-written BPTT against centred differences.

    The loss is L = sum(H_all * dH_all) for a fixed random dH_all (T, B, H), so dL/dH_all is
    dH_all; every parameter, the inputs and the initial state are checked, all in float64.

    Returns:
        {"W_x", "W_h", "b", "X", "h0", "c0"} -> rel_error (about 1e-9 or less when correct).
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(T, B, D))
    h0, c0 = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    p = {"W_x": rng.normal(size=(D, 4 * H)) * 0.5, "W_h": rng.normal(size=(H, 4 * H)) * 0.5}
    p["b"] = rng.normal(size=4 * H) * 0.5
    dH_all = rng.normal(size=(T, B, H))

    def loss():
        return float(np.sum(lstm_forward(X, (h0, c0), p)[0] * dH_all))

    _, _, cache = lstm_forward(X, (h0, c0), p)
    dX, (dh0, dc0), grads = lstm_backward(dH_all, cache)
    analytic = {**grads, "X": dX, "h0": dh0, "c0": dc0}
    arrays = {**p, "X": X, "h0": h0, "c0": c0}
    return {
        name: rel_error(numeric_gradient(loss, arrays[name]), analytic[name]) for name in arrays
    }


class NNGraphLSTMStep(nn.Module):
    """The slides' Torch7 ``make_lstm_step`` rebuilt with PyTorch modules, line for line.

    Each gate has its own ``x_to_h`` and ``h_to_h`` linear maps whose outputs are added
    (nngraph's CAddTable is ``+``); CMulTable is ``*``. Torch's slide uses one size for input
    and hidden (``opt.rnn_size``); here the input size D may differ.
    """

    def __init__(self, input_size, rnn_size):
        super().__init__()
        self.x_to_h = nn.ModuleDict({gate: nn.Linear(input_size, rnn_size) for gate in "ifgo"})
        self.h_to_h = nn.ModuleDict({gate: nn.Linear(rnn_size, rnn_size) for gate in "ifgo"})

    def new_input_sum(self, gate, input, prev_h):
        return self.x_to_h[gate](input) + self.h_to_h[gate](prev_h)  # nn.CAddTable

    def forward(self, input, prev_h, prev_c):
        in_gate = torch.sigmoid(self.new_input_sum("i", input, prev_h))
        forget_gate = torch.sigmoid(self.new_input_sum("f", input, prev_h))
        cell_gate = torch.tanh(self.new_input_sum("g", input, prev_h))
        next_c = forget_gate * prev_c + in_gate * cell_gate  # CAddTable of two CMulTables
        out_gate = torch.sigmoid(self.new_input_sum("o", input, prev_h))
        next_h = out_gate * torch.tanh(next_c)
        return next_h, next_c

    @torch.no_grad()
    def copy_to(self, module, layer=0):
        """Write these weights into an LSTMCell, or into layer ``layer`` of a modules.LSTM.

        Gate k of the stacks (i, f, g, o) is rows k H to (k + 1) H of weight_ih, weight_hh,
        bias_ih and bias_hh. Returns the module.
        """
        suffix = "" if hasattr(module, "weight_ih") else f"_l{layer}"
        for name, maps in (("ih", self.x_to_h), ("hh", self.h_to_h)):
            weight = torch.cat([maps[gate].weight for gate in "ifgo"])  # (4H, D) or (4H, H)
            getattr(module, f"weight_{name}{suffix}").copy_(weight)
            getattr(module, f"bias_{name}{suffix}").copy_(torch.cat([maps[g].bias for g in "ifgo"]))
        return module


def nngraph_lstm_network(steps, x, prev_s):
    """One time step of the slides' ``make_lstm_network``: layer l reads layer l-1's next_h.

    Args:
        steps: a list of NNGraphLSTMStep, one per layer. x: (B, D).
        prev_s: [h_1, c_1, h_2, c_2, ...], each (B, H) (the slides' split of prev_s).
    Returns:
        (top layer's next_h, next_s in the same layout).
    """
    inputs, next_s = x, []
    for layer, step in enumerate(steps):
        next_h, next_c = step(inputs, prev_s[2 * layer], prev_s[2 * layer + 1])
        next_s += [next_h, next_c]
        inputs = next_h
    return inputs, next_s


def gates_against_cell(lstm, c_prev):
    """The gates of layer 0 at x_t = 0 and h_{t-1} = 0 as the old cell c_{t-1} varies.

    Without peepholes nothing in the gates' inputs depends on c_{t-1}, so they are constant:
    a gate cannot see the cell it controls when the output gate keeps h shut. With peepholes
    i and f add w_ci c_{t-1}, w_cf c_{t-1}, and o adds w_co c_t.

    Args:
        lstm: modules.LSTM or LSTMCell. c_prev: (N,) cell values, used for every unit.
    Returns:
        LSTMGates(i, f, g, o), each (N, H) NumPy.
    """
    W_ih, W_hh, b, W_ch = _weights(lstm)
    c_prev = torch.as_tensor(c_prev, dtype=torch.float64)[:, None].expand(-1, W_hh.shape[1])
    h_prev = torch.zeros_like(c_prev)
    gx = b.expand(c_prev.shape[0], -1)  # x_t = 0: only the biases remain
    _, _, gates = lstm_cell(gx, h_prev, c_prev, W_hh, None, W_ch)
    return LSTMGates(*(gate.numpy() for gate in gates))
