"""Neural Turing Machine addressing, reading and writing in NumPy (Graves et al. 2014, sec. 3).

A head turns its five outputs (k, beta, g, s, gamma) into a weighting w over the N memory
locations at every step. Equation numbers are the paper's; the course uses its symbols:

    K(u, v)  = u . v / (||u|| ||v|| + eps)                             (6)  cosine similarity
    w^c_i    = exp(beta K(k, M_i)) / sum_j exp(beta K(k, M_j))         (5)  content addressing
    w^g      = g w^c + (1 - g) w_prev                                  (7)  interpolation
    w~_i     = sum_j w^g_j s_{(i - j) mod N}                           (8)  circular shift
    w_i      = w~_i^gamma / sum_j w~_j^gamma                           (9)  sharpening
    r        = sum_i w_i M_i                                           (2)  read
    M        = M_prev * (1 - w e^T) + w a^T                            (3), (4)  erase, then add

Shapes, with a batch dimension first: memory M (B, N, W), N locations of width W; key k (B, W);
weightings w (B, N), each row non-negative and summing to 1; key strength beta >= 0, gate
g in [0, 1] and sharpening exponent gamma >= 1, each (B,) or (B, 1) or a Python number shared
by the batch; shift distribution s (B, S) over the offsets -(S // 2), ..., S // 2 (S odd, so
s[:, S // 2] is the weight of "stay"); erase vector e (B, W) in [0, 1]; add vector a (B, W).

An offset of +1 moves weight from location j to j + 1 (wrapping from N - 1 to 0): with w^g
one-hot at j and s putting all its weight on +1, w~ is one-hot at (j + 1) mod N.
"""

from numbers import Real
from typing import NamedTuple

import numpy as np

from lstm_course.scratch._checks import check_batch, check_float_array, check_shape
from lstm_course.scratch.activations import softmax

EPS = 1e-8  # keeps (6) finite when a key or a memory row is all zeros
SUM_TOLERANCE = 1e-5  # how far a distribution's sum may be from 1 (float32 softmax passes)


class Addressing(NamedTuple):
    """Every stage of address(): the weighting after each of (5), (7), (8), (9); each (B, N)."""

    w_c: np.ndarray  # content weighting (5)
    w_g: np.ndarray  # after interpolation with w_prev (7)
    w_tilde: np.ndarray  # after the circular shift (8)
    w: np.ndarray  # after sharpening (9): the head's weighting


def _per_row(name, x, B, low, high=np.inf, dtype=np.float64):
    """x as a (B, 1) column for one scalar per batch element, checked to lie in [low, high].

    Accepts a Python or NumPy real number (shared by the batch), or a float array of shape
    (B,) or (B, 1).
    """
    if isinstance(x, Real) and not isinstance(x, bool):
        column = np.full((B, 1), float(x), dtype=dtype)
    else:
        check_float_array(name, x)
        if x.shape not in ((B,), (B, 1)):
            raise ValueError(f"{name} must have shape (B,) or (B, 1) with B = {B}, got {x.shape}")
        column = x.reshape(B, 1)
    if not np.all(np.isfinite(column)):
        raise ValueError(f"{name} must be finite, got {column.ravel().tolist()}")
    bad = (column < low) | (column > high)
    if bad.any():
        b = int(np.argwhere(bad)[0, 0])
        interval = f">= {low}" if high == np.inf else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {interval}, got {float(column[b, 0])} for batch {b}")
    return column


def _weighting(name, w, B=None, N=None):
    """w (B, N), floating point, non-negative; B and N checked when given."""
    check_float_array(name, w, ndim=2)
    if (B is not None and w.shape[0] != B) or (N is not None and w.shape[1] != N):
        expected = (w.shape[0] if B is None else B, w.shape[1] if N is None else N)
        raise ValueError(f"{name} must have shape (B, N) = {expected}, got {w.shape}")
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative (a weighting over locations)")
    return w


def _memory(name, M):
    """M (B, N, W), floating point."""
    return check_float_array(name, M, ndim=3)


def cosine_similarity(k, M, eps=EPS):
    """K(k, M_i) for every location i, eq. (6): k . M_i / (||k|| ||M_i|| + eps).

    eps keeps an all-zero key or row from dividing 0 by 0 (K is then 0: no match).

    Args:
        k: (B, W) keys. M: (B, N, W) memory.
    Returns:
        (B, N) similarities in [-1, 1].
    """
    M = _memory("M", M)
    B, N, W = M.shape
    check_shape("k", k, (B, W), ("B", "W"))
    dot = np.einsum("bw,bnw->bn", k, M)  # (B, N) k . M_i
    norms = np.linalg.norm(k, axis=1, keepdims=True) * np.linalg.norm(M, axis=2)  # (B, N)
    return dot / (norms + eps)


def content_addressing(k, beta, M):
    """Content weighting, eq. (5): w^c = softmax_i(beta K(k, M_i)).

    beta sharpens (large beta) or flattens (beta = 0 gives the uniform weighting) the focus on
    the rows most similar to the key.

    Args:
        k: (B, W) keys. beta: (B,) or (B, 1) or a number, key strength >= 0. M: (B, N, W).
    Returns:
        w_c: (B, N), rows sum to 1.
    """
    K = cosine_similarity(k, M)  # (B, N), also validates k and M
    beta = _per_row("beta", beta, M.shape[0], low=0.0, dtype=K.dtype)
    return softmax(beta * K, axis=1)


def interpolate(w_c, w_prev, g):
    """Interpolation gate, eq. (7): w^g = g w^c + (1 - g) w_prev.

    g = 1 uses the content weighting only; g = 0 ignores the content and keeps the previous
    weighting, so that the shift that follows moves the head from where it was.

    Args:
        w_c: (B, N) content weighting. w_prev: (B, N) the head's weighting at the previous
        step. g: (B,) or (B, 1) or a number in [0, 1].
    Returns:
        w_g: (B, N).
    """
    w_c = _weighting("w_c", w_c)
    w_prev = _weighting("w_prev", w_prev, *w_c.shape)
    g = _per_row("g", g, w_c.shape[0], low=0.0, high=1.0, dtype=w_c.dtype)
    return g * w_c + (1.0 - g) * w_prev


def shift_offsets(S):
    """The offsets -(S // 2), ..., S // 2 that the S columns of a shift distribution weight."""
    if not isinstance(S, int) or S < 1 or S % 2 == 0:
        raise ValueError(f"the shift distribution needs an odd number S >= 1 of offsets, got {S}")
    return np.arange(S) - S // 2


def shift(w_g, s):
    """Circular convolution with the shift distribution, eq. (8).

        w~_i = sum_j w^g_j s_{(i - j) mod N} = sum_o s(o) w^g_{(i - o) mod N}

    where s(o) = s[:, o + S // 2]. np.roll(w, o)[i] = w[i - o], so each offset is one roll.

    Args:
        w_g: (B, N) the weighting to shift. s: (B, S), S odd, each row a distribution over the
        offsets -(S // 2), ..., S // 2.
    Returns:
        w_tilde: (B, N); still sums to 1 when w_g and s do.
    """
    w_g = _weighting("w_g", w_g)
    check_float_array("s", s, ndim=2)
    check_batch(("w_g", w_g, 0), ("s", s, 0))
    offsets = shift_offsets(s.shape[1])
    if np.any(s < 0) or np.any(np.abs(s.sum(axis=1) - 1.0) > SUM_TOLERANCE):
        raise ValueError(
            "s must be a distribution over shifts: non-negative, each row summing to 1, got "
            f"row sums {np.round(s.sum(axis=1), 6).tolist()}"
        )
    w_tilde = np.zeros_like(w_g)
    for column, offset in enumerate(offsets):
        # offsets beyond N wrap around, as the convolution is circular
        w_tilde += s[:, column : column + 1] * np.roll(w_g, offset, axis=1)
    return w_tilde


def sharpen(w_tilde, gamma):
    """Sharpening, eq. (9): w_i = w~_i^gamma / sum_j w~_j^gamma.

    The shift blurs a focused weighting; gamma >= 1 undoes the blur. We divide by the row's
    largest entry before the power: it cancels in the ratio, and keeps every row's largest
    term at 1, so small weights raised to a large gamma cannot underflow to 0 / 0.

    Args:
        w_tilde: (B, N), each row with a positive entry. gamma: (B,) or (B, 1) or a number >= 1.
    Returns:
        w: (B, N), rows sum to 1; a one-hot row is unchanged.
    """
    w_tilde = _weighting("w_tilde", w_tilde)
    gamma = _per_row("gamma", gamma, w_tilde.shape[0], low=1.0, dtype=w_tilde.dtype)
    peak = w_tilde.max(axis=1, keepdims=True)  # (B, 1)
    if np.any(peak <= 0):
        b = int(np.flatnonzero(peak[:, 0] <= 0)[0])
        raise ValueError(f"w_tilde is all zeros for batch {b}: there is no weighting to sharpen")
    powered = (w_tilde / peak) ** gamma
    return powered / powered.sum(axis=1, keepdims=True)


def address(k, beta, g, s, gamma, M, w_prev):
    """The whole addressing mechanism of one head, eqs. (5)-(9) chained.

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


def read(M, w):
    """Read vector, eq. (2): r = sum_i w_i M_i.

    Args:
        M: (B, N, W) memory. w: (B, N) read weighting.
    Returns:
        r: (B, W).
    """
    M = _memory("M", M)
    check_shape("w", w, M.shape[:2], ("B", "N"))
    return np.einsum("bn,bnw->bw", w, M)


def write(M_prev, w, e, a):
    """Erase, then add, eqs. (3) and (4): M = M_prev * (1 - w e^T) + w a^T.

    Location i loses the fraction w_i e of each entry, then gains w_i a. w e^T and w a^T are
    outer products per batch element, (N, 1) times (1, W). M_prev is not modified.

    Args:
        M_prev: (B, N, W) memory before the write. w: (B, N) write weighting.
        e: (B, W) erase vector in [0, 1]. a: (B, W) add vector.
    Returns:
        M: (B, N, W) the new memory.
    """
    M_prev = _memory("M_prev", M_prev)
    B, N, W = M_prev.shape
    check_shape("w", w, (B, N), ("B", "N"))
    check_shape("e", e, (B, W), ("B", "W"))
    check_shape("a", a, (B, W), ("B", "W"))
    if np.any(e < 0) or np.any(e > 1):
        raise ValueError("e must lie in [0, 1]: it is the fraction of each entry to erase")
    w = w[:, :, None]  # (B, N, 1)
    return M_prev * (1.0 - w * e[:, None, :]) + w * a[:, None, :]
