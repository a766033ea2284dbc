"""RNN, LSTM and GRU as drop-in replacements for torch.nn's, with the equations written out.

Same constructor arguments, forward signature, return values, parameter names and shapes as
torch.nn.RNN/LSTM/GRU, so ``ours.load_state_dict(theirs.state_dict())`` works both ways and
the outputs agree. What they add: ``forward(input, hx, lengths=...)`` for padded batches; the
LSTM's forget-gate bias and peepholes; ``record_gates()`` for plots. The step equations live
in cells.py, the time loop in _base.py.

    lstm = LSTM(D, H, num_layers=2)
    output, (h_n, c_n) = lstm(X)                # X (T, B, D) -> output (T, B, H)
    output, (h_n, c_n) = lstm(X, lengths=[5, 3])  # each h_n[:, b] from its own last step
"""

import numbers

import torch
from torch import nn

from lstm_course.modules._base import RecurrentBase
from lstm_course.modules._fused_lstm import lstm_layer
from lstm_course.modules.cells import NONLINEARITIES, gru_cell, lstm_cell, rnn_cell

_SHAPES = """
    Args:
        input_size: D, the number of features of x_t.
        hidden_size: H, the number of features of h_t.
        num_layers: stacked layers; layer l > 0 reads layer l-1's outputs.
        bias: if False, no b_ih and b_hh.
        batch_first: inputs and outputs (B, T, *) instead of (T, B, *); states are unaffected.
        dropout: probability of zeroing each output of every layer but the last (training).
        bidirectional: add a layer reading the sequence backwards; outputs are concatenated.
        device, dtype: where and in which precision to create the parameters.{extra}

    Inputs: input, hx, lengths
        input: (T, B, D), (B, T, D) with batch_first, (T, D) unbatched, or a PackedSequence.
        hx: initial state, (L * num_directions, B, H) with L = num_layers, or
            (L * num_directions, H) unbatched; zeros if None.{hx_note}
        lengths: (B,) CPU int tensor or list of ints in [1, T], or None: sequence b is
            input[:lengths[b], b] and the rest is padding, which never reaches the equations.

    Outputs: output, h_n
        output: (T, B, num_directions * H), h_t of the last layer at every step (zero at padded
            steps); a PackedSequence if input was one.
        h_n: (L * num_directions, B, H), the final state of every layer and direction, at each
            sequence's own last step (the reverse direction ends at t = 1).{hn_note}
"""


class RNN(RecurrentBase):
    __doc__ = """Multi-layer Elman RNN, like torch.nn.RNN.

    For each layer and each t = 1..T (time-major):

        h_t = phi(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

    x_t (B, D) is the input at time t (for layer l > 0, the outputs of layer l-1); h_t (B, H)
    the hidden state, h_0 from hx; phi is tanh or ReLU; W_ih (H, D) is weight_ih_l{k}, W_hh
    (H, H) weight_hh_l{k}, b_ih and b_hh (H,) bias_ih_l{k} and bias_hh_l{k} (only their sum
    matters; torch keeps two for cuDNN). Suffix _reverse for the backward direction.
""" + _SHAPES.format(
        extra="""
        nonlinearity: "tanh" or "relu"; the fourth positional argument, as in torch.""",
        hx_note="",
        hn_note="",
    )

    gates = 1

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
        super().__init__(
            f"RNN_{nonlinearity.upper()}",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
        )
        self.nonlinearity = nonlinearity
        self.reset_parameters()

    def extra_repr(self):
        relu = ", nonlinearity='relu'" if self.nonlinearity == "relu" else ""
        return super().extra_repr() + relu

    def _step(self, gx_t, state, w):
        h = rnn_cell(gx_t, state[0], w.W_hh, None, self.nonlinearity)  # b_hh is in gx_t
        return h, (h,), ()


class LSTM(RecurrentBase):
    __doc__ = """Multi-layer LSTM, like torch.nn.LSTM, with forget-gate bias and optional peepholes.

    For each layer and each t = 1..T (time-major):

        i_t = sigma(x_t W_ii^T + b_ii + h_{t-1} W_hi^T + b_hi)
        f_t = sigma(x_t W_if^T + b_if + h_{t-1} W_hf^T + b_hf)
        g_t = tanh (x_t W_ig^T + b_ig + h_{t-1} W_hg^T + b_hg)
        o_t = sigma(x_t W_io^T + b_io + h_{t-1} W_ho^T + b_ho)
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    x_t (B, D) is the input at time t (for layer l > 0, the outputs of layer l-1); h_t (B, H)
    the hidden state and c_t (B, H) the cell, (h_0, c_0) from hx; i_t, f_t, o_t the input,
    forget and output gates; g_t the candidate content (the slides' C~); sigma the logistic
    sigmoid; * the elementwise product. weight_ih_l{k} (4H, D) stacks W_ii, W_if, W_ig, W_io;
    weight_hh_l{k} (4H, H) stacks W_h*; bias_ih_l{k}, bias_hh_l{k} (4H,) stack b_i*, b_h*.
    Suffix _reverse for the backward direction.

    Peepholes (peephole=True, Gers & Schmidhuber 2000): the gates also see the cell through
    diagonal weights, i_t and f_t add w_ci * c_{t-1} and w_cf * c_{t-1}, o_t adds w_co * c_t.
    weight_ch_l{k} (3, H) holds the rows w_ci, w_cf, w_co, initialised from U(-1/sqrt(H),
    1/sqrt(H)) like every other weight, after them, so the shared weights match torch's.

    Forget-gate bias (forget_bias=1.0): the f slice of bias_ih starts at forget_bias and that
    of bias_hh at 0, so f_t starts near sigma(1) = 0.73 rather than 0.5: the cell starts by
    remembering and gradients flow back through c_t from the first update (Gers, Schmidhuber
    & Cummins 2000; Jozefowicz, Zaremba & Sutskever 2015). forget_bias=None keeps torch's
    initialisation exactly.
""" + _SHAPES.format(
        extra="""
        proj_size: must be 0; projections are not supported.
        forget_bias: keyword only, a number or None (see above).
        peephole: keyword only, add the peephole weights weight_ch_l{k} (see above).
        fused: keyword only; True (default) runs each layer and direction as one autograd
            Function (_fused_lstm.py, the same equations, faster); False runs the step-by-step
            reference loop. Peepholes and record_gates() always use the reference loop.""",
        hx_note="\n            For the LSTM a tuple (h_0, c_0) of two such tensors.",
        hn_note="\n            For the LSTM a tuple (h_n, c_n).",
    )

    gates = 4
    state_names = ("h_0", "c_0")
    trace_names = ("i", "f", "g", "o", "c")

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
        *,
        forget_bias=1.0,
        peephole=False,
        fused=True,
    ):
        if proj_size != 0:
            raise ValueError(
                f"proj_size={proj_size!r} is not supported by lstm_course.modules.LSTM; "
                "use proj_size=0 (or torch.nn.LSTM for projections)"
            )
        if forget_bias is not None and (
            isinstance(forget_bias, bool) or not isinstance(forget_bias, numbers.Real)
        ):
            raise TypeError(f"forget_bias must be a number or None, got {forget_bias!r}")
        if not isinstance(peephole, bool):
            raise TypeError(f"peephole must be a bool, got {type(peephole).__name__}")
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
        )
        self.forget_bias, self.peephole, self.fused = forget_bias, peephole, bool(fused)
        if peephole:  # registered after torch's parameters: they keep torch's seeded values
            for layer in range(num_layers):
                for suffix in self._suffixes(layer):
                    weight = torch.empty(3, hidden_size, device=device, dtype=dtype)
                    self.register_parameter(f"weight_ch{suffix}", nn.Parameter(weight))
        self.reset_parameters()

    def reset_parameters(self):
        """torch's U(-1/sqrt(H), 1/sqrt(H)) for every parameter, then the forget-gate bias."""
        super().reset_parameters()
        if self.bias and self.forget_bias is not None:
            H = self.hidden_size
            with torch.no_grad():
                for name, bias in self.named_parameters():
                    if name.startswith("bias_"):
                        bias[H : 2 * H].fill_(self.forget_bias if "_ih_" in name else 0.0)

    def extra_repr(self):
        s = super().extra_repr()
        s += "" if self.forget_bias == 1.0 else f", forget_bias={self.forget_bias}"
        s += ", peephole=True" if self.peephole else ""
        return s + ("" if self.fused else ", fused=False")

    def record_gates(self):
        """Context manager recording every gate during the forward passes inside it.

            with lstm.record_gates() as gates:
                lstm(X)
            gates[layer, direction]["f"]  # (T, B, H) detached; also "i", "g", "o", "c"

        Time-major whatever batch_first, B = 1 for an unbatched input, zero at padded steps;
        a later forward inside the block overwrites an earlier one. h_t = o * tanh(c).
        """
        return self._record()

    def _fast(self, w):
        """Whether the fused Function (_fused_lstm.py) computes what the reference loop would."""
        return self.fused and w.W_ch is None and self._trace is None

    def _project(self, X, w):
        """Gx = X W_ih^T + b, except on the fast path: there the fused Function projects X
        itself, straight into the buffer its loop works in, so X passes through as it is."""
        return X if self._fast(w) else super()._project(X, w)

    def _scan(self, Gx, state, w, mask, key):
        """The fused Function on the fast path (Gx is then X, see _project), else the loop."""
        if self._fast(w):
            b = None if w.b_ih is None else w.b_ih + w.b_hh
            output, h, c = lstm_layer(Gx, w.W_ih, b, *state, w.W_hh, mask, reverse=key[1] == 1)
            return output, (h, c)
        return super()._scan(Gx, state, w, mask, key)

    def _step(self, gx_t, state, w):
        h_prev, c_prev = state
        h, c, gates = lstm_cell(gx_t, h_prev, c_prev, w.W_hh, None, w.W_ch)  # b_hh is in gx_t
        return h, (h, c), (*gates, c)


class GRU(RecurrentBase):
    __doc__ = """Multi-layer GRU, like torch.nn.GRU.

    For each layer and each t = 1..T (time-major):

        r_t = sigma(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)
        z_t = sigma(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)
        n_t = tanh (x_t W_in^T + b_in + r_t * (h_{t-1} W_hn^T + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    x_t (B, D) is the input at time t (for layer l > 0, the outputs of layer l-1); h_t (B, H)
    the hidden state, h_0 from hx; r_t the reset gate, z_t the update gate (z_t = 1 keeps the
    old state), n_t the candidate state; sigma the logistic sigmoid; * the elementwise product.
    weight_ih_l{k} (3H, D) stacks W_ir, W_iz, W_in; weight_hh_l{k} (3H, H) stacks W_h*;
    bias_ih_l{k} and bias_hh_l{k} (3H,). The reset gate multiplies b_hn as well, so the two
    biases cannot be merged (Cho et al. 2014 reset h_{t-1} before the matmul; torch after).
    Suffix _reverse for the backward direction.
""" + _SHAPES.format(extra="", hx_note="", hn_note="")

    gates = 3
    trace_names = ("r", "z", "n")

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
        )
        self.reset_parameters()

    def record_gates(self):
        """Context manager recording r, z, n, each (T, B, H); see LSTM.record_gates."""
        return self._record()

    def _project(self, X, w):
        """Gx = X @ W_ih.T + b_ih; b_hh stays in the step, where r multiplies b_hn."""
        Gx = X @ w.W_ih.T  # (T, B, 3H)
        return Gx if w.b_ih is None else Gx + w.b_ih

    def _step(self, gx_t, state, w):
        h, gates = gru_cell(gx_t, state[0], w.W_hh, w.b_hh)
        return h, (h,), gates
