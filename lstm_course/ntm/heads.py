"""The NTM's read and write heads: what the controller emits, and how it becomes a weighting
(Graves et al. 2014, sections 3.1-3.3; lecture 10, eq. 10.10).

A head is one linear layer from the controller's output h_t (B, H) to its raw outputs, each
squashed into the range its equation needs:

    k     = raw_k                      (B, W)  key, any real vector (the cosine ignores its length)
    beta  = softplus(raw_beta)         (B, 1)  key strength >= 0
    g     = sigmoid(raw_g)             (B, 1)  interpolation gate in (0, 1)
    s     = softmax(raw_s)             (B, S)  shift distribution over -(S // 2) .. S // 2
    gamma = 1 + softplus(raw_gamma)    (B, 1)  sharpening >= 1
    e     = sigmoid(raw_e)             (B, W)  erase vector in (0, 1)    (write head only)
    a     = tanh(raw_a)                (B, W)  add vector in (-1, 1)     (write head only)

then ``address`` (10.4)-(10.8) turns (k, beta, g, s, gamma) and the head's previous weighting
into its new weighting w_t (B, N).
"""

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional

from lstm_course.ntm.addressing import address, shift_offsets


class HeadParams(NamedTuple):
    """What a head emitted at one step, after the squashing of (10.10). e and a: None for a
    read head."""

    k: torch.Tensor  # (B, W)
    beta: torch.Tensor  # (B, 1)
    g: torch.Tensor  # (B, 1)
    s: torch.Tensor  # (B, S)
    gamma: torch.Tensor  # (B, 1)
    e: torch.Tensor | None = None  # (B, W)
    a: torch.Tensor | None = None  # (B, W)


def _check_size(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


class Head(nn.Module):
    """A read head (``writes=False``) or a write head: h_t -> HeadParams -> weighting.

    Args:
        hidden_size: H, the controller's output size. W: memory width.
        S: number of shift offsets (odd; 3 allows -1, 0, +1).
        writes: also emit the erase and add vectors e and a.
        device, dtype: where the parameters live.
    """

    def __init__(self, hidden_size, W, S=3, writes=False, device=None, dtype=None):
        super().__init__()
        _check_size("hidden_size", hidden_size)
        _check_size("W", W)
        shift_offsets(S)  # raises for an even S
        self.W, self.S, self.writes = W, S, writes
        self.sizes = [W, 1, 1, S, 1] + ([W, W] if writes else [])  # k, beta, g, s, gamma, e, a
        self.linear = nn.Linear(hidden_size, sum(self.sizes), device=device, dtype=dtype)

    def extra_repr(self):
        return f"W={self.W}, S={self.S}, writes={self.writes}"

    def emit(self, h):
        """Eq. (10.10): the head's outputs from the controller output h (B, H)."""
        raw = self.linear(h).split(self.sizes, dim=1)
        k, beta, g, s, gamma = raw[:5]
        params = HeadParams(
            k=k,
            beta=functional.softplus(beta),
            g=torch.sigmoid(g),
            s=torch.softmax(s, dim=1),
            gamma=1.0 + functional.softplus(gamma),
        )
        if self.writes:
            params = params._replace(e=torch.sigmoid(raw[5]), a=torch.tanh(raw[6]))
        return params

    def forward(self, h, M, w_prev):
        """Emit (10.10), then address (10.4)-(10.8).

        Args:
            h: (B, H) controller output. M: (B, N, W) memory to address. w_prev: (B, N).
        Returns:
            (Addressing with every stage, each (B, N); HeadParams).
        """
        params = self.emit(h)
        stages = address(params.k, params.beta, params.g, params.s, params.gamma, M, w_prev)
        return stages, params


class ReadHead(Head):
    """A head that only reads: emits (k, beta, g, s, gamma)."""

    def __init__(self, hidden_size, W, S=3, device=None, dtype=None):
        super().__init__(hidden_size, W, S, writes=False, device=device, dtype=dtype)


class WriteHead(Head):
    """A head that writes: emits (k, beta, g, s, gamma) and the erase and add vectors (e, a)."""

    def __init__(self, hidden_size, W, S=3, device=None, dtype=None):
        super().__init__(hidden_size, W, S, writes=True, device=device, dtype=dtype)
