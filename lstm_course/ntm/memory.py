"""The NTM's memory in PyTorch: a fresh memory, reading, and writing by erase-then-add
(Graves et al. 2014, section 3.2; lecture 10). Twins of ``lstm_course.scratch.ntm``.

    r   = sum_i w_i M_i                                       (10.1) [2]  read
    M~  = M_{t-1} * (1 - w e^T)                               (10.2) [3]  erase
    M_t = M~ + w a^T                                          (10.3) [4]  add

M is (B, N, W): one memory of N locations (rows) of width W per sequence in the batch. The
paper calls the width M (an N x M matrix); the course keeps M for the matrix and W for the
width, as the exercise does. Memories are never modified in place: autograd needs every
M_{t-1} to run backwards through time.
"""

import torch

from lstm_course.ntm.addressing import _shape, _tensor

INIT_VALUE = 1e-6  # Collier & Beel (2018): a small constant memory trains fastest


def initial_memory(B, N, W, value=INIT_VALUE, device=None, dtype=None):
    """M_0: every entry ``value``, shape (B, N, W).

    A constant start means every location looks the same to content addressing (equal cosine
    similarity, a uniform w^c) until something is written; small, so the first writes dominate.
    """
    for name, size in (("B", B), ("N", N), ("W", W)):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"{name} must be a positive int, got {size!r}")
    return torch.full((B, N, W), float(value), device=device, dtype=dtype)


def read(M, w):
    """Read vector, eq. (10.1): r = sum_i w_i M_i, a blend of rows weighted by w.

    Args:
        M: (B, N, W) memory. w: (B, N) read weighting.
    Returns:
        r: (B, W).
    """
    _tensor("M", M, 3)
    _shape("w", w, M.shape[:2], ("B", "N"))
    return torch.einsum("bn,bnw->bw", w, M)


def write(M_prev, w, e, a):
    """Erase, then add, eqs. (10.2) and (10.3): M = M_prev * (1 - w e^T) + w a^T.

    Location i loses the fraction w_i e_j of entry j, then gains w_i a_j: with w one-hot at i
    and e all ones, row i is replaced by a and every other row is untouched.

    Args:
        M_prev: (B, N, W) memory before the write. w: (B, N) write weighting.
        e: (B, W) erase vector in [0, 1]. a: (B, W) add vector.
    Returns:
        M: (B, N, W), a new tensor.
    """
    _tensor("M_prev", M_prev, 3)
    B, N, W = M_prev.shape
    _shape("w", w, (B, N), ("B", "N"))
    _shape("e", e, (B, W), ("B", "W"))
    _shape("a", a, (B, W), ("B", "W"))
    w = w.unsqueeze(2)  # (B, N, 1): the outer products w e^T and w a^T by broadcasting
    return M_prev * (1.0 - w * e.unsqueeze(1)) + w * a.unsqueeze(1)
