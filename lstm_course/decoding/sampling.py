"""Temperature and sampling, eqs. (6.1)-(6.2): from logits to a random next token."""

import numpy as np

from lstm_course.decoding._checks import check_positive, to_numpy


def softmax_with_temperature(logits, temperature=1.0):
    """Probabilities from logits, sharpened (tau < 1) or flattened (tau > 1), eq. (6.1).

        p_v = exp(z_v / tau) / sum_u exp(z_u / tau)

    tau = 1 is the plain softmax; tau -> 0 puts all the mass on the argmax (shared equally
    among ties); tau -> inf gives the uniform distribution. Computed as
    exp((z - max z) / tau) / sum: subtracting the row maximum changes nothing mathematically
    but keeps every exponent <= 0, so logits of 1000 or a tau of 1e-300 give no overflow.

    Args:
        logits: z, (..., V) array or tensor; -inf marks impossible tokens, nan and +inf are
            refused. Every row needs at least one finite entry.
        temperature: tau, a finite number > 0.
    Returns:
        p: (..., V) float64, each row non-negative and summing to 1.
    """
    tau = check_positive("temperature", temperature)
    z = to_numpy("logits", logits)
    if z.ndim < 1 or z.shape[-1] == 0:
        raise ValueError(f"logits must have shape (..., V) with V >= 1, got shape {z.shape}")
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("logits must not contain nan or +inf")
    z_max = z.max(axis=-1, keepdims=True)  # (..., 1)
    if np.isneginf(z_max).any():
        raise ValueError("logits has a row that is all -inf: no token is possible there")
    with np.errstate(over="ignore"):  # (z - max) / tiny tau -> -inf, and exp(-inf) = 0: right
        a = (z - z_max) / tau  # (..., V), every entry <= 0, the max exactly 0
    e = np.exp(a)
    return e / e.sum(axis=-1, keepdims=True)  # the sum is >= 1 (the max gives exp(0))


def sample_next(logits, temperature, rng):
    """One token per row, drawn from softmax(logits / tau), eqs. (6.1)-(6.2).

    Inverse-CDF sampling: with c the running sum of p along the row and u ~ U[0, 1), the
    token is the first v with c_v > u. Token v is drawn when u lands in [c_{v-1}, c_v), an
    interval of length p_v, so tokens of probability 0 are never drawn.

    Args:
        logits: (B, V) array or tensor, one row per sequence.
        temperature: tau > 0.
        rng: a ``numpy.random.Generator`` (``np.random.default_rng(seed)``); one uniform
            number is drawn per row.
    Returns:
        ids: (B,) int64 in [0, V).
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    p = softmax_with_temperature(logits, temperature)  # (B, V)
    if p.ndim != 2:
        raise ValueError(f"logits must have shape (B, V), got shape {p.shape}")
    B, V = p.shape
    c = np.cumsum(p, axis=1)  # (B, V)
    u = rng.random((B, 1)) * c[:, -1:]  # (B, 1) in [0, c_V): rounding leaves c_V near 1, not 1
    ids = (c <= u).sum(axis=1)  # (B,) the number of c_v <= u is the first v with c_v > u
    return np.minimum(ids, V - 1).astype(np.int64)  # guard against u rounding up to c_V
