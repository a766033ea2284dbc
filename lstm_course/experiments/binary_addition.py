"""Lecture 11's binary adder: a small tanh RNN adds two numbers bit by bit, and a hand-wired
one shows what it has to compute.

The data is ``lstm_course.data.BinaryAddition``: at step t the input is x_t = (a_t, b_t), bit
t of each operand, least significant first, and the target is bit t of a + b. The model is

    h_t = tanh(x_t W_x + h_{t-1} W_h + b),      p_t = sigma(h_t W_y + b_y)          (11.2)

trained on the binary cross-entropy of every bit (11.4). It is trained on ``n_bits``-bit
operands and tested on longer ones: the rule (11.1) is the same at every step, so a network
that learnt the rule, not the examples, adds numbers of any length.

``wired_adder`` sets the weights of (11.2) by hand (eq. 11.3), three units with thresholds on
total_t = a_t + b_t + c_{t-1}; the middle one *is* the carry. ``lstm_course.analysis.carry``
looks for the same thing in the trained network.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch.nn import functional

from lstm_course import set_seed
from lstm_course.data import BinaryAddition, make_loader
from lstm_course.data._checks import check_float, check_int
from lstm_course.data.tasks import bits_to_int, int_to_bits
from lstm_course.models import SequenceModel
from lstm_course.train import fit


@dataclass(frozen=True)
class AdderSetup:
    """A binary-addition recipe.

    Attributes:
        kind: "RNN" (tanh, eq. 11.2), "GRU" or "LSTM". hidden_size: H.
        n_bits: operand length in training. n_train: training additions.
        batch_size: B. lr: Adam's rate. steps: training steps. seed: data, model, order.
    """

    kind: str = "RNN"
    hidden_size: int = 8
    n_bits: int = 8
    n_train: int = 2048
    batch_size: int = 64
    lr: float = 1e-2
    steps: int = 600
    seed: int = 0


class AdderRun(NamedTuple):
    """A trained adder: the ``SequenceModel``, ``fit``'s ``History`` and the setup."""

    model: SequenceModel
    history: object
    setup: AdderSetup


def bit_loss(model, batch):
    """Eq. (11.4): binary cross-entropy of every output bit, and the bit accuracy."""
    logit = model(batch.x)[0][..., 0]  # (T, B)
    loss = functional.binary_cross_entropy_with_logits(logit, batch.y)
    return loss, {"bit_acc": ((logit > 0).float() == batch.y).float().mean()}


def train_adder(setup=AdderSetup(), progress=True, device="cpu"):
    """Train a many-to-many ``SequenceModel`` on ``setup.n_bits``-bit additions."""
    data = BinaryAddition(setup.n_train, setup.n_bits, seed=setup.seed + 1)
    set_seed(setup.seed)
    model = SequenceModel(setup.kind, 2, setup.hidden_size, 1, readout="all")
    history = fit(
        model,
        make_loader(data, setup.batch_size, seed=setup.seed),
        bit_loss,
        steps=setup.steps,
        lr=setup.lr,
        device=device,
        progress=progress,
    )
    return AdderRun(model, history, setup)


def operand_bits(a, b, n_bits):
    """x (n_bits + 1, B, 2) for operands a, b (ints or sequences): the model's input.

    One extra step with zero inputs lets the model write the final carry.
    """
    n_bits = check_int("n_bits", n_bits, minimum=1, maximum=62)
    a, b = torch.as_tensor(a, dtype=torch.int64), torch.as_tensor(b, dtype=torch.int64)
    x = torch.stack([int_to_bits(a, n_bits + 1), int_to_bits(b, n_bits + 1)], dim=-1)
    return x.reshape(-1, n_bits + 1, 2).transpose(0, 1)  # (T, B, 2)


@torch.no_grad()
def add(model, a, b, n_bits=None):
    """The model's a + b for integers (or equally long sequences of them).

    Args:
        model: a trained adder. n_bits: operand length (default: enough bits for both).
    Returns:
        (sums, p): sums (B,) int64 tensor decoded from the output bits; p (T, B) P(bit = 1).
    """
    a, b = torch.as_tensor(a, dtype=torch.int64), torch.as_tensor(b, dtype=torch.int64)
    if (a < 0).any() or (b < 0).any():
        raise ValueError("a and b must be non-negative integers")
    n_bits = n_bits or max(1, int(torch.maximum(a.max(), b.max())).bit_length())
    x = operand_bits(a, b, n_bits)
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        state = model.initial_state(x.shape[1]) if hasattr(model, "initial_state") else None
        p = torch.sigmoid(model(x.to(device), state)[0][..., 0]).cpu()  # (T, B)
    finally:
        model.train(was_training)
    return bits_to_int(p, dim=0), p


def sum_accuracy(model, n_bits, n=1000, seed=0):
    """Fraction of n random ``n_bits``-bit additions whose every output bit is right."""
    test = BinaryAddition(check_int("n", n, minimum=1), n_bits, seed=seed)
    sums, _ = add(model, test.a, test.b, n_bits)
    return float((sums == test.a + test.b).float().mean())


def length_generalisation(model, bit_sizes=(8, 16, 32, 62), n=1000, seed=10_000):
    """{n_bits: sum accuracy} on fresh additions of each operand length."""
    return {bits: sum_accuracy(model, bits, n, seed + bits) for bits in bit_sizes}


class WiredAdder(SequenceModel):
    """A tanh RNN with hand-set weights (eq. 11.3) that adds exactly; it starts at h_0 = -1.

    With a gain G and total_t = a_t + b_t + c_{t-1}, unit k = 1, 2, 3 fires when total_t >= k:

        h_tk = tanh(G (total_t - k + 1/2)),     c_{t-1} = (h_{t-1,2} + 1) / 2
        p_t = sigma(G_y (h_t1 - h_t2 + h_t3))                                          (11.3)

    Unit 2 is the carry (total >= 2), and the sum bit is 1 for totals 1 and 3, exactly when
    h_1 - h_2 + h_3 = +1. In the row-vector form of (11.2): W_x = G [[1, 1, 1], [1, 1, 1]];
    W_h has one non-zero row, G/2 from unit 2 to every unit; b = G (0, -1, -2); W_y =
    G_y (1, -1, 1). "No carry" is h_2 = -1, so the machine must start from h_0 = (-1, -1, -1)
    rather than the usual zeros: ``initial_state`` gives it.
    """

    def __init__(self, gain=10.0, out_gain=10.0):
        super().__init__("RNN", 2, 3, 1, readout="all")
        G = check_float("gain", gain, minimum=0.0, strict=True)
        G_y = check_float("out_gain", out_gain, minimum=0.0, strict=True)
        W_x = G * torch.ones(2, 3)  # (D, H)
        W_h = torch.zeros(3, 3)  # (H, H), row j: what unit j feeds into every unit
        W_h[1] = G / 2
        b = G * torch.tensor([0.0, -1.0, -2.0])
        with torch.no_grad():
            self.rnn.weight_ih_l0.copy_(W_x.T)  # torch stores (H, D): W_x transposed
            self.rnn.weight_hh_l0.copy_(W_h.T)
            self.rnn.bias_ih_l0.copy_(b)
            self.rnn.bias_hh_l0.zero_()
            self.out.weight.copy_(G_y * torch.tensor([[1.0, -1.0, 1.0]]))
            self.out.bias.zero_()

    def initial_state(self, B):
        """h_0 = -1 in every unit: "no carry yet". (1, B, 3)."""
        return -torch.ones(1, B, 3, device=self.out.weight.device)

    def forward(self, x, state=None, lengths=None):
        if state is None:
            state = self.initial_state(x.shape[1])
        return super().forward(x, state, lengths)


def wired_adder(gain=10.0, out_gain=10.0):
    """The hand-wired adder of eq. (11.3), a ``WiredAdder``."""
    return WiredAdder(gain, out_gain)


def bit_table(a, b, p):
    """Rows (t, a_t, b_t, carry in, sum bit, carry out, model P(s_t = 1)) for one addition.

    Args:
        a, b: ints. p: (T,) the model's probabilities for that addition.
    Returns:
        a list of tuples, one per step.
    """
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    rows, carry = [], 0
    for t in range(len(p)):
        a_t, b_t = (a >> t) & 1, (b >> t) & 1
        total = a_t + b_t + carry
        rows.append((t, a_t, b_t, carry, total % 2, total // 2, float(p[t])))
        carry = total // 2
    return rows


# ----- plots -----


def plot_generalisation(accuracy, trained_bits, ax=None):
    """Bars of exact-sum accuracy by operand length; the trained length in blue."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    names = [f"{n}" + (" (trained)" if n == trained_bits else "") for n in accuracy]
    colors = ["tab:blue" if n == trained_bits else "tab:gray" for n in accuracy]
    bars = ax.bar(names, list(accuracy.values()), color=colors)
    ax.bar_label(bars, fmt="%.3f")
    ax.set(xlabel="bits per operand", ylabel="sums exactly right", ylim=(0, 1.15))
    return ax


def plot_carry_code(states, s, c, r, direction, figsize=(13, 3.6)):
    """Three views of the carry in the states h_t (T, B, H) of many additions.

    Left: each unit's correlation r_j with c_t. Middle: the states projected on the carry
    direction w_c of (11.5), one histogram per carry. Right: the states on their first two
    principal components, coloured by (sum bit s_t, carry c_t).
    """
    import matplotlib.pyplot as plt

    from lstm_course.analysis.carry import principal_components

    fig, (ax_r, ax_w, ax_pc) = plt.subplots(1, 3, figsize=figsize)
    best = int(np.argmax(np.abs(r)))
    colors = ["tab:red" if j == best else "tab:gray" for j in range(len(r))]
    ax_r.bar(np.arange(len(r)), r, color=colors)
    ax_r.axhline(0, color="black", lw=0.8)
    ax_r.set(xlabel="unit j", ylabel="$r_j$ with the carry $c_t$", ylim=(-1.05, 1.05))
    ax_r.set_title(f"unit {best}: r = {r[best]:.3f}")
    flat = states.reshape(-1, states.shape[-1])
    score = (flat - direction.m) @ direction.w  # (N,)
    for value, color in ((0, "tab:blue"), (1, "tab:orange")):
        ax_w.hist(
            score[c.reshape(-1) == value], bins=60, color=color, alpha=0.7, label=f"c = {value}"
        )
    ax_w.axvline(0, color="black", ls="--", lw=1)
    ax_w.set(xlabel="$(h_t - m) \\cdot w_c$", ylabel="states", yscale="log")
    ax_w.set_title(f"probe accuracy {direction.accuracy:.4f}")
    ax_w.legend(fontsize=8)
    projected, _, explained = principal_components(states, k=2)
    labels = 2 * c.reshape(-1) + s.reshape(-1)
    names = ["s=0, c=0", "s=1, c=0", "s=0, c=1", "s=1, c=1"]
    for k, name in enumerate(names):
        pick = labels == k
        ax_pc.scatter(*projected[pick][:400].T, s=6, alpha=0.6, label=name)
    ax_pc.set(xlabel=f"PC 1 ({explained[0]:.0%})", ylabel=f"PC 2 ({explained[1]:.0%})")
    ax_pc.set_title("states coloured by (sum bit, carry)")
    ax_pc.legend(fontsize=8, markerscale=2)
    fig.tight_layout()
    return fig
