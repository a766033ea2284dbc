"""Checks for exercise 4: gradient-norm clipping and truncated backpropagation through time.

The references are ``lstm_course.scratch.optim.clip_grad_norm`` (torch.nn.utils.clip_grad_norm_:
one coefficient for all arrays, the caller's gradients untouched, the norm before clipping
returned) and ``lstm_course.scratch.tbptt.truncated_bptt`` (windows of k steps, the state
carried from one window to the next, the gradient stopped between them). The TBPTT check
lives in ``_tbptt`` and is re-exported here, so that an exercise imports one module.

    from lstm_course.checks import clipping as checks
    checks.check_clip_grad_norm(clip_grad_norm, D=3, H=4, seed=0)
    checks.check_truncated_bptt(truncated_bptt, cell="rnn", T=10, B=2, D=3, H=4, k=3, seed=0)
"""

import numpy as np

from lstm_course.checks._common import (
    CheckError,
    call,
    compare,
    passed,
    rng,
    unpack,
)
from lstm_course.checks._inplace import check_unchanged, snapshot
from lstm_course.checks._tbptt import check_truncated_bptt
from lstm_course.scratch import optim

__all__ = ["check_clip_grad_norm", "check_truncated_bptt"]

# ----- clip_grad_norm -----


def _grads(D, H, seed):
    """Three gradient arrays of different shapes and sizes, b much smaller than the others.

    With max_norm between b's own norm and the global norm, clipping each array on its own
    leaves b unchanged while the correct answer scales it: the two are told apart.
    """
    gen = rng(seed)
    return {
        "W_x": gen.normal(size=(D, H)),
        "W_h": 2.0 * gen.normal(size=(H, H)),
        "b": 0.05 * gen.normal(size=(H,)),
    }


def _threshold_below(grads):
    """A max_norm below the global norm but above b's own norm (b is the smallest array).

    Then clipping each array with its own norm leaves b as it is, and the mistake shows.
    """
    total, b_norm = _norm(grads), float(np.linalg.norm(grads["b"]))
    return 0.5 * total if b_norm < 0.25 * total else 0.5 * (b_norm + total)


def _norm(grads):
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


def _clip_mistakes(grads, max_norm):
    """{a common mistake, in words: the clipped dict it returns}."""
    total = _norm(grads)
    per_array = {
        key: g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for key, g in grads.items()
    }
    return {
        "each array is clipped with its own norm; the norm of (E4.1) is over all arrays "
        "together, and one coefficient scales them all": per_array,
        "the gradients are scaled to norm max_norm even though their norm is below it: "
        "the coefficient is min(1, max_norm / norm) (E4.2)": {
            key: g * (max_norm / total) for key, g in grads.items()
        }
        if total > 0
        else None,
        "the square root is missing: the norm is sqrt(sum of g^2) (E4.1)": {
            key: g * min(1.0, max_norm / total**2) for key, g in grads.items()
        }
        if total > 0
        else None,
        "nothing was clipped: when the norm is above max_norm every array must be scaled "
        "by max_norm / norm (E4.2)": grads,
    }


def _matches(clipped, candidate):
    if candidate is None or not isinstance(clipped, dict) or set(clipped) != set(candidate):
        return False
    for key, value in candidate.items():
        try:
            got = np.asarray(clipped[key], dtype=np.float64)
        except (TypeError, ValueError):
            return False
        if got.shape != value.shape or not np.allclose(got, value, atol=1e-8, rtol=1e-6):
            return False
    return True


def _norm_mistakes(grads, max_norm):
    """{a common mistake, in words: the total_norm it returns}."""
    norms = [float(np.linalg.norm(g)) for g in grads.values()]
    total = _norm(grads)
    return {
        "you returned the norm after clipping; return the norm before clipping, the one "
        "that tells the caller how large the gradient really was": min(total, max_norm),
        "the square root is missing: the norm is sqrt(sum of g^2) (E4.1)": total**2,
        "that is the sum of the arrays' own norms; the norm of (E4.1) is the square root "
        "of the sum of all squared entries of all arrays": sum(norms),
        "that is the norm of a single array; the norm of (E4.1) is over all arrays together": (
            norms[-1]
        ),
    }


def _check_clipped(name, clipped, expected, grads, max_norm, situation):
    """Compare the returned dict with expected; name the mistake when the numbers show it."""
    if not isinstance(clipped, dict):
        raise CheckError(
            f"{name} must return a dict {{name: clipped array}} first, got {type(clipped).__name__}"
        )
    if set(clipped) != set(expected):
        raise CheckError(
            f"{name} returned a dict with keys {sorted(clipped)}, expected the keys of grads "
            f"{sorted(expected)}"
        )
    hint = f"{situation}. Check (E4.1) and (E4.2)"
    for words, candidate in _clip_mistakes(grads, max_norm).items():
        if not _matches(expected, candidate) and _matches(clipped, candidate):
            hint = f"{situation}. Your numbers match a common mistake: {words}"
            break
    for key in expected:
        compare(f"clipped[{key!r}]", clipped[key], expected[key], hint=hint)


def _check_norm(name, total_norm, expected, grads, max_norm):
    """The returned norm must be a number equal to the norm before clipping."""
    if isinstance(total_norm, dict):
        raise CheckError(f"{name} must return (clipped, total_norm), in that order")
    try:
        value = float(np.asarray(total_norm, dtype=np.float64))
    except (TypeError, ValueError):
        raise CheckError(
            f"total_norm must be a number (a float), got {type(total_norm).__name__}"
        ) from None
    if not np.isclose(value, expected, atol=1e-6, rtol=1e-5):
        hint = "The norm of all gradients together, before clipping (E4.1)"
        for words, candidate in _norm_mistakes(grads, max_norm).items():
            if not np.isclose(candidate, expected) and np.isclose(value, candidate):
                hint = f"Your number matches a common mistake: {words}"
                break
        raise CheckError(
            f"total_norm (the second value returned) is wrong: expected {expected:.6g}, "
            f"got {value:.6g}. {hint}"
        )


def _clip_case(fn, grads, max_norm, situation):
    """One call of the student's clip_grad_norm, compared with the reference."""
    name = "clip_grad_norm"
    inputs = {"grads": grads}
    before = snapshot(inputs)
    expected, expected_norm = optim.clip_grad_norm(snapshot(grads), max_norm)
    try:
        # A 0/0 gives nan with a warning; silence it so that the message says what happened.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            result = call(fn, name, grads, max_norm)
        clipped, total_norm = unpack(result, name, 2, "(clipped, total_norm)")
        _check_clipped(name, clipped, expected, before["grads"], max_norm, situation)
        _check_norm(name, total_norm, expected_norm, before["grads"], max_norm)
    except CheckError as error:
        division = "nan or inf" in str(error) or "ZeroDivisionError" in str(error)
        if division and expected_norm == 0.0:
            raise CheckError(
                f"{error}. With all gradients zero the norm is 0: dividing by it gives nan; "
                "only scale when the norm is above max_norm (or divide by norm + 1e-6)"
            ) from None
        raise
    check_unchanged(
        name,
        inputs,
        before,
        hint="return a new dict of new arrays, g * coefficient, and leave grads unchanged",
    )


def check_clip_grad_norm(clip_grad_norm, *, D=3, H=4, seed=0):
    """Check clip_grad_norm(grads, max_norm) -> (clipped, total_norm) in three situations.

    Above the threshold (one coefficient for all arrays), below it (nothing changes), and
    with all gradients zero (no division by zero). Every time the returned norm must be the
    norm before clipping, and grads must be left unchanged.

    Args:
        clip_grad_norm: the student's function.
        D, H: sizes of the gradient arrays {"W_x": (D, H), "W_h": (H, H), "b": (H,)}.
        seed: for the random gradients.
    """
    grads = _grads(D, H, seed)
    total = _norm(grads)
    max_norm = _threshold_below(grads)
    _clip_case(
        clip_grad_norm,
        grads,
        max_norm,
        f"Here the norm of all gradients is {total:.4g} and max_norm is {max_norm:.4g}: every "
        f"array must be scaled by the same {max_norm / total:.4g}",
    )
    _clip_case(
        clip_grad_norm,
        _grads(D, H, seed),
        2.0 * total,
        f"Here the norm {total:.4g} is below max_norm {2.0 * total:.4g}: the gradients must "
        "come back unchanged",
    )
    zeros = {key: np.zeros_like(g) for key, g in grads.items()}
    _clip_case(
        clip_grad_norm,
        zeros,
        1.0,
        "Here every gradient is zero: the result is zeros and the norm 0",
    )
    passed(f"clip_grad_norm matches the reference at D={D}, H={H} (seed {seed})")
