"""Checks for exercise 5: Bahdanau's additive attention with a mask, forward and backward.

The reference is ``lstm_course.scratch.attention`` (lecture 8, eqs. (8.1)-(8.3)); the exercise
builds it in five functions, each with its check:

    additive_scores(s_prev, Hs, p)                  -> e (S, B), u (S, B, A)        (8.1)
    masked_softmax(e, mask=None)                    -> alpha (S, B)                 (8.2)
    additive_attention_forward(s_prev, Hs, p, mask) -> context (B, Dk), alpha, cache (8.3)
                                                       (cache: AdditiveAttentionCache)
    masked_softmax_backward(dalpha, alpha)          -> de (S, B)                    (8.2')
    additive_attention_backward(dcontext, cache, dalpha=None) -> ds_prev, dHs, grads

Every check draws float64 inputs from ``rng(seed)`` with a padding mask that leaves at least
one real position per batch element, and looks for the usual mistakes before comparing values,
so the message names the mistake and not only the wrong number.
"""

import warnings

import numpy as np

from lstm_course.checks._common import CheckError, call, compare, passed, rng, unpack
from lstm_course.checks._inplace import check_unchanged, snapshot
from lstm_course.scratch.activations import softmax
from lstm_course.scratch.attention import (
    additive_attention_backward,
    additive_attention_forward,
    additive_param_shapes,
)

PARAM_KEYS = ("W_q", "W_k", "b", "v")
_TOL = {"atol": 1e-6, "rtol": 1e-5}
_GRAD_AXES = {"W_q": ("q", "a"), "W_k": ("k", "a"), "b": ("a",), "v": ("a",)}


# ----- inputs and shared helpers -----


def _case(seed, S, B, Dq, Dk, A):
    """Seeded s_prev (B, Dq), Hs (S, B, Dk), p, and a padding mask (S, B).

    The mask pads the end of the sequences (lengths between 1 and S). The first batch element
    is never padded, and the last one always is when S > 1 and B > 1: so a check sees padding,
    and at least one sequence whose weights depend on the scores (with one real position,
    alpha = 1 whatever the scores).
    """
    for name, value in (("S", S), ("B", B), ("Dq", Dq), ("Dk", Dk), ("A", A)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    g = rng(seed)
    s_prev = g.normal(size=(B, Dq))
    Hs = g.normal(size=(S, B, Dk))
    p = {key: g.normal(scale=0.7, size=shape) for key, (shape, _) in _shapes(Dq, Dk, A).items()}
    lengths = g.integers(1, S + 1, size=B)
    lengths[0] = S
    if S > 1 and B > 1:
        lengths[-1] = g.integers(1, S)
    mask = np.arange(S)[:, None] < lengths[None, :]  # (S, B) True on the real positions
    return s_prev, Hs, p, mask


def _shapes(Dq, Dk, A):
    return additive_param_shapes(Dq, Dk, A)


def _spell(letters):
    return f"({', '.join(letters)})"


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
            hint = f": the axes are in the wrong order, {name} is {_spell(letters)}"
        raise CheckError(
            f"{name} has shape {actual.shape}, expected {_spell(letters)} = {expected.shape}" + hint
        )
    return actual


def _close(a, b):
    return a.shape == b.shape and np.allclose(a, b, **_TOL)


def _masked_softmax(e, mask):
    """(8.2): the softmax over source positions j (axis 0) of the unmasked scores."""
    if mask is not None:
        e = np.where(mask, e, -np.inf)  # exp(-inf) = 0: padding gets exactly 0
    return softmax(e, axis=0)


def _check_alpha(label, alpha, expected, e, mask):
    """Diagnose a wrong attention-weight array alpha (S, B), then compare it with expected.

    Args:
        label: the case, added to the name in messages, e.g. " (with mask=None)".
        e: (S, B) the scores alpha was computed from. mask: (S, B) bool or None.
    """
    name = f"alpha{label}"
    alpha = _shaped(name, alpha, expected, ("S", "B"))
    S, B = expected.shape
    if not np.all(np.isfinite(alpha)):
        j, b = (int(i) for i in np.argwhere(~np.isfinite(alpha))[0])
        if mask is None:
            why = "mask=None means every position is real: skip the masking then"
        else:
            why = "exp of a large score overflows; subtract each column's largest score first"
        raise CheckError(f"{name} contains nan or inf (first at j={j}, b={b}): {why}")
    if mask is not None:
        leak = (~mask) & (np.abs(alpha) > 1e-12)
        if leak.any():
            j, b = (int(i) for i in np.argwhere(leak)[0])
            raise CheckError(
                f"{name} is nonzero at padded source position j={j} of batch {b} "
                f"(alpha[{j}, {b}] = {alpha[j, b]:.4g}): apply the mask before the softmax "
                "(set the scores of padded positions to -inf)"
            )
    sums = alpha.sum(axis=0)  # (B,)
    bad = np.flatnonzero(~np.isclose(sums, 1.0, atol=1e-6))
    if bad.size:
        b = int(bad[0])
        if mask is not None and _close(alpha, softmax(e, axis=0) * mask):
            why = (
                "you zeroed the padded positions after the softmax, so the real ones no "
                "longer sum to 1: mask the scores before normalising"
            )
        elif B > 1 and np.allclose(alpha.sum(axis=1), 1.0, atol=1e-6):
            why = (
                "you normalised over the batch (axis 1); normalise over source positions j (axis 0)"
            )
        else:
            why = "normalise over the source positions j (axis 0)"
        raise CheckError(
            f"the attention weights of batch {b} sum to {sums[b]:.6g}, not 1 "
            f"(alpha[:, {b}] should be a distribution over the {S} source positions): {why}"
        )
    compare(
        name, alpha, expected, axes=("j", "b"), hint="alpha = softmax_j(e_j), eq. (8.2)", **_TOL
    )


def _reference_forward(s_prev, Hs, p, mask):
    return additive_attention_forward(s_prev, Hs, p, mask)


# ----- (8.1) the scores -----


def check_additive_scores(additive_scores, S=5, B=3, Dq=4, Dk=6, A=7, seed=0):
    """additive_scores(s_prev, Hs, p) -> (e (S, B), u (S, B, A)), eq. (8.1)."""
    name = "additive_scores"
    s_prev, Hs, p, _ = _case(seed, S, B, Dq, Dk, A)
    _, _, ref = _reference_forward(s_prev, Hs, p, None)
    inputs = {"s_prev": s_prev, "Hs": Hs, "p": p}
    before = snapshot(inputs)
    e, u = unpack(call(additive_scores, name, s_prev, Hs, p), name, 2, "(e, u)")
    check_unchanged(name, inputs, before)
    e = _shaped("e (the scores)", e, ref.e, ("S", "B"))
    z = Hs @ p["W_k"] + (s_prev @ p["W_q"])[None] + p["b"]  # (S, B, A) before the tanh
    mistakes = [
        (np.tanh(z - p["b"]) @ p["v"], "you left out the bias b"),
        (z @ p["v"], "you left out the tanh"),
        (np.tanh(z).sum(axis=-1), "you summed the tanh without weighting it by v"),
    ]
    for wrong, why in mistakes:
        if _close(e, wrong) and not _close(e, ref.e):
            raise CheckError(
                f"e (the scores) is wrong: {why}; e_j = v . tanh(s_prev W_q + h_j W_k + b)"
            )
    compare(
        "e (the scores)",
        e,
        ref.e,
        axes=("j", "b"),
        hint="e_j = v . tanh(s_prev W_q + h_j W_k + b), eq. (8.1)",
        **_TOL,
    )
    u = _shaped("u (the tanh layer)", u, ref.u, ("S", "B", "A"))
    compare(
        "u (the tanh layer)",
        u,
        ref.u,
        axes=("j", "b", "a"),
        hint="u = tanh(s_prev W_q + h_j W_k + b), the values the backward needs",
        **_TOL,
    )
    passed(f"{name} matches the reference for S={S}, B={B}, Dq={Dq}, Dk={Dk}, A={A}")


# ----- (8.2) the masked softmax -----


def check_masked_softmax(masked_softmax, S=6, B=4, seed=0):
    """masked_softmax(e, mask) -> alpha (S, B), eq. (8.2); also without a mask, and with scores
    near 1000 (exp would overflow without subtracting the maximum)."""
    name = "masked_softmax"
    *_, mask = _case(seed, S, B, 1, 1, 1)
    e = rng(seed + 1).normal(scale=2.0, size=(S, B))
    for scores, m, label in (
        (e, mask, " (with the mask)"),
        (e, None, " (with mask=None)"),
        (e + 1000.0, mask, " (for scores near 1000)"),
    ):
        inputs = {"e": scores, "mask": m}
        before = snapshot(inputs)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow is reported below
            alpha = call(masked_softmax, name, scores, mask=m)
        check_unchanged(name, inputs, before)
        _check_alpha(label, alpha, _masked_softmax(scores, m), scores, m)
    passed(
        f"{name} matches the reference for S={S}, B={B}: padding gets 0, each column sums "
        "to 1, no mask works, stable for large scores"
    )


# ----- (8.3) the forward pass -----


def check_additive_attention_forward(additive_attention_forward, S=5, B=3, Dq=4, Dk=6, A=7, seed=0):
    """additive_attention_forward(s_prev, Hs, p, mask) -> (context (B, Dk), alpha (S, B), cache),
    with the mask and with mask=None."""
    name = "additive_attention_forward"
    s_prev, Hs, p, mask = _case(seed, S, B, Dq, Dk, A)
    for m, label in ((mask, " (with the mask)"), (None, " (with mask=None)")):
        context_ref, alpha_ref, cache_ref = _reference_forward(s_prev, Hs, p, m)
        inputs = {"s_prev": s_prev, "Hs": Hs, "p": p, "mask": m}
        before = snapshot(inputs)
        result = call(additive_attention_forward, name, s_prev, Hs, p, mask=m)
        context, alpha, cache = unpack(result, name, 3, "(context, alpha, cache)")
        check_unchanged(name, inputs, before)
        if np.shape(context) == alpha_ref.shape and np.shape(alpha) == context_ref.shape:
            if alpha_ref.shape != context_ref.shape:
                raise CheckError(
                    f"{name} returned alpha first: return (context, alpha, cache) in this order"
                )
        _check_alpha(label, alpha, alpha_ref, cache_ref.e, m)
        context = _shaped("context", context, context_ref, ("B", "Dk"))
        compare(
            f"context{label}",
            context,
            context_ref,
            axes=("b", "k"),
            hint=(
                "c = sum_j alpha_j h_j, eq. (8.3): weight each h_j (Hs is (S, B, Dk)) by "
                "alpha_j (alpha is (S, B)) and sum over j, axis 0"
            ),
            **_TOL,
        )
        _check_cache(cache, cache_ref, label)
    passed(f"{name} matches the reference for S={S}, B={B}, Dq={Dq}, Dk={Dk}, A={A}")


def _check_cache(cache, expected, label):
    """The forward's cache must be an AdditiveAttentionCache equal to the reference's."""
    if not (isinstance(cache, tuple) and getattr(cache, "_fields", None) == expected._fields):
        raise CheckError(
            "cache must be AdditiveAttentionCache(s_prev, Hs, u, e, alpha, p), the named tuple "
            f"additive_attention_backward reads; got {type(cache).__name__}"
        )
    hints = {
        "u": "u = tanh(s_prev W_q + h_j W_k + b), from additive_scores",
        "e": "e holds the scores before masking (no -inf), from additive_scores",
        "alpha": "alpha is the masked softmax of e",
    }
    if np.shape(cache.e) == expected.e.shape and not np.all(np.isfinite(cache.e)):
        raise CheckError(
            f"cache.e{label} contains -inf or nan: keep the scores from before the masking "
            "(masked_softmax masks a copy)"
        )
    for field in ("s_prev", "Hs"):
        compare(f"cache.{field}{label}", getattr(cache, field), getattr(expected, field), **_TOL)
    for field, hint in hints.items():
        compare(
            f"cache.{field}{label}",
            getattr(cache, field),
            getattr(expected, field),
            hint=hint,
            **_TOL,
        )
    if not isinstance(cache.p, dict) or set(cache.p) != set(PARAM_KEYS):
        raise CheckError("cache.p must be the parameter dict p the forward was given")


# ----- (8.2') the softmax backward -----


def _masked_softmax_backward(dalpha, alpha):
    """(8.2'): de_j = alpha_j (dalpha_j - sum_i alpha_i dalpha_i), sums over positions."""
    return alpha * (dalpha - np.sum(alpha * dalpha, axis=0, keepdims=True))


def check_masked_softmax_backward(masked_softmax_backward, S=6, B=4, seed=0):
    """masked_softmax_backward(dalpha, alpha) -> de (S, B), eq. (8.2'), on a masked alpha."""
    name = "masked_softmax_backward"
    *_, mask = _case(seed, S, B, 1, 1, 1)
    g = rng(seed + 1)
    alpha = _masked_softmax(g.normal(scale=2.0, size=(S, B)), mask)
    dalpha = g.normal(size=(S, B))
    expected = _masked_softmax_backward(dalpha, alpha)
    inputs = {"dalpha": dalpha, "alpha": alpha}
    before = snapshot(inputs)
    de = _shaped("de", call(masked_softmax_backward, name, dalpha, alpha), expected, ("S", "B"))
    check_unchanged(name, inputs, before)
    if _close(de, alpha * dalpha) and not _close(de, expected):
        raise CheckError(
            "de is wrong: you kept only the diagonal term alpha_j dalpha_j; every alpha_i "
            "depends on every score e_j, which adds - alpha_j sum_i alpha_i dalpha_i"
        )
    over_batch = alpha * (dalpha - np.sum(alpha * dalpha, axis=1, keepdims=True))
    if B > 1 and _close(de, over_batch) and not _close(de, expected):
        raise CheckError(
            "de is wrong: sum_i alpha_i dalpha_i runs over the source positions i (axis 0), "
            "not over the batch"
        )
    leak = (~mask) & (np.abs(de) > 1e-12)
    if leak.any():
        j, b = (int(i) for i in np.argwhere(leak)[0])
        raise CheckError(
            f"de is nonzero at padded source position j={j} of batch {b}: a padded score "
            "does not change alpha, so it gets no gradient (alpha_j = 0 there)"
        )
    compare(
        "de",
        de,
        expected,
        axes=("j", "b"),
        hint="de_j = alpha_j (dalpha_j - sum_i alpha_i dalpha_i), eq. (8.2')",
        **_TOL,
    )
    passed(f"{name} matches the reference for S={S}, B={B} with padding")


# ----- the backward pass -----


def check_additive_attention_backward(
    additive_attention_backward, S=5, B=3, Dq=4, Dk=6, A=7, seed=0
):
    """additive_attention_backward(dcontext, cache, dalpha=None) -> (ds_prev, dHs, grads).

    The cache is the reference's AdditiveAttentionCache for seeded inputs with padding (the
    exercise's forward returns the same named tuple), so this check does not depend on the
    student's forward. The backward is called without dalpha (the usual case) and with one
    (a loss on alpha).
    """
    name = "additive_attention_backward"
    s_prev, Hs, p, mask = _case(seed, S, B, Dq, Dk, A)
    g = rng(seed + 1)
    dcontext = g.normal(size=(B, Dk))
    dalpha = g.normal(size=(S, B))
    for use_dalpha in (False, True):
        _, _, cache = _reference_forward(s_prev, Hs, p, mask)  # a fresh cache each call
        args = (dcontext, cache, dalpha) if use_dalpha else (dcontext, cache)
        inputs = {"dcontext": dcontext, "dalpha": dalpha}
        inputs.update({f"cache.{field}": getattr(cache, field) for field in cache._fields})
        before = snapshot(inputs)
        result = call(additive_attention_backward, name, *args)
        check_unchanged(name, inputs, before)
        _check_backward(result, cache, dcontext, dalpha if use_dalpha else None, mask)
    passed(
        f"{name} matches the reference for S={S}, B={B}, Dq={Dq}, Dk={Dk}, A={A}, "
        "with and without dalpha, no gradient into padding"
    )


def _check_backward(result, cache_ref, dcontext, dalpha, mask):
    name = "additive_attention_backward"
    ds_prev, dHs, grads = unpack(result, name, 3, "(ds_prev, dHs, grads)")
    ref_ds_prev, ref_dHs, ref_grads = additive_attention_backward(dcontext, cache_ref, dalpha)
    if not isinstance(grads, dict) or set(grads) != set(PARAM_KEYS):
        got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise CheckError(f"grads must be a dict with the keys {list(PARAM_KEYS)}, got {got}")
    ds_prev = _shaped("ds_prev", ds_prev, ref_ds_prev, ("B", "Dq"))
    dHs = _shaped("dHs", dHs, ref_dHs, ("S", "B", "Dk"))
    if dalpha is not None:
        no_dalpha = additive_attention_backward(dcontext, cache_ref, None)
        if _close(ds_prev, no_dalpha[0]) and _close(dHs, no_dalpha[1]):
            raise CheckError(
                "the gradients ignore dalpha: when it is given, add it to the gradient that "
                "reaches alpha through the context, dcontext . h_j, before (8.2')"
            )
    leak = (~mask)[:, :, None] & (np.abs(dHs) > 1e-12)
    if leak.any():
        j, b, k = (int(i) for i in np.argwhere(leak)[0])
        raise CheckError(
            f"dHs is nonzero at padded source position j={j} of batch {b} (k={k}): padding "
            "gets alpha_j = 0, so it must get no gradient either"
        )
    alpha = cache_ref.alpha
    value_path = alpha[:, :, None] * dcontext[None]  # (S, B, Dk) through c = sum_j alpha_j h_j
    if _close(dHs, value_path) and not _close(dHs, ref_dHs):
        raise CheckError(
            "dHs is missing the gradient through the scores: h_j is a key in (8.1) as well as "
            "a value in (8.3); add dz W_k^T (dz is the gradient at the tanh's input)"
        )
    if _close(dHs, ref_dHs - value_path) and not _close(dHs, ref_dHs):
        raise CheckError(
            "dHs is missing the gradient through the context: h_j is a value in (8.3) as well "
            "as a key in (8.1); add alpha_j dcontext"
        )
    compare("ds_prev", ds_prev, ref_ds_prev, axes=("b", "q"), **_TOL)
    compare("dHs", dHs, ref_dHs, axes=("j", "b", "k"), **_TOL)
    for key in PARAM_KEYS:
        expected = ref_grads[key]
        letters = _shapes(*cache_ref.s_prev.shape[1:], *ref_grads["W_k"].shape)[key][1]
        actual = _shaped(f"grads[{key!r}] (d{key})", grads[key], expected, letters)
        axes = _GRAD_AXES[key]
        compare(f"grads[{key!r}] (d{key})", actual, expected, axes=axes, **_TOL)
