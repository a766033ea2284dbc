"""Neural Turing Machine addressing in PyTorch: the batched, differentiable twin of the NumPy
reference ``lstm_course.scratch.ntm`` (Graves et al. 2014, section 3.3; lecture 10).

A head turns five numbers it emits, (k, beta, g, s, gamma), into a weighting w over the N
memory locations. Lecture 10's equation numbers, with the paper's in brackets:

    K(u, v)  = u . v / (||u|| ||v|| + eps)                            (10.4) [6]  cosine
    w^c_i    = exp(beta K(k, M_i)) / sum_j exp(beta K(k, M_j))        (10.5) [5]  content
    w^g      = g w^c + (1 - g) w_prev                                 (10.6) [7]  interpolation
    w~_i     = sum_j w^g_j s_{(i - j) mod N}                          (10.7) [8]  circular shift
    w_i      = w~_i^gamma / sum_j w~_j^gamma                          (10.8) [9]  sharpening

Same function names, arguments and shapes as the NumPy reference, so the tests feed both the
same float64 inputs: memory M (B, N, W); key k (B, W); weightings (B, N); beta, g, gamma each
(B,), (B, 1) or a Python number; shift distribution s (B, S), S odd, over the offsets
-(S // 2), ..., S // 2. The checks here are on shapes and types only (cheap enough for every
training step); the heads produce beta >= 0, g in [0, 1], gamma >= 1 and s on the simplex by
construction (``lstm_course.ntm.heads``).
"""

from numbers import Real
from typing import NamedTuple

import torch

EPS = 1e-8  # the reference's: keeps (10.4) finite for an all-zero key or memory row
TINY = 1e-30  # floor under w~ before the power in (10.8); see sharpen


class Addressing(NamedTuple):
    """Every stage of ``address``: the weighting after (10.5), (10.6), (10.7), (10.8); (B, N)."""

    w_c: torch.Tensor  # content weighting (10.5)
    w_g: torch.Tensor  # after interpolation with w_prev (10.6)
    w_tilde: torch.Tensor  # after the circular shift (10.7)
    w: torch.Tensor  # after sharpening (10.8): the head's weighting


def _tensor(name, x, ndim):
    """x as a floating-point tensor of ``ndim`` dimensions, or TypeError/ValueError naming it."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.dim() != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)} ({x.dim()} dimensions)"
        )
    return x


def _shape(name, x, shape, letters):
    """Raise ValueError unless tensor x has exactly ``shape``, spelled with ``letters``."""
    _tensor(name, x, len(shape))
    if tuple(x.shape) != tuple(shape):
        raise ValueError(
            f"{name} must have shape ({', '.join(letters)}) = {tuple(shape)}, got {tuple(x.shape)}"
        )
    return x


def _column(name, x, like):
    """One scalar per batch element as a (B, 1) column shaped for broadcasting over N.

    ``like`` (B, ...) gives B, the dtype and the device when x is a Python number.
    """
    B = like.shape[0]
    if isinstance(x, Real) and not isinstance(x, bool):
        return like.new_full((B, 1), float(x))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of shape (B,) or (B, 1), or a number")
    if tuple(x.shape) not in ((B,), (B, 1)):
        raise ValueError(
            f"{name} must have shape (B,) or (B, 1) with B = {B}, got {tuple(x.shape)}"
        )
    return x.reshape(B, 1)


def cosine_similarity(k, M, eps=EPS):
    """K(k, M_i) for every location i, eq. (10.4): k . M_i / (||k|| ||M_i|| + eps).

    Args:
        k: (B, W) keys. M: (B, N, W) memory. eps: keeps 0 / 0 away from all-zero rows.
    Returns:
        K: (B, N) similarities in [-1, 1].
    """
    _tensor("M", M, 3)
    B, N, W = M.shape
    _shape("k", k, (B, W), ("B", "W"))
    dot = torch.einsum("bw,bnw->bn", k, M)  # (B, N) k . M_i
    norms = k.norm(dim=1, keepdim=True) * M.norm(dim=2)  # (B, N) ||k|| ||M_i||
    return dot / (norms + eps)


def content_addressing(k, beta, M):
    """Content weighting, eq. (10.5): w^c = softmax_i(beta K(k, M_i)).

    Args:
        k: (B, W) keys. beta: key strength >= 0, (B,), (B, 1) or a number. M: (B, N, W).
    Returns:
        w_c: (B, N), rows sum to 1; beta = 0 gives the uniform weighting.
    """
    K = cosine_similarity(k, M)  # (B, N)
    return torch.softmax(_column("beta", beta, K) * K, dim=1)


def interpolate(w_c, w_prev, g):
    """Interpolation gate, eq. (10.6): w^g = g w^c + (1 - g) w_prev.

    g = 1 takes the content weighting; g = 0 keeps the previous one, so that the shift that
    follows moves the head on from where it was (iteration without content).

    Args:
        w_c: (B, N) content weighting. w_prev: (B, N). g: in [0, 1], (B,), (B, 1) or a number.
    Returns:
        w_g: (B, N).
    """
    _tensor("w_c", w_c, 2)
    _shape("w_prev", w_prev, w_c.shape, ("B", "N"))
    g = _column("g", g, w_c)
    return g * w_c + (1.0 - g) * w_prev


def shift_offsets(S):
    """The offsets -(S // 2), ..., S // 2 that the S columns of a shift distribution weight."""
    if isinstance(S, bool) or not isinstance(S, int) or S < 1 or S % 2 == 0:
        raise ValueError(f"the shift distribution needs an odd number S >= 1 of offsets, got {S}")
    return range(-(S // 2), S // 2 + 1)


def shift(w_g, s):
    """Circular convolution with the shift distribution, eq. (10.7).

        w~_i = sum_j w^g_j s_{(i - j) mod N} = sum_o s(o) w^g_{(i - o) mod N}

    with s(o) = s[:, o + S // 2]. ``torch.roll(w, o)[i] = w[i - o]``: one roll per offset, S of
    them (3 in the lecture), cheaper than building the (N, N) circulant matrix.

    Args:
        w_g: (B, N) the weighting to shift. s: (B, S), S odd, rows on the simplex.
    Returns:
        w_tilde: (B, N); offset +1 moves weight from location j to j + 1, wrapping N - 1 to 0.
    """
    _tensor("w_g", w_g, 2)
    _tensor("s", s, 2)
    if s.shape[0] != w_g.shape[0]:
        raise ValueError(
            f"s must have shape (B, S) with B = {w_g.shape[0]} (the batch of w_g), "
            f"got {tuple(s.shape)}"
        )
    terms = [
        s[:, column : column + 1] * torch.roll(w_g, offset, dims=1)
        for column, offset in enumerate(shift_offsets(s.shape[1]))
    ]
    return torch.stack(terms).sum(dim=0)


def sharpen(w_tilde, gamma):
    """Sharpening, eq. (10.8): w_i = w~_i^gamma / sum_j w~_j^gamma.

    As in the reference, each row is divided by its largest entry before the power (the factor
    cancels in the ratio, so it is detached: the gradient is the same), which keeps the largest
    term at 1 and the sum from underflowing for large gamma. Entries are floored at TINY: the
    derivative of x^gamma by gamma is x^gamma log x, which is 0 * -inf = nan at x = 0 exactly.

    Args:
        w_tilde: (B, N), each row with a positive entry. gamma: >= 1, (B,), (B, 1) or a number.
    Returns:
        w: (B, N), rows sum to 1.
    """
    _tensor("w_tilde", w_tilde, 2)
    gamma = _column("gamma", gamma, w_tilde)
    peak = w_tilde.detach().amax(dim=1, keepdim=True)  # (B, 1)
    powered = (w_tilde / peak).clamp_min(TINY) ** gamma
    return powered / powered.sum(dim=1, keepdim=True)


def address(k, beta, g, s, gamma, M, w_prev):
    """The whole addressing of one head, eqs. (10.4)-(10.8) chained.

    Args:
        k: (B, W) key. beta: key strength >= 0. g: gate in [0, 1]. s: (B, S) shift
        distribution. gamma: sharpening >= 1. (beta, g, gamma: (B,), (B, 1) or a number.)
        M: (B, N, W) memory. w_prev: (B, N) the head's previous weighting.
    Returns:
        Addressing(w_c, w_g, w_tilde, w), each (B, N); w is the new weighting.
    """
    w_c = content_addressing(k, beta, M)
    w_g = interpolate(w_c, w_prev, g)
    w_tilde = shift(w_g, s)
    return Addressing(w_c, w_g, w_tilde, sharpen(w_tilde, gamma))
