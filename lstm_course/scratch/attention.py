"""Attention in NumPy: Bahdanau's additive score and Luong's dot/general scores, backward by hand.

Lecture 8, Bahdanau et al. (2015), row-vector form. At one decoder step the query s_prev looks
at every source annotation h_j (an encoder state) and reads a weighted average of them:

    e_j   = v . tanh(s_prev W_q + h_j W_k + b)        (8.1) score of source position j
    alpha = softmax_j(e) over the unmasked j           (8.2) attention weights, sum to 1
    c     = sum_j alpha_j h_j                          (8.3) context vector

Luong et al. (2015) keep (8.2) and (8.3) and swap the score (8.1) for a product:

    dot:      e_j = s_prev . h_j                       needs Dq == Dk
    general:  e_j = s_prev W_a h_j^T                   W_a (Dq, Dk)

Shapes: s_prev (B, Dq); Hs (S, B, Dk), time-major like every sequence in the course; alpha
(S, B); c (B, Dk). Parameters: W_q (Dq, A), W_k (Dk, A), b (A,), v (A,) with A the attention
size. A mask is a bool (S, B) array, True where a source position is real and False for
padding; masked positions get alpha_j = 0 exactly and no gradient. Every batch element needs at
least one real position, or (8.2) is 0 / 0.
"""

from typing import NamedTuple

import numpy as np

from lstm_course.scratch._checks import (
    check_batch,
    check_float_array,
    check_params,
    check_shape,
)
from lstm_course.scratch.activations import softmax

SCORES = ("dot", "general")


class AdditiveAttentionCache(NamedTuple):
    """What additive_attention_backward needs from the forward pass."""

    s_prev: np.ndarray  # (B, Dq)
    Hs: np.ndarray  # (S, B, Dk)
    u: np.ndarray  # (S, B, A) tanh(s_prev W_q + h_j W_k + b): tanh' is a function of it
    e: np.ndarray  # (S, B) scores before masking, kept for plots
    alpha: np.ndarray  # (S, B)
    p: dict


class LuongAttentionCache(NamedTuple):
    """What luong_attention_backward needs from the forward pass."""

    s_prev: np.ndarray  # (B, Dq)
    Hs: np.ndarray  # (S, B, Dk)
    q: np.ndarray  # (B, Dk) s_prev (dot) or s_prev W_a (general): the vector dotted with h_j
    e: np.ndarray  # (S, B) scores before masking
    alpha: np.ndarray  # (S, B)
    p: dict
    score: str


def additive_param_shapes(Dq, Dk, A):
    """{key: (shape, letters)} of an additive-attention parameter dict."""
    return {
        "W_q": ((Dq, A), ("Dq", "A")),
        "W_k": ((Dk, A), ("Dk", "A")),
        "b": ((A,), ("A",)),
        "v": ((A,), ("A",)),
    }


def luong_param_shapes(Dq, Dk, score):
    """{key: (shape, letters)} of a Luong-attention parameter dict: empty for the dot score."""
    _check_score(score)
    return {} if score == "dot" else {"W_a": ((Dq, Dk), ("Dq", "Dk"))}


def _check_score(score):
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")


def _attn_size(p):
    """A read off p["v"] (A,), else off p["W_q"] (Dq, A); 0 if neither can be read (the
    parameter check then says what is wrong with p)."""
    for key, axis in (("v", 0), ("W_q", 1)):
        value = p.get(key) if isinstance(p, dict) else None
        if isinstance(value, np.ndarray) and value.ndim == axis + 1:
            return value.shape[axis]
    return 0


def _check_inputs(s_prev, Hs):
    """s_prev (B, Dq) and Hs (S, B, Dk), floating point, with one batch size."""
    check_float_array("s_prev", s_prev, ndim=2)
    check_float_array("Hs", Hs, ndim=3)
    check_batch(("s_prev", s_prev, 0), ("Hs", Hs, 1))


def check_mask(mask, S, B):
    """Raise unless mask is None or a bool (S, B) array with a True in every column.

    Returns:
        the mask, or None.
    """
    if mask is None:
        return None
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"mask must be a NumPy array, got {type(mask).__name__}")
    if mask.dtype != np.bool_:
        raise TypeError(
            f"mask must be a bool array (True where a source position is real), "
            f"got dtype {mask.dtype}"
        )
    if mask.shape != (S, B):
        raise ValueError(f"mask must have shape (S, B) = {(S, B)}, got {mask.shape}")
    empty = np.flatnonzero(~mask.any(axis=0))
    if empty.size:
        raise ValueError(
            f"mask removes every source position for batch element(s) {empty.tolist()}: "
            "softmax over no position is undefined; each column of mask (S, B) needs a True"
        )
    return mask


def _attend(e, Hs, mask):
    """(8.2) and (8.3): alpha (S, B) from scores e (S, B), then the context (B, Dk)."""
    if mask is not None:
        e = np.where(mask, e, -np.inf)  # exp(-inf) = 0: masked alpha is exactly 0
    alpha = softmax(e, axis=0)  # over source time j, axis 0
    context = np.einsum("sb,sbk->bk", alpha, Hs)  # sum_j alpha_j h_j
    return alpha, context


def _attend_backward(dcontext, dalpha, alpha, Hs):
    """Backward of (8.3) and (8.2).

    dalpha_j = dc . h_j (+ the caller's dalpha), then through the softmax over j:
        de_j = alpha_j (dalpha_j - sum_i alpha_i dalpha_i)
    which is 0 wherever alpha_j = 0, so masked positions send no gradient into the scores.

    Returns:
        de (S, B); dHs (S, B, Dk) from the context sum only (dHs_j = alpha_j dc).
    """
    S, B, Dk = Hs.shape
    check_shape("dcontext", dcontext, (B, Dk), ("B", "Dk"))
    da = np.einsum("bk,sbk->sb", dcontext, Hs)  # (S, B)
    if dalpha is not None:
        da = da + check_shape("dalpha", dalpha, (S, B), ("S", "B"))
    de = alpha * (da - np.sum(alpha * da, axis=0, keepdims=True))  # (S, B)
    dHs = alpha[:, :, None] * dcontext[None]  # (S, B, Dk)
    return de, dHs


def additive_attention_forward(s_prev, Hs, p, mask=None):
    """Bahdanau's additive attention for one decoder step, eqs. (8.1)-(8.3).

    Args:
        s_prev: (B, Dq) the decoder state that asks (the query).
        Hs: (S, B, Dk) source annotations h_j (encoder states); also the values read.
        p: {"W_q": (Dq, A), "W_k": (Dk, A), "b": (A,), "v": (A,)}.
        mask: (S, B) bool, True where a source position is real, or None for all real.
    Returns:
        context: (B, Dk) c = sum_j alpha_j h_j; alpha: (S, B) attention weights, each column
        sums to 1; cache for additive_attention_backward.
    """
    _check_inputs(s_prev, Hs)
    S, B, Dk = Hs.shape
    where = "additive_attention_forward"
    check_params(p, additive_param_shapes(s_prev.shape[1], Dk, _attn_size(p)), where)
    check_mask(mask, S, B)
    q = s_prev @ p["W_q"]  # (B, A) the query's part, shared by every j
    u = np.tanh(Hs @ p["W_k"] + q[None] + p["b"])  # (S, B, A)
    e = u @ p["v"]  # (S, B) eq. (8.1)
    alpha, context = _attend(e, Hs, mask)
    return context, alpha, AdditiveAttentionCache(s_prev, Hs, u, e, alpha, p)


def additive_attention_backward(dcontext, cache, dalpha=None):
    """Backward of additive_attention_forward.

    Hs gets gradient along two paths: as values in the context sum (8.3), and as keys in the
    scores (8.1). With de from the softmax (see _attend_backward) and
    dz = (de v^T) * (1 - u^2) of shape (S, B, A), z_j = s_prev W_q + h_j W_k + b:
        dv = sum_{j,b} de u,   db = sum_{j,b} dz,   dW_k = sum_{j,b} h_j^T dz,
        dq = sum_j dz,   dW_q = s_prev^T dq,   ds_prev = dq W_q^T,   dHs += dz W_k^T

    Args:
        dcontext: (B, Dk) gradient of the loss with respect to the context.
        cache: from additive_attention_forward.
        dalpha: (S, B) gradient with respect to alpha (e.g. a loss on the alignment), or None.
    Returns:
        ds_prev (B, Dq), dHs (S, B, Dk), grads {"W_q", "W_k", "b", "v"} shaped like p.
    """
    s_prev, Hs, u, _, alpha, p = cache
    de, dHs = _attend_backward(dcontext, dalpha, alpha, Hs)
    dz = de[:, :, None] * p["v"] * (1.0 - u * u)  # (S, B, A)
    S, B, Dk = Hs.shape
    dz_flat = dz.reshape(S * B, -1)
    dq = dz.sum(axis=0)  # (B, A) the query was broadcast over j
    grads = {
        "W_q": s_prev.T @ dq,
        "W_k": Hs.reshape(S * B, Dk).T @ dz_flat,  # sum over j and b, one matmul
        "b": dz_flat.sum(axis=0),
        "v": np.einsum("sb,sba->a", de, u),
    }
    return dq @ p["W_q"].T, dHs + dz @ p["W_k"].T, grads


def luong_attention_forward(s_prev, Hs, p=None, mask=None, score="dot"):
    """Luong's multiplicative attention for one decoder step: a product score, then (8.2), (8.3).

    Args:
        s_prev: (B, Dq) the query.
        Hs: (S, B, Dk) source annotations h_j.
        p: {} or None for score="dot"; {"W_a": (Dq, Dk)} for score="general".
        mask: (S, B) bool, True where a source position is real, or None for all real.
        score: "dot" (e_j = s_prev . h_j, needs Dq == Dk) or "general" (e_j = s_prev W_a h_j^T).
    Returns:
        context: (B, Dk); alpha: (S, B); cache for luong_attention_backward.
    """
    _check_inputs(s_prev, Hs)
    _check_score(score)
    S, B, Dk = Hs.shape
    Dq = s_prev.shape[1]
    p = {} if p is None else p
    if score == "dot" and Dq != Dk:
        raise ValueError(
            f"the dot score needs Dq == Dk, but s_prev has Dq = {Dq} (shape {s_prev.shape}) "
            f"and Hs has Dk = {Dk} (shape {Hs.shape}); use score='general'"
        )
    check_params(p, luong_param_shapes(Dq, Dk, score), f"luong_attention_forward({score=})")
    check_mask(mask, S, B)
    q = s_prev if score == "dot" else s_prev @ p["W_a"]  # (B, Dk)
    e = np.einsum("bk,sbk->sb", q, Hs)  # (S, B) e_j = q . h_j
    alpha, context = _attend(e, Hs, mask)
    return context, alpha, LuongAttentionCache(s_prev, Hs, q, e, alpha, p, score)


def luong_attention_backward(dcontext, cache, dalpha=None):
    """Backward of luong_attention_forward.

    With e_j = q . h_j and de from the softmax: dq = sum_j de_j h_j, dHs_j += de_j q; for the
    general score q = s_prev W_a, so dW_a = s_prev^T dq and ds_prev = dq W_a^T.

    Args:
        dcontext: (B, Dk) gradient with respect to the context.
        cache: from luong_attention_forward.
        dalpha: (S, B) gradient with respect to alpha, or None.
    Returns:
        ds_prev (B, Dq), dHs (S, B, Dk), grads shaped like p ({} for the dot score).
    """
    s_prev, Hs, q, _, alpha, p, score = cache
    de, dHs = _attend_backward(dcontext, dalpha, alpha, Hs)
    dq = np.einsum("sb,sbk->bk", de, Hs)  # (B, Dk)
    dHs = dHs + de[:, :, None] * q[None]
    if score == "dot":
        return dq, dHs, {}
    return dq @ p["W_a"].T, dHs, {"W_a": s_prev.T @ dq}
