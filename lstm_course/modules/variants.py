"""LSTM variants for the ablation of lecture 5: one module that drops or couples gates.

Greff et al. (2016) and Jozefowicz et al. (2015) asked which parts of the LSTM matter by
removing them one at a time. Each variant changes one line of the vanilla step (eqs. 5.10-5.12):

    vanilla  i, f, o = sigma(a_i), sigma(a_f), sigma(a_o)   (torch.nn.LSTM, no peepholes)
    NIG      i = 1                  no input gate: every candidate is written in full
    NFG      f = 1                  no forget gate: the cell only accumulates (LSTM of 1997)
    NOG      o = 1                  no output gate: h = tanh(c) exposes the whole cell
    CIFG     f = 1 - i              coupled input-forget gate: write exactly as much as is erased
    NOAF     h = o * c              no output activation: the cell is read without tanh

    g = tanh(a_g),  c = f * c_prev + i * g,  h = o * tanh(c)   (unchanged unless said above)

A variant has parameters only for the gates it computes, stacked in the order i, f, g, o
with the missing ones left out (NIG: f, g, o), so NIG, NFG, NOG and CIFG have 3H gate rows
where vanilla and NOAF have 4H. ``variant="vanilla"`` is exactly ``modules.LSTM``: the same
parameter names, initialisation and outputs (tests/test_modules_variants.py).

Shapes: gx_t (B, kH) with k = len(GATES[variant]); h_prev, c_prev (B, H); W_hh (kH, H).
"""

import torch

from lstm_course.modules.cells import LSTMGates
from lstm_course.modules.recurrent import LSTM

# The gates each variant computes, in the order their rows are stacked in the weights.
GATES = {
    "vanilla": "ifgo",
    "NIG": "fgo",
    "NFG": "igo",
    "NOG": "ifg",
    "CIFG": "igo",
    "NOAF": "ifgo",
}
VARIANTS = tuple(GATES)


def lstm_variant_cell(gx_t, h_prev, c_prev, W_hh, variant="vanilla"):
    """One step of an LSTM variant (module docstring, eqs. 5.10-5.12).

    Args:
        gx_t: (B, kH) input part x_t W_ih^T + b_ih + b_hh of the gates this variant has.
        h_prev, c_prev: (B, H). W_hh: (kH, H). variant: one of VARIANTS.
    Returns:
        h, c: (B, H); LSTMGates(i, f, g, o), each (B, H), ones where a gate is removed.
    """
    names = GATES[variant]
    a = torch.addmm(gx_t, h_prev, W_hh.T)  # (B, kH) the pre-activations this variant has
    a = dict(zip(names, a.chunk(len(names), dim=1), strict=True))
    one = torch.ones_like(c_prev)  # a removed gate is a gate held open
    i = torch.sigmoid(a["i"]) if "i" in a else one
    if variant == "CIFG":
        f = 1 - i  # sigma(-a_i): the forget gate mirrors the input gate
    else:
        f = torch.sigmoid(a["f"]) if "f" in a else one
    g = torch.tanh(a["g"])
    o = torch.sigmoid(a["o"]) if "o" in a else one
    c = f * c_prev + i * g
    h = o * (c if variant == "NOAF" else torch.tanh(c))
    return h, c, LSTMGates(i, f, g, o)


class LSTMVariant(LSTM):
    """``modules.LSTM`` with one gate removed or coupled (see the module docstring).

    Everything else is the LSTM's: the time loop, layers, directions, ``lengths=``,
    ``record_gates()`` (a removed gate records as ones) and the forget-gate bias.

    Args:
        input_size: D. hidden_size: H. variant: one of VARIANTS.
        forget_bias: the initial bias of the forget gate, so f starts near sigma(forget_bias).
            For CIFG, where f = 1 - i, the input gate's bias starts at -forget_bias instead;
            NFG has no forget gate and ignores it. None keeps torch's initialisation.
        fused: vanilla only, as in LSTM; the other variants always run the step loop.
        **kwargs: the LSTM's (num_layers, bias, batch_first, dropout, bidirectional, ...).
    Shapes:
        as modules.LSTM: input (T, B, D) -> output (T, B, num_directions * H), (h_n, c_n).
    """

    def __init__(self, input_size, hidden_size, variant="vanilla", *, forget_bias=1.0, **kwargs):
        if variant not in GATES:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        if kwargs.get("peephole"):
            raise ValueError("LSTMVariant has no peepholes; use modules.LSTM(peephole=True)")
        # Read by RecurrentBase.__init__ to size the weights: set before it runs.
        self.variant, self.gates = variant, len(GATES[variant])
        super().__init__(input_size, hidden_size, forget_bias=forget_bias, **kwargs)

    def reset_parameters(self):
        """torch's U(-1/sqrt(H), 1/sqrt(H)), then the forget-gate bias where the variant has f."""
        super(LSTM, self).reset_parameters()  # RecurrentBase's: the uniform only
        if not self.bias or self.forget_bias is None or self.variant == "NFG":
            return
        H, names = self.hidden_size, GATES[self.variant]
        k, value = (names.index("f"), self.forget_bias) if "f" in names else (0, -self.forget_bias)
        with torch.no_grad():
            for name, bias in self.named_parameters():
                if name.startswith("bias_"):
                    bias[k * H : (k + 1) * H].fill_(value if "_ih_" in name else 0.0)

    def extra_repr(self):
        return super().extra_repr() + f", variant={self.variant!r}"

    def _fast(self, w):
        """The LSTM's fused Function for the vanilla LSTM; every other variant runs _step."""
        return self.variant == "vanilla" and super()._fast(w)

    def _step(self, gx_t, state, w):
        h, c, gates = lstm_variant_cell(gx_t, *state, w.W_hh, self.variant)
        return h, (h, c), (*gates, c)
