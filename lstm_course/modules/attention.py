"""Attention as torch modules: Bahdanau's additive score and Luong's dot/general scores.

Lecture 8, Bahdanau et al. (2015), row-vector form. A query s (a decoder state) scores every
source annotation h_j (an encoder state), and reads their weighted average:

    e_j   = v . tanh(s W_q + h_j W_k + b)             (8.1) score of source position j
    alpha = softmax_j(e) over the unmasked j           (8.2) attention weights, sum to 1
    c     = sum_j alpha_j h_j                          (8.3) context vector

Luong et al. (2015) keep (8.2) and (8.3) and change the score:

    dot:      e_j = s . h_j                            needs Dq == Dk
    general:  e_j = s W_a h_j^T                        W_a (Dq, Dk)

Symbols: S source length, B batch, T number of queries, Dq query size, Dk key size (the
annotations are the keys and the values), A attention size. Shapes are time-major:

    keys   (S, B, Dk)           mask (S, B) bool, True where a position is real (not padding)
    query  (B, Dq)        ->    context (B, Dk),     weights (S, B)
    query  (T, B, Dq)     ->    context (T, B, Dk),  weights (T, S, B)

The second form attends with T queries at once (teacher forcing, alignment plots); it equals
a loop over the T single queries. Parameters use the NumPy layout and names, so
``{k: v.detach().numpy() for k, v in module.named_parameters()}`` is the parameter dict of
lstm_course.scratch.attention.
"""

import math

import torch
from torch import nn

SCORES = ("dot", "general")


def _check_inputs(query, keys, query_size, key_size, where):
    """query (B, Dq) or (T, B, Dq), keys (S, B, Dk), one batch size."""
    for name, x in (("query", query), ("keys", keys)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{where}: {name} must be a torch.Tensor, got {type(x).__name__}")
    if keys.dim() != 3 or keys.shape[-1] != key_size:
        raise ValueError(
            f"{where}: keys must have shape (S, B, Dk) with Dk = {key_size}, "
            f"got {tuple(keys.shape)}"
        )
    if query.dim() not in (2, 3) or query.shape[-1] != query_size:
        raise ValueError(
            f"{where}: query must have shape (B, Dq) or (T, B, Dq) with Dq = {query_size}, "
            f"got {tuple(query.shape)}"
        )
    if query.shape[-2] != keys.shape[1]:
        raise ValueError(
            f"{where}: batch sizes differ: query has B = {query.shape[-2]} "
            f"(shape {tuple(query.shape)}) but keys has B = {keys.shape[1]} "
            f"(shape {tuple(keys.shape)})"
        )


def _check_mask(mask, keys, where):
    """None, or a bool (S, B) tensor with at least one True per batch element (column)."""
    if mask is None:
        return
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        got = mask.dtype if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise TypeError(f"{where}: mask must be a bool tensor (True where real), got {got}")
    S, B = keys.shape[:2]
    if tuple(mask.shape) != (S, B):
        raise ValueError(
            f"{where}: mask must have shape (S, B) = {(S, B)}, got {tuple(mask.shape)}"
        )
    empty = (~mask.any(dim=0)).nonzero().flatten()
    if empty.numel():
        raise ValueError(
            f"{where}: mask removes every source position for batch element(s) "
            f"{empty.tolist()}: softmax over no position is undefined; each column of mask "
            "(S, B) needs a True"
        )


def _attend(e, keys, mask):
    """(8.2) and (8.3) from scores e (..., S, B): weights (..., S, B), context (..., B, Dk)."""
    if mask is not None:
        e = e.masked_fill(~mask, float("-inf"))  # exp(-inf) = 0: masked weights are exactly 0
    weights = torch.softmax(e, dim=-2)  # over source time j
    context = torch.einsum("...sb,sbk->...bk", weights, keys)  # sum_j alpha_j h_j
    return context, weights


class AdditiveAttention(nn.Module):
    """Bahdanau's additive attention, eqs. (8.1)-(8.3).

    Parameters (row-vector layout, the NumPy names): W_q (Dq, A), W_k (Dk, A), b (A,), v (A,).

    Bahdanau's trick: h_j W_k does not depend on the query, so a decoder that attends once per
    step should compute it once per source sentence::

        keys_proj = attention.precompute(keys)            # (S, B, A), once
        for t in range(T):
            context, weights = attention(s, keys, mask, keys_proj=keys_proj)

    A sequence of queries (T, B, Dq) uses one projection for all T automatically.

    Args:
        query_size: Dq.  key_size: Dk.  attn_size: A, the width of the tanh layer in (8.1).
        device, dtype: where and in which precision to create the parameters.
    """

    def __init__(self, query_size, key_size, attn_size, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.query_size, self.key_size, self.attn_size = query_size, key_size, attn_size
        self.W_q = nn.Parameter(torch.empty(query_size, attn_size, **factory))
        self.W_k = nn.Parameter(torch.empty(key_size, attn_size, **factory))
        self.b = nn.Parameter(torch.empty(attn_size, **factory))
        self.v = nn.Parameter(torch.empty(attn_size, **factory))
        self.reset_parameters()

    def reset_parameters(self):
        """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for each weight, as nn.Linear; b = 0."""
        for weight, fan_in in ((self.W_q, self.query_size), (self.W_k, self.key_size)):
            nn.init.uniform_(weight, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
        nn.init.zeros_(self.b)
        nn.init.uniform_(self.v, -1 / math.sqrt(self.attn_size), 1 / math.sqrt(self.attn_size))

    def extra_repr(self):
        return f"query_size={self.query_size}, key_size={self.key_size}, attn_size={self.attn_size}"

    def precompute(self, keys):
        """keys W_k: the query-free part of (8.1), to pass as ``keys_proj`` at every step.

        Args:
            keys: (S, B, Dk) source annotations.
        Returns:
            keys_proj: (S, B, A).
        """
        if not isinstance(keys, torch.Tensor) or keys.dim() != 3 or keys.shape[-1] != self.key_size:
            got = tuple(keys.shape) if isinstance(keys, torch.Tensor) else type(keys).__name__
            raise ValueError(
                f"precompute: keys must have shape (S, B, Dk) with Dk = {self.key_size}, got {got}"
            )
        return keys @ self.W_k

    def forward(self, query, keys, mask=None, keys_proj=None):
        """Attend from one query per batch element, or from T of them.

        Args:
            query: (B, Dq) one decoder state per batch element, or (T, B, Dq).
            keys: (S, B, Dk) source annotations h_j; also the values that are averaged.
            mask: (S, B) bool, True where a source position is real, or None for all real.
            keys_proj: (S, B, A) from ``precompute(keys)``, or None to compute it here.
        Returns:
            context: (B, Dk) or (T, B, Dk); weights: (S, B) or (T, S, B), summing to 1 over S.
        """
        _check_inputs(query, keys, self.query_size, self.key_size, "AdditiveAttention")
        _check_mask(mask, keys, "AdditiveAttention")
        if keys_proj is None:
            keys_proj = keys @ self.W_k  # (S, B, A) computed once, even for T queries
        elif tuple(keys_proj.shape) != (*keys.shape[:2], self.attn_size):
            raise ValueError(
                f"AdditiveAttention: keys_proj must have shape (S, B, A) = "
                f"{(*keys.shape[:2], self.attn_size)}, got {tuple(keys_proj.shape)}"
            )
        q = (query @ self.W_q).unsqueeze(-3)  # (1, B, A) or (T, 1, B, A): broadcast over j
        e = torch.tanh(q + keys_proj + self.b) @ self.v  # (..., S, B) eq. (8.1)
        return _attend(e, keys, mask)


class LuongAttention(nn.Module):
    """Luong's multiplicative attention: a dot or general score, then (8.2) and (8.3).

        dot:      e_j = s . h_j           no parameters; needs query_size == key_size
        general:  e_j = s W_a h_j^T       W_a (Dq, Dk)

    Args:
        query_size: Dq.  key_size: Dk.  score: "dot" or "general".
        device, dtype: where and in which precision to create W_a.
    """

    def __init__(self, query_size, key_size, score="dot", device=None, dtype=None):
        super().__init__()
        if score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {score!r}")
        if score == "dot" and query_size != key_size:
            raise ValueError(
                f"the dot score needs query_size == key_size, got query_size = {query_size} "
                f"and key_size = {key_size}; use score='general'"
            )
        self.query_size, self.key_size, self.score = query_size, key_size, score
        if score == "general":
            self.W_a = nn.Parameter(torch.empty(query_size, key_size, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """W_a ~ U(-1/sqrt(Dq), 1/sqrt(Dq)), as nn.Linear; nothing to do for the dot score."""
        if self.score == "general":
            bound = 1 / math.sqrt(self.query_size)
            nn.init.uniform_(self.W_a, -bound, bound)

    def extra_repr(self):
        return f"query_size={self.query_size}, key_size={self.key_size}, score={self.score!r}"

    def forward(self, query, keys, mask=None):
        """Attend from one query per batch element, or from T of them.

        Args:
            query: (B, Dq) or (T, B, Dq).
            keys: (S, B, Dk) source annotations h_j, also the values.
            mask: (S, B) bool, True where a source position is real, or None for all real.
        Returns:
            context: (B, Dk) or (T, B, Dk); weights: (S, B) or (T, S, B), summing to 1 over S.
        """
        _check_inputs(query, keys, self.query_size, self.key_size, "LuongAttention")
        _check_mask(mask, keys, "LuongAttention")
        q = query if self.score == "dot" else query @ self.W_a  # (..., B, Dk)
        e = torch.einsum("...bk,sbk->...sb", q, keys)  # (..., S, B) e_j = q . h_j
        return _attend(e, keys, mask)
