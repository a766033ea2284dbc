"""One time step of the RNN, LSTM and GRU: each equation written once, and torch.nn-style cells.

The step functions take the input part of the pre-activations already computed,
gx_t = x_t W_ih^T + b_ih, because the sequence modules compute it for all T steps in one
matmul; a step adds the recurrent part h_prev W_hh^T (one matmul for all gates) and applies
the gates. RNNCell, LSTMCell and GRUCell wrap them as drop-in replacements for torch.nn's cells:
same arguments, parameter names (weight_ih, weight_hh, bias_ih, bias_hh) and shapes.

torch stores W_ih as (gates*H, D) for column vectors; we multiply row vectors by its transpose,
x_t @ W_ih.T, so the weights copy from torch.nn without change. Gates are stacked i, f, g, o
(LSTM) and r, z, n (GRU), as in torch.nn.

Shapes: gx_t (B, kH) with k gates, h_prev and c_prev (B, H), W_hh (kH, H), b_hh (kH,).
"""

import math
from typing import NamedTuple

import torch
from torch import nn

from lstm_course.modules._checks import check_constructor, check_input, check_state

NONLINEARITIES = ("tanh", "relu")


class LSTMGates(NamedTuple):
    """The four LSTM gate activations of one step, each (B, H)."""

    i: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    o: torch.Tensor


class GRUGates(NamedTuple):
    """The three GRU gate activations of one step, each (B, H)."""

    r: torch.Tensor
    z: torch.Tensor
    n: torch.Tensor


def rnn_cell(gx_t, h_prev, W_hh, b_hh=None, nonlinearity="tanh"):
    """One Elman RNN step: h = phi(x_t W_ih^T + b_ih + h_prev W_hh^T + b_hh).

    Args:
        gx_t: (B, H) input part x_t W_ih^T + b_ih. h_prev: (B, H).
        W_hh: (H, H). b_hh: (H,) or None (the sequence modules fold it into gx_t).
        nonlinearity: "tanh" or "relu".
    Returns:
        h: (B, H).
    """
    a = torch.addmm(gx_t, h_prev, W_hh.T)  # gx_t + h_prev @ W_hh.T in one op
    if b_hh is not None:
        a = a + b_hh
    return torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)


def lstm_cell(gx_t, h_prev, c_prev, W_hh, b_hh=None, W_ch=None):
    """One LSTM step, with optional peephole connections (Gers & Schmidhuber 2000).

        i = sigma(a_i + w_ci * c_prev),  f = sigma(a_f + w_cf * c_prev),  g = tanh(a_g)
        c = f * c_prev + i * g,          o = sigma(a_o + w_co * c),       h = o * tanh(c)

    where [a_i | a_f | a_g | a_o] = gx_t + h_prev W_hh^T + b_hh and the w_c* terms are present
    only with peepholes. g is the candidate content (the slides' C~).

    Args:
        gx_t: (B, 4H) input part x_t W_ih^T + b_ih. h_prev, c_prev: (B, H).
        W_hh: (4H, H). b_hh: (4H,) or None (the sequence modules fold it into gx_t).
        W_ch: (3, H) peephole weights, rows w_ci, w_cf, w_co, or None.
    Returns:
        h, c: (B, H); LSTMGates(i, f, g, o), each (B, H).
    """
    a = torch.addmm(gx_t, h_prev, W_hh.T)  # (B, 4H) all gate pre-activations at once
    if b_hh is not None:
        a = a + b_hh
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    if W_ch is not None:  # i and f look at the cell they are about to change
        w_ci, w_cf, w_co = W_ch.unbind(0)
        a_i = a_i + w_ci * c_prev
        a_f = a_f + w_cf * c_prev
    i, f, g = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g)
    c = f * c_prev + i * g  # the cell: additive in time
    if W_ch is not None:  # o looks at the cell it is about to expose
        a_o = a_o + w_co * c
    o = torch.sigmoid(a_o)
    h = o * torch.tanh(c)
    return h, c, LSTMGates(i, f, g, o)


def gru_cell(gx_t, h_prev, W_hh, b_hh=None):
    """One GRU step, torch.nn.GRU's equations (the reset gate acts after the matmul):

        r = sigma(a_xr + a_hr),  z = sigma(a_xz + a_hz),  n = tanh(a_xn + r * a_hn)
        h = (1 - z) * n + z * h_prev

    where [a_xr | a_xz | a_xn] = gx_t and [a_hr | a_hz | a_hn] = h_prev W_hh^T + b_hh. The two
    biases cannot be merged: r multiplies b_hn but not b_in.

    Args:
        gx_t: (B, 3H) input part x_t W_ih^T + b_ih. h_prev: (B, H).
        W_hh: (3H, H). b_hh: (3H,) or None.
    Returns:
        h: (B, H); GRUGates(r, z, n), each (B, H).
    """
    if b_hh is None:
        gh = h_prev @ W_hh.T
    else:
        gh = torch.addmm(b_hh, h_prev, W_hh.T)  # (B, 3H) h_prev @ W_hh.T + b_hh
    a_xr, a_xz, a_xn = gx_t.chunk(3, dim=1)
    a_hr, a_hz, a_hn = gh.chunk(3, dim=1)
    r = torch.sigmoid(a_xr + a_hr)
    z = torch.sigmoid(a_xz + a_hz)
    n = torch.tanh(a_xn + r * a_hn)
    h = (1 - z) * n + z * h_prev  # z = 1 keeps the old state
    return h, GRUGates(r, z, n)


class _CellBase(nn.Module):
    """Parameters, initialisation and argument checks shared by the three cells."""

    def __init__(self, input_size, hidden_size, bias, gates, device=None, dtype=None):
        super().__init__()
        check_constructor(input_size, hidden_size, bias=bias)
        factory = {"device": device, "dtype": dtype}
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = nn.Parameter(torch.empty(gates * hidden_size, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(gates * hidden_size, hidden_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(gates * hidden_size, **factory))
            self.bias_hh = nn.Parameter(torch.empty(gates * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def reset_parameters(self):
        """torch.nn's initialisation: every parameter from U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _prepare(self, input, hx, n_states):
        """Check input and state; return them batched (B, D), (B, H) with a flag to unbatch."""
        where = type(self).__name__
        dtype = self.weight_ih.dtype
        batched = check_input(input, self.input_size, dtype, where, ("B", "D"))
        x = input if batched else input.unsqueeze(0)
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            states = tuple(x.new_zeros(shape) for _ in range(n_states))
        else:
            if n_states == 2 and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise TypeError(f"{where}: hx must be a tuple (h, c) of two tensors or None")
            names = ("hx[0] (h)", "hx[1] (c)") if n_states == 2 else ("hx",)
            raw = tuple(hx) if n_states == 2 else (hx,)
            letters = ("B", "H") if batched else ("H",)
            states = tuple(
                check_state(name, s, shape if batched else shape[1:], letters, dtype, where)
                for name, s in zip(names, raw, strict=True)
            )
            states = states if batched else tuple(s.unsqueeze(0) for s in states)
        gx = x @ self.weight_ih.T  # (B, kH)
        if self.bias_ih is not None:
            gx = gx + self.bias_ih
        return gx, states, batched


def _unbatch(tensors, batched):
    return tensors if batched else tuple(t.squeeze(0) for t in tensors)


class RNNCell(_CellBase):
    """Elman RNN cell, h' = phi(x W_ih^T + b_ih + h W_hh^T + b_hh), like torch.nn.RNNCell.

    Args:
        input_size: D. hidden_size: H. bias: with b_ih and b_hh. nonlinearity: "tanh"|"relu".
    Shapes:
        input (B, D) or (D,); hx (B, H) or (H,), zeros if None; returns h' shaped like hx.
    """

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.reset_parameters()

    def extra_repr(self):
        relu = ", nonlinearity='relu'" if self.nonlinearity == "relu" else ""
        return super().extra_repr() + relu

    def forward(self, input, hx=None):
        gx, (h,), batched = self._prepare(input, hx, 1)
        h = rnn_cell(gx, h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return _unbatch((h,), batched)[0]


class LSTMCell(_CellBase):
    """LSTM cell (see lstm_cell for the equations), like torch.nn.LSTMCell plus two options.

    Args:
        input_size: D. hidden_size: H. bias: with b_ih and b_hh.
        forget_bias: the initial forget-gate slice of bias_ih (bias_hh's is 0), as in LSTM;
            None keeps torch's initialisation. Ignored when bias=False.
        peephole: add weight_ch (3, H), rows w_ci, w_cf, w_co, initialised like the others.
    Shapes:
        input (B, D) or (D,); hx a tuple (h, c), each (B, H) or (H,), zeros if None;
        returns (h', c') shaped like h.
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        bias=True,
        device=None,
        dtype=None,
        *,
        forget_bias=1.0,
        peephole=False,
    ):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)
        if peephole:
            self.weight_ch = nn.Parameter(torch.empty(3, hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("weight_ch", None)
        self.forget_bias, self.peephole = forget_bias, peephole
        self.reset_parameters()

    def reset_parameters(self):
        """torch's U(-1/sqrt(H), 1/sqrt(H)), then the forget-gate bias (see LSTM)."""
        super().reset_parameters()
        if self.bias and self.forget_bias is not None:
            H = self.hidden_size
            with torch.no_grad():
                self.bias_ih[H : 2 * H].fill_(self.forget_bias)
                self.bias_hh[H : 2 * H].zero_()

    def extra_repr(self):
        s = super().extra_repr()
        s += "" if self.forget_bias == 1.0 else f", forget_bias={self.forget_bias}"
        return s + (", peephole=True" if self.peephole else "")

    def forward(self, input, hx=None):
        gx, (h, c), batched = self._prepare(input, hx, 2)
        h, c, _ = lstm_cell(gx, h, c, self.weight_hh, self.bias_hh, self.weight_ch)
        return _unbatch((h, c), batched)


class GRUCell(_CellBase):
    """GRU cell (see gru_cell for the equations), like torch.nn.GRUCell.

    Args:
        input_size: D. hidden_size: H. bias: with b_ih and b_hh.
    Shapes:
        input (B, D) or (D,); hx (B, H) or (H,), zeros if None; returns h' shaped like hx.
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)
        self.reset_parameters()

    def forward(self, input, hx=None):
        gx, (h,), batched = self._prepare(input, hx, 1)
        h, _ = gru_cell(gx, h, self.weight_hh, self.bias_hh)
        return _unbatch((h,), batched)[0]
