"""What RNN, LSTM and GRU share: torch.nn's parameters, the time loop, layers, directions,
variable lengths and gate recording. Each subclass supplies one step (from cells.py).

The loop, for one layer and one direction (layer 0 reads the input; layer l > 0 reads the
outputs of layer l - 1, forward and reverse concatenated, after dropout in training mode):

    Gx = X @ W_ih.T + b             (T, B, kH) the input part of every step, in one matmul
    for t in 0..T-1 (T-1..0 for the reverse direction):
        h, state = step(Gx[t], state)

Variable lengths use a (T, B, 1) mask, True at the real steps. At a padded step the state is
left as it was, so each sequence's final state is its state at its own last step, and the
reverse direction, which starts at t = T-1, keeps its initial state until it reaches the
sequence's last real step. Outputs at padded steps are zero, as pad_packed_sequence gives.
"""

import contextlib
import math
import warnings
from typing import NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from lstm_course.modules._checks import (
    check_constructor,
    check_input,
    check_lengths,
    check_state,
)
from lstm_course.modules._packing import pack_like, step_mask, unpack


class LayerWeights(NamedTuple):
    """The parameters of one layer and direction (None where absent)."""

    W_ih: torch.Tensor  # (kH, D) or (kH, num_directions * H) above layer 0
    W_hh: torch.Tensor  # (kH, H)
    b_ih: torch.Tensor | None  # (kH,)
    b_hh: torch.Tensor | None  # (kH,)
    W_ch: torch.Tensor | None  # (3, H) LSTM peepholes


class RecurrentBase(nn.Module):
    """torch.nn.RNNBase's constructor, parameters and forward, written as a Python loop.

    Subclasses set ``gates`` (k: 1, 4 or 3), ``state_names`` and ``trace_names``, and write
    ``_step(gx_t, state, w) -> (h, state, trace)`` and ``_project(X, w) -> Gx``.
    """

    gates = 1
    state_names = ("h_0",)  # the tuple the loop carries; the LSTM's is ("h_0", "c_0")
    trace_names = ()  # what _step returns for record_gates, each (B, H)

    def __init__(
        self,
        mode,
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
        super().__init__()
        check_constructor(
            input_size,
            hidden_size,
            num_layers,
            dropout,
            bias=bias,
            batch_first=batch_first,
            bidirectional=bidirectional,
        )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout adds dropout after all but the last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=3,
            )
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        self.dropout = float(dropout)
        self.proj_size = 0  # torch's attribute; projections are not supported
        self._trace = None  # a dict while record_gates is active
        factory = {"device": device, "dtype": dtype}
        kH = self.gates * hidden_size
        # torch's names and order: the same seed then gives the same initial weights.
        for layer in range(num_layers):
            for suffix in self._suffixes(layer):
                D = input_size if layer == 0 else hidden_size * self.num_directions
                self.register_parameter(
                    f"weight_ih{suffix}", nn.Parameter(torch.empty(kH, D, **factory))
                )
                self.register_parameter(
                    f"weight_hh{suffix}", nn.Parameter(torch.empty(kH, hidden_size, **factory))
                )
                if bias:
                    for name in ("bias_ih", "bias_hh"):
                        self.register_parameter(
                            f"{name}{suffix}", nn.Parameter(torch.empty(kH, **factory))
                        )

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    def _suffixes(self, layer):
        """torch's parameter-name suffixes of one layer: '_l0' and '_l0_reverse'."""
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    def _weights(self, layer, direction):
        suffix = self._suffixes(layer)[direction]
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_ch")
        return LayerWeights(*(getattr(self, f"{name}{suffix}", None) for name in names))

    @property
    def all_weights(self):
        """torch.nn's list of [W_ih, W_hh, b_ih, b_hh] lists, one per layer and direction."""
        return [
            [p for p in self._weights(layer, direction) if p is not None]
            for layer in range(self.num_layers)
            for direction in range(self.num_directions)
        ]

    def reset_parameters(self):
        """torch.nn's initialisation: every parameter from U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def flatten_parameters(self):
        """A no-op, so code written for torch.nn (cuDNN's packed weights) runs unchanged."""

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = dict(
            num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False
        )
        for name, default in defaults.items():
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    @contextlib.contextmanager
    def _record(self):
        """Context manager behind record_gates: a dict that every forward inside it fills."""
        self._trace = {}
        try:
            yield self._trace
        finally:
            self._trace = None

    def _project(self, X, w):
        """Gx = X @ W_ih.T + b_ih + b_hh: b_hh is only ever added here, so add it once."""
        Gx = X @ w.W_ih.T  # (T, B, kH)
        return Gx if w.b_ih is None else Gx + (w.b_ih + w.b_hh)

    # -- forward ------------------------------------------------------------------------------

    def _initial_state(self, hx, B, batched, X):
        """hx as a tuple of (num_layers * num_directions, B, H) tensors, zeros if None."""
        where = type(self).__name__
        shape = (self.num_layers * self.num_directions, B, self.hidden_size)
        if hx is None:
            return tuple(X.new_zeros(shape) for _ in self.state_names)
        if len(self.state_names) == 2:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{where}: hx must be a tuple (h_0, c_0) of two tensors or None")
            raw, names = tuple(hx), ("hx[0] (h_0)", "hx[1] (c_0)")
        else:
            raw, names = (hx,), ("hx (h_0)",)
        letters = ("num_layers * num_directions", "B", "H")
        if not batched:  # torch: an unbatched input takes an unbatched state
            shape, letters = (shape[0], shape[2]), (letters[0], letters[2])
        dtype = self.weight_ih_l0.dtype
        states = [
            check_state(n, s, shape, letters, dtype, where) for n, s in zip(names, raw, strict=True)
        ]
        return tuple(s if batched else s.unsqueeze(1) for s in states)

    def forward(self, input, hx=None, lengths=None):
        """Run every layer and direction over the sequence; see the class docstring."""
        where = type(self).__name__
        packed = input if isinstance(input, PackedSequence) else None
        if packed is not None:
            if lengths is not None:
                raise ValueError(
                    f"{where}: a PackedSequence carries its lengths; pass lengths=None"
                )
            X, lengths = unpack(packed)  # (T, B, D) time-major, (B,)
            batched = check_input(
                X, self.input_size, self.weight_ih_l0.dtype, where, ("T", "B", "D")
            )
        else:
            letters = ("B", "T", "D") if self.batch_first else ("T", "B", "D")
            batched = check_input(input, self.input_size, self.weight_ih_l0.dtype, where, letters)
            if not batched:
                if lengths is not None:
                    raise ValueError(f"{where}: lengths needs a batched input (T, B, D)")
                X = input.unsqueeze(1)
            else:
                X = input.transpose(0, 1) if self.batch_first else input
        T, B = X.shape[:2]
        state0 = self._initial_state(hx, B, batched, X)
        mask = None
        if lengths is not None:
            mask = step_mask(check_lengths(lengths, B, T, where), T, X.device)  # (T, B, 1)
            X = torch.where(mask, X, 0.0)  # padding, even NaN, never reaches an equation
        output, state_n = self._layers(X, state0, mask)
        if not batched:
            output, state_n = output.squeeze(1), tuple(s.squeeze(1) for s in state_n)
        elif packed is not None:
            output = pack_like(output, packed)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (state_n if len(state_n) == 2 else state_n[0])

    def _layers(self, X, state0, mask):
        """Stacked layers and directions; returns output (T, B, num_directions * H), states."""
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction  # where torch keeps its state
                w = self._weights(layer, direction)
                Gx = self._project(X, w)  # (T, B, kH)
                state = tuple(s[k] for s in state0)
                output, state = self._scan(Gx, state, w, mask, (layer, direction))
                outputs.append(output)
                finals.append(state)
            X = torch.cat(outputs, dim=2) if len(outputs) == 2 else outputs[0]
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                # between layers only, as torch does
                X = nn.functional.dropout(X, self.dropout, training=True)
        state_n = tuple(torch.stack(s) for s in zip(*finals, strict=True))
        return X, state_n

    def _scan(self, Gx, state, w, mask, key):
        """The time loop of one layer and direction (reversed when key[1] == 1).

        Gx.unbind(0) rather than Gx[t]: indexing would make autograd allocate a
        sequence-sized zero gradient at every step of the backward pass.
        """
        steps = Gx.unbind(0)
        masks = None if mask is None else mask.unbind(0)
        T = len(steps)
        outputs, traces = [None] * T, [None] * T
        for t in reversed(range(T)) if key[1] == 1 else range(T):
            h, new_state, trace = self._step(steps[t], state, w)
            if masks is not None:  # a padded step leaves the state as it was
                new_state = tuple(
                    torch.where(masks[t], new, old)
                    for new, old in zip(new_state, state, strict=True)
                )
            state = new_state
            outputs[t] = h
            traces[t] = trace
        output = torch.stack(outputs)  # (T, B, H)
        if mask is not None:
            output = torch.where(mask, output, 0.0)
        if self._trace is not None:
            self._trace[key] = self._stack_trace(traces, mask)
        return output, state

    def _stack_trace(self, traces, mask):
        """{name: (T, B, H)} detached, zero at padded steps."""
        stacked = {}
        for j, name in enumerate(self.trace_names):
            values = torch.stack([trace[j] for trace in traces]).detach()
            stacked[name] = values if mask is None else torch.where(mask, values, 0.0)
        return stacked
