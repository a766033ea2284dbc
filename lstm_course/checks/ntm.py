"""Checks for exercise 7: Neural Turing Machine addressing, reading and writing.

The reference is ``lstm_course.scratch.ntm`` (Graves et al. 2014, eqs. (2)-(9), the paper's
numbers). The student writes one function per step, with the reference's names and shapes:

    cosine_similarity(k, M)             -> K (B, N)          (6)
    content_addressing(k, beta, M)      -> w_c (B, N)        (5)
    interpolate(w_c, w_prev, g)         -> w_g (B, N)        (7)
    shift(w_g, s)                       -> w_tilde (B, N)    (8)
    sharpen(w_tilde, gamma)             -> w (B, N)          (9)
    read(M, w)                          -> r (B, W)          (2)
    write(M_prev, w, e, a)              -> M (B, N, W)       (3), (4)

beta, g and gamma are passed as (B, 1) columns. Each check draws float64 inputs from
``rng(seed)``, first tries the cases that expose one mistake each (a one-hot weighting shifted
by +1, a memory row of zeros, g = 0 and g = 1, ...), then compares random cases with the
reference.
"""

import numpy as np

from lstm_course.checks._common import CheckError, call, compare, passed, rng
from lstm_course.checks._inplace import check_unchanged, snapshot
from lstm_course.scratch import ntm as ref
from lstm_course.scratch.activations import softmax

_TOL = {"atol": 1e-6, "rtol": 1e-5}


# ----- inputs and shared helpers -----


def _sizes(**sizes):
    for name, value in sizes.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def _distributions(g, B, N):
    """(B, N) random weightings: positive rows that sum to 1."""
    return g.dirichlet(np.ones(N), size=B)


def _shaped(name, actual, expected, letters):
    """actual as a float64 array of expected's shape, or CheckError naming both shapes."""
    if actual is None:
        raise CheckError(f"{name} is None: did you forget to return it?")
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckError(f"{name} must be an array, got {type(actual).__name__}") from None
    if actual.shape != expected.shape:
        hint = ""
        if actual.ndim == expected.ndim and sorted(actual.shape) == sorted(expected.shape):
            hint = f": the axes are in the wrong order, {name} is ({', '.join(letters)})"
        raise CheckError(
            f"{name} has shape {actual.shape}, expected ({', '.join(letters)}) = "
            f"{expected.shape}{hint}"
        )
    return actual


def _close(a, b):
    return a.shape == b.shape and np.allclose(a, b, **_TOL)


def _guess(actual, expected, mistakes):
    """Raise CheckError with the reason of the first mistake that reproduces actual.

    Args:
        mistakes: [(what that mistake returns, the message)].
    """
    if _close(actual, expected):
        return
    for wrong, message in mistakes:
        if _close(actual, wrong):
            raise CheckError(message)


def _check_rows_sum_to_one(name, w, hint):
    """CheckError naming the first batch element whose weighting does not sum to 1."""
    sums = w.sum(axis=1)
    bad = np.flatnonzero(~np.isclose(sums, 1.0, atol=1e-6))
    if bad.size:
        b = int(bad[0])
        raise CheckError(
            f"{name} for batch {b} sums to {sums[b]:.6g}, not 1: a weighting over the memory "
            f"locations must sum to 1 ({hint})"
        )


def _run(fn, name, inputs):
    """fn(*inputs.values()) through call, then CheckError if it changed one of its inputs.

    NumPy's floating-point warnings are silenced during the call: a nan or inf they would
    announce is diagnosed by the check, with a message that says what to change.
    """
    before = snapshot(inputs)
    with np.errstate(all="ignore"):
        result = call(fn, name, *inputs.values())
    check_unchanged(name, inputs, before)
    return result


def _memory(g, B, N, W):
    """(B, N, W) memory with one all-zero row, location 1 of batch 0 (when N > 1)."""
    M = g.normal(size=(B, N, W))
    if N > 1:
        M[0, 1] = 0.0
    return M


# ----- (6) cosine similarity -----


def check_cosine_similarity(cosine_similarity, B=2, N=5, W=3, seed=0):
    """cosine_similarity(k, M) -> K (B, N), eq. (6), with an all-zero memory row."""
    _sizes(B=B, N=N, W=W)
    name = "cosine_similarity"
    g = rng(seed)
    k = g.normal(size=(B, W)) * 2.0  # not unit length, so a missing norm shows
    M = _memory(g, B, N, W) * 3.0
    expected = ref.cosine_similarity(k, M)
    K = _shaped("K", _run(cosine_similarity, name, {"k": k, "M": M}), expected, ("B", "N"))
    if N > 1 and not np.isfinite(K[0, 1]):
        raise CheckError(
            "K is nan at location i=1 of batch 0, whose memory row is all zeros: add a small "
            "eps (e.g. 1e-8) to the denominator ||k|| ||M_i||, so that K is 0 there"
        )
    dot = np.einsum("bw,bnw->bn", k, M)
    k_norm = np.linalg.norm(k, axis=1, keepdims=True)  # (B, 1)
    M_norm = np.linalg.norm(M, axis=2)  # (B, N)
    _guess(
        K,
        expected,
        [
            (dot, "K is the dot product k . M_i, not the cosine: divide by ||k|| ||M_i||"),
            (dot / k_norm, "K is divided by ||k|| only: divide by ||k|| ||M_i||"),
            (dot / (M_norm + 1e-8), "K is divided by ||M_i|| only: divide by ||k|| ||M_i||"),
        ],
    )
    compare("K", K, expected, axes=("b", "i"), hint="K(k, M_i) = k . M_i / (||k|| ||M_i||)", **_TOL)
    passed(f"{name} matches the reference for B={B}, N={N}, W={W}, including an all-zero row")


# ----- (5) content addressing -----


def check_content_addressing(content_addressing, B=2, N=5, W=3, seed=0):
    """content_addressing(k, beta, M) -> w_c (B, N), eq. (5); beta is (B, 1)."""
    _sizes(B=B, N=N, W=W)
    name = "content_addressing"
    g = rng(seed)
    k = g.normal(size=(B, W)) * 2.0
    M = _memory(g, B, N, W) * 3.0
    beta = g.uniform(2.0, 8.0, size=(B, 1))
    expected = ref.content_addressing(k, beta, M)
    result = _run(content_addressing, name, {"k": k, "beta": beta, "M": M})
    w_c = _shaped("w_c", result, expected, ("B", "N"))
    K = ref.cosine_similarity(k, M)
    dot = np.einsum("bw,bnw->bn", k, M)
    _guess(
        w_c,
        expected,
        [
            (
                softmax(beta * dot, axis=1),
                "w_c uses the dot product k . M_i; eq. (5) uses the cosine similarity "
                "K(k, M_i) of eq. (6) (your cosine_similarity)",
            ),
            (softmax(K, axis=1), "w_c ignores beta: w_c = softmax(beta K(k, M_i))"),
            (softmax(K / beta, axis=1), "w_c divides by beta: multiply, w_c = softmax(beta K)"),
        ],
    )
    _check_rows_sum_to_one("w_c", w_c, "a softmax over the locations i, axis 1")
    compare("w_c", w_c, expected, axes=("b", "i"), hint="w_c = softmax_i(beta K(k, M_i))", **_TOL)
    # A row equal to the key (K = 1) and beta = 1000: exp(1000) overflows unless each row's
    # maximum is subtracted first.
    big = np.full((B, 1), 1000.0)
    M_match = M.copy()
    M_match[:, -1] = 0.5 * k
    result = _run(content_addressing, name, {"k": k, "beta": big, "M": M_match})
    large = _shaped("w_c", result, expected, ("B", "N"))
    if not np.all(np.isfinite(large)):
        raise CheckError(
            "w_c is nan or inf for a large key strength beta = 1000: exp(1000 K) overflows; "
            "use a stable softmax (subtract each row's maximum first), e.g. the softmax "
            "imported at the top of the notebook"
        )
    expected = ref.content_addressing(k, big, M_match)
    compare("w_c for beta = 1000", large, expected, axes=("b", "i"), **_TOL)
    passed(f"{name} matches the reference for B={B}, N={N}, W={W}, also for beta = 1000")


# ----- (7) interpolation -----


def check_interpolate(interpolate, B=3, N=5, seed=0):
    """interpolate(w_c, w_prev, g) -> w_g (B, N), eq. (7); g is (B, 1), away from 1/2, then 0
    and 1."""
    _sizes(B=B, N=N)
    name = "interpolate"
    r = rng(seed)
    w_c, w_prev = _distributions(r, B, N), _distributions(r, B, N)
    gate = r.uniform(0.1, 0.35, size=(B, 1)) + r.integers(0, 2, size=(B, 1)) * 0.55
    for g, label in ((gate, ""), (np.ones((B, 1)), " for g = 1"), (np.zeros((B, 1)), " for g = 0")):
        expected = ref.interpolate(w_c, w_prev, g)
        result = _run(interpolate, name, {"w_c": w_c, "w_prev": w_prev, "g": g})
        w_g = _shaped(f"w_g{label}", result, expected, ("B", "N"))
        _guess(
            w_g,
            expected,
            [
                (
                    ref.interpolate(w_c, w_prev, 1.0 - g),
                    "interpolation reversed (g and 1 - g swapped): g = 1 must give the content "
                    "weighting w_c, g = 0 the previous weighting w_prev; "
                    "w_g = g w_c + (1 - g) w_prev",
                ),
            ],
        )
        compare(
            f"w_g{label}",
            w_g,
            expected,
            axes=("b", "i"),
            hint="w_g = g w_c + (1 - g) w_prev",
            **_TOL,
        )
    passed(f"{name} matches the reference for B={B}, N={N}, and for g = 0 and g = 1")


# ----- (8) circular shift -----


def _shift_to(S, offset, B):
    """(B, S) shift distributions with all their weight on one offset."""
    s = np.zeros((B, S))
    s[:, offset + S // 2] = 1.0
    return s


def _where_one_hot(w):
    """The location of each row's weight if every row is one-hot, else None."""
    peak = w.argmax(axis=1)
    one_hot = np.zeros_like(w)
    one_hot[np.arange(len(w)), peak] = 1.0
    return peak if np.allclose(w, one_hot, atol=1e-6) else None


def check_shift(shift, B=2, N=6, S=3, seed=0):
    """shift(w_g, s) -> w_tilde (B, N), eq. (8); s is (B, S) over offsets -(S//2)..S//2.

    First a one-hot weighting shifted by +1 (direction, offsets), then one at the last location
    (wrap-around), then random weightings and shift distributions.
    """
    _sizes(B=B, N=N, S=S)
    if S % 2 == 0 or S > N:
        raise ValueError(f"S must be odd and at most N = {N}, got {S}")
    name = "shift"
    r = rng(seed)
    half = S // 2
    # one-hot at j with j - 1 and j + 1 inside the memory, so a move either way shows as such
    start = r.integers(1, N - 1, size=B) if N > 2 else np.zeros(B, dtype=int)
    w_g = np.zeros((B, N))
    w_g[np.arange(B), start] = 1.0
    for offset in (1, -1) if S > 1 else (0,):
        s = _shift_to(S, offset, B)
        expected = ref.shift(w_g, s)
        result = _run(shift, name, {"w_g": w_g, "s": s})
        w_tilde = _shaped("w_tilde", result, expected, ("B", "N"))
        moved = _where_one_hot(w_tilde)
        if moved is not None and not _close(w_tilde, expected):
            b = int(np.flatnonzero(moved != (start + offset) % N)[0])
            j, to = int(start[b]), int(moved[b])
            by = (to - j + N // 2) % N - N // 2  # signed, in [-N/2, N/2)
            if by == -offset:
                raise CheckError(
                    f"shifted the wrong way: a one-hot weighting at location {j} (batch {b}) "
                    f"with s all on offset {offset:+d} must move to location {j + offset}, "
                    f"it moved to {to}. w~_i = sum_j w^g_j s_((i - j) mod N): offset +1 moves "
                    "weight from location j to j + 1"
                )
            raise CheckError(
                f"a one-hot weighting at location {j} (batch {b}) with s all on offset "
                f"{offset:+d} moved by {by:+d} locations (to {to}) instead of {offset:+d}: "
                f"column c of s is the weight of offset c - S // 2 (for S = {S}: "
                f"{', '.join(f'{o:+d}' for o in range(-half, half + 1))})"
            )
        compare(
            f"w_tilde for a one-hot weighting shifted by {offset:+d}",
            w_tilde,
            expected,
            axes=("b", "i"),
            **_TOL,
        )
    if S > 1:
        edge = np.zeros((B, N))
        edge[:, N - 1] = 1.0
        s = _shift_to(S, 1, B)
        expected = ref.shift(edge, s)
        result = _run(shift, name, {"w_g": edge, "s": s})
        w_tilde = _shaped("w_tilde", result, expected, ("B", "N"))
        if not _close(w_tilde, expected):
            raise CheckError(
                f"a one-hot weighting at the last location {N - 1} shifted by +1 must wrap "
                f"around to location 0; got {np.round(w_tilde[0], 4).tolist()}. The shift is "
                "circular: indices are taken mod N"
            )
    w_g = _distributions(r, B, N)
    s = _distributions(r, B, S)
    expected = ref.shift(w_g, s)
    w_tilde = _shaped("w_tilde", _run(shift, name, {"w_g": w_g, "s": s}), expected, ("B", "N"))
    _check_rows_sum_to_one("w_tilde", w_tilde, "a shift only moves weight around")
    compare(
        "w_tilde",
        w_tilde,
        expected,
        axes=("b", "i"),
        hint="w~_i = sum_j w^g_j s_((i - j) mod N), s[:, c] weights offset c - S // 2",
        **_TOL,
    )
    passed(
        f"{name} matches the reference for B={B}, N={N}, S={S}: direction, wrap-around and "
        "random shifts"
    )


# ----- (9) sharpening -----


def check_sharpen(sharpen, B=3, N=5, seed=0):
    """sharpen(w_tilde, gamma) -> w (B, N), eq. (9); gamma is (B, 1) >= 1. Also one-hot rows
    (unchanged) and gamma = 1 (no change)."""
    _sizes(B=B, N=N)
    name = "sharpen"
    r = rng(seed)
    w_tilde = _distributions(r, B, N)
    gamma = r.uniform(1.5, 4.0, size=(B, 1))
    expected = ref.sharpen(w_tilde, gamma)
    result = _run(sharpen, name, {"w_tilde": w_tilde, "gamma": gamma})
    w = _shaped("w", result, expected, ("B", "N"))
    _guess(
        w,
        expected,
        [
            (
                w_tilde**gamma,
                "sharpening not renormalised: divide w~_i^gamma by sum_j w~_j^gamma so that "
                "each row sums to 1",
            ),
            (w_tilde * gamma, "w multiplies by gamma: raise to the power, w~_i^gamma"),
        ],
    )
    _check_rows_sum_to_one("w", w, "divide by sum_j w~_j^gamma")
    compare("w", w, expected, axes=("b", "i"), hint="w_i = w~_i^gamma / sum_j w~_j^gamma", **_TOL)
    one_hot = np.eye(N)[r.integers(0, N, size=B)]
    w = _shaped("w", _run(sharpen, name, {"w_tilde": one_hot, "gamma": gamma}), one_hot, ("B", "N"))
    compare("w for a one-hot w_tilde (it must stay one-hot)", w, one_hot, axes=("b", "i"), **_TOL)
    ones = np.ones((B, 1))
    w = _shaped("w", _run(sharpen, name, {"w_tilde": w_tilde, "gamma": ones}), w_tilde, ("B", "N"))
    compare("w for gamma = 1 (it must equal w_tilde)", w, w_tilde, axes=("b", "i"), **_TOL)
    passed(f"{name} matches the reference for B={B}, N={N}; one-hot rows and gamma = 1 kept")


# ----- (2) reading and (3), (4) writing -----


def check_read(read, B=2, N=5, W=3, seed=0):
    """read(M, w) -> r (B, W), eq. (2), for a random and a one-hot weighting."""
    _sizes(B=B, N=N, W=W)
    name = "read"
    r = rng(seed)
    M = r.normal(size=(B, N, W))
    one_hot = np.eye(N)[r.integers(0, N, size=B)]
    for w, label in ((_distributions(r, B, N), ""), (one_hot, " for a one-hot w")):
        expected = ref.read(M, w)
        vector = _shaped("r", _run(read, name, {"M": M, "w": w}), expected, ("B", "W"))
        compare(
            f"r{label}",
            vector,
            expected,
            axes=("b", "w"),
            hint="r = sum_i w_i M_i: weight each row M_i by w_i and sum over locations i (axis 1)",
            **_TOL,
        )
    passed(f"{name} matches the reference for B={B}, N={N}, W={W}")


def check_write(write, B=2, N=5, W=3, seed=0):
    """write(M_prev, w, e, a) -> M (B, N, W), eqs. (3)-(4); M_prev must not change."""
    _sizes(B=B, N=N, W=W)
    name = "write"
    r = rng(seed)
    M_prev = r.normal(size=(B, N, W))
    w = _distributions(r, B, N)
    e = r.uniform(0.2, 0.9, size=(B, W))
    a = r.normal(size=(B, W))
    expected = ref.write(M_prev, w, e, a)
    inputs = {"M_prev": M_prev, "w": w, "e": e, "a": a}
    result = _run(write, name, inputs)
    M = _shaped("M", result, expected, ("B", "N", "W"))
    wN = w[:, :, None]  # (B, N, 1)
    added_first = (M_prev + wN * a[:, None, :]) * (1.0 - wN * e[:, None, :])
    _guess(
        M,
        expected,
        [
            (
                added_first,
                "M adds before it erases: erase first, M~ = M_prev (1 - w e^T) (eq. 3), then "
                "add, M = M~ + w a^T (eq. 4), or the erase removes part of what was just added",
            ),
            (
                M_prev * (1.0 - e[:, None, :]) + wN * a[:, None, :],
                "M erases every location by e: the erase is weighted, M_prev (1 - w e^T)",
            ),
            (
                M_prev * (1.0 - wN * e[:, None, :]) + a[:, None, :],
                "M adds a to every location: the add is weighted, + w a^T",
            ),
        ],
    )
    compare(
        "M",
        M,
        expected,
        axes=("b", "i", "w"),
        hint="M = M_prev (1 - w e^T) + w a^T, with w e^T the (N, W) outer product per batch",
        **_TOL,
    )
    passed(f"{name} matches the reference for B={B}, N={N}, W={W}, and leaves M_prev unchanged")
