"""Checks for exercise 1: one RNN step forward and backward, then BPTT over a whole sequence.

The reference is ``lstm_course.scratch.rnn`` with tanh. The equation numbers are the
exercise's, (E1.1) to (E1.7). When an output is wrong, the check first tries the usual
mistakes (no bias, sigmoid for tanh, no 1 - h^2, no gradient from step t + 1, weights not
summed over time, ...) and names the one that matches; otherwise it names the output, the
first wrong entry and, for a sequence, the first wrong time step. The backward checks build
the cache with the student's own forward function: the cache is theirs to design.
"""

import numpy as np

from lstm_course.checks import _rnn_mistakes as mistakes
from lstm_course.checks._common import CheckError, compare, passed, unpack
from lstm_course.checks._recurrent import (
    GRAD_LABELS,
    Watch,
    array_out,
    check_sizes,
    close,
    compare_explained,
    compare_steps,
    diagnose,
    draw,
    forward_first,
    grad_arrays,
    grads_out,
    guarded_call,
)
from lstm_course.scratch import rnn as ref

P_LETTERS = {"p['W_x']": "(D, H)", "p['W_h']": "(H, H)", "p['b']": "(H,)"}
STEP_LETTERS = {"x_t": "(B, D)", "h_prev": "(B, H)", "dh": "(B, H)", **P_LETTERS}
SEQ_LETTERS = {"X": "(T, B, D)", "h0": "(B, H)", "dH_all": "(T, B, H)", "dh_T": "(B, H)"}
SEQ_LETTERS.update(P_LETTERS)
GRAD_LETTERS = {"W_x": "(D, H)", "W_h": "(H, H)", "b": "(H,)"}


# ----- one step forward -----


def check_rnn_step_forward(rnn_step_forward, *, B=3, D=4, H=5, seed=0):
    """rnn_step_forward(x_t, h_prev, p) -> (h, cache) on seeded inputs, eqs. (E1.1)-(E1.2)."""
    check_sizes(seed, B=B, D=D, H=H)
    x_t, h_prev, p, _ = draw(seed, B, D, H)
    _step_forward(rnn_step_forward, x_t, h_prev, p)
    passed(f"rnn_step_forward: h matches the reference for B={B}, D={D}, H={H} (seed {seed})")


def _step_forward(fn, x_t, h_prev, p):
    """Call and check the student's step; return their cache."""
    name = "rnn_step_forward"
    watch = Watch({"x_t": x_t, "h_prev": h_prev, "p": p}, STEP_LETTERS)
    h, cache = unpack(guarded_call(fn, name, (x_t, h_prev, p), watch), name, 2, "(h, cache)")
    out = {"h": array_out("h (the new hidden state)", h, h_prev.shape, "(B, H)")}
    expected, _ = ref.rnn_step_forward(x_t, h_prev, p)
    hint = "h = tanh(x_t W_x + h_prev W_h + b), eqs. (E1.1)-(E1.2)"
    catalogue = mistakes.step_forward_mistakes(x_t, h_prev, p)
    compare_explained("h (the new hidden state)", out, "h", expected, catalogue, hint, ("b", "j"))
    watch.views(name, {"h": h})
    return cache


# ----- one step backward -----


def check_rnn_step_backward(rnn_step_forward, rnn_step_backward, *, B=3, D=4, H=5, seed=0):
    """rnn_step_backward(dh, cache) -> (dx, dh_prev, grads), eqs. (E1.3)-(E1.5).

    The cache comes from the student's rnn_step_forward on the same inputs.
    """
    check_sizes(seed, B=B, D=D, H=H)
    name = "rnn_step_backward"
    x_t, h_prev, p, r = draw(seed, B, D, H)
    dh = r.normal(size=(B, H))
    try:
        cache = _step_forward(rnn_step_forward, x_t, h_prev, p)
    except CheckError as error:
        raise forward_first(error, name, "rnn_step_forward", rnn_step_backward, 2) from None
    held = Watch({"x_t": x_t, "h_prev": h_prev, "p": p}, STEP_LETTERS)
    watch = Watch({"dh": dh}, STEP_LETTERS)
    result = guarded_call(rnn_step_backward, name, (dh, cache), watch, held)
    dx, dh_prev, grads = unpack(result, name, 3, "(dx, dh_prev, grads)")
    grads = grads_out(name, grads, p)
    out = {
        "dx": array_out("dx", dx, x_t.shape, "(B, D)"),
        "dh_prev": array_out("dh_prev", dh_prev, h_prev.shape, "(B, H)"),
        **grad_arrays(grads, p, GRAD_LETTERS),
    }
    _, ref_cache = ref.rnn_step_forward(x_t, h_prev, p)
    dx_r, dh_prev_r, grads_r = ref.rnn_step_backward(dh, ref_cache)
    expected = {"dx": dx_r, "dh_prev": dh_prev_r, **{f"d{k}": v for k, v in grads_r.items()}}
    catalogue = mistakes.step_backward_mistakes(x_t, h_prev, p, dh)
    hints = {
        "db": "db = sum over the batch of da, with da = dh * (1 - h^2), eqs. (E1.3), (E1.5)",
        "dW_x": "dW_x = x_t^T da, eq. (E1.5)",
        "dW_h": "dW_h = h_prev^T da, eq. (E1.5)",
        "dx": "dx = da W_x^T, eq. (E1.4)",
        "dh_prev": "dh_prev = da W_h^T, eq. (E1.4)",
    }
    for key, hint in hints.items():
        axes = {"dx": ("b", "d"), "dh_prev": ("b", "j")}.get(key)  # gradients: row, col
        compare_explained(GRAD_LABELS.get(key, key), out, key, expected[key], catalogue, hint, axes)
    returned = {"dx": dx, "dh_prev": dh_prev, **{f"grads[{k!r}]": v for k, v in grads.items()}}
    watch.views(name, returned)
    held.views(name, returned)
    passed(
        f"rnn_step_backward: dx, dh_prev, dW_x, dW_h and db match the reference for B={B}, "
        f"D={D}, H={H} (seed {seed})"
    )


# ----- the sequence forward -----


def check_rnn_forward(rnn_forward, *, T=4, B=3, D=4, H=5, seed=0):
    """rnn_forward(X, h0, p) -> (H_all, h_T, cache), eq. (E1.1)-(E1.2) at every step.

    Also with h0=None, which must start from zeros.
    """
    check_sizes(seed, T=T, B=B, D=D, H=H)
    X, h0, p, _ = draw(seed, B, D, H, T=T)
    _sequence_forward(rnn_forward, X, h0, p)
    _sequence_forward(rnn_forward, X, None, p)
    passed(
        f"rnn_forward: H_all and h_T match the reference for T={T}, B={B}, D={D}, H={H} "
        f"(seed {seed}), also from h0=None"
    )


def _sequence_forward(fn, X, h0, p):
    """Call and check the student's rnn_forward; return their cache."""
    try:
        return _sequence_forward_unwrapped(fn, X, h0, p)
    except CheckError as error:
        if h0 is not None:
            raise
        B, H = X.shape[1], p["W_h"].shape[0]
        raise CheckError(
            f"rnn_forward(X, None, p) must start from h0 = zeros of shape (B, H) = {(B, H)}: "
            f"{error}"
        ) from None


def _sequence_forward_unwrapped(fn, X, h0, p):
    name = "rnn_forward"
    T, B, _ = X.shape
    H = p["W_h"].shape[0]
    watch = Watch({"X": X, "h0": h0, "p": p}, SEQ_LETTERS)
    result = guarded_call(fn, name, (X, h0, p), watch)
    H_all, h_T, cache = unpack(result, name, 3, "(H_all, h_T, cache)")
    out = {
        "H_all": array_out("H_all", H_all, (T, B, H), "(T, B, H)"),
        "h_T": array_out("h_T", h_T, (B, H), "(B, H)"),
    }
    start = np.zeros((B, H)) if h0 is None else h0
    H_ref, h_T_ref, _ = ref.rnn_forward(X, start, p)
    hint = None
    if not close(out["H_all"], H_ref):
        hint = diagnose(out, mistakes.sequence_forward_mistakes(X, start, p, H_ref), "H_all")

    def at(t):
        if hint:
            return hint
        if t == 0:
            return "The first step reads X[0] and h0 (zeros when h0 is None); eq. (E1.1)"
        return (
            f"The steps before t={t} are right, so check what step t={t} reads: X[{t}] and "
            f"h_prev = H_all[{t - 1}], the state the step before produced"
        )

    compare_steps("H_all", out["H_all"], H_ref, ("b", "j"), at)
    compare("h_T", out["h_T"], h_T_ref, axes=("b", "j"), hint="h_T is the last state, H_all[T - 1]")
    watch.views(name, {"H_all": H_all, "h_T": h_T})
    return cache


# ----- backpropagation through time -----


def check_rnn_backward(rnn_forward, rnn_backward, *, T=4, B=3, D=4, H=5, seed=0):
    """rnn_backward(dH_all, cache[, dh_T]) -> (dX, dh0, grads), eqs. (E1.6)-(E1.7).

    Run twice: without dh_T, then with a gradient dh_T on the final state. The cache comes
    from the student's rnn_forward.
    """
    check_sizes(seed, T=T, B=B, D=D, H=H)
    X, h0, p, r = draw(seed, B, D, H, T=T)
    dH_all = r.normal(size=(T, B, H))
    dh_T = r.normal(size=(B, H))
    for given in (None, dh_T):
        _sequence_backward(rnn_forward, rnn_backward, X, h0, p, dH_all, given)
    passed(
        f"rnn_backward: dX, dh0, dW_x, dW_h and db match the reference for T={T}, B={B}, "
        f"D={D}, H={H} (seed {seed}), without and with dh_T"
    )


def _sequence_backward(rnn_forward, rnn_backward, X, h0, p, dH_all, dh_T):
    name = "rnn_backward"
    try:
        cache = _sequence_forward(rnn_forward, X, h0, p)
    except CheckError as error:
        raise forward_first(error, name, "rnn_forward", rnn_backward, 2) from None
    held = Watch({"X": X, "h0": h0, "p": p}, SEQ_LETTERS)
    given = {"dH_all": dH_all} if dh_T is None else {"dH_all": dH_all, "dh_T": dh_T}
    watch = Watch(given, SEQ_LETTERS)
    args = (dH_all, cache) if dh_T is None else (dH_all, cache, dh_T)
    result = guarded_call(rnn_backward, name, args, watch, held)
    dX, dh0, grads = unpack(result, name, 3, "(dX, dh0, grads)")
    grads = grads_out(name, grads, p)
    context = "" if dh_T is None else " (with dh_T given)"
    out = {
        "dX": array_out("dX" + context, dX, X.shape, "(T, B, D)"),
        "dh0": array_out("dh0" + context, dh0, h0.shape, "(B, H)"),
        **grad_arrays(grads, p, GRAD_LETTERS, context),
    }
    _, _, ref_cache = ref.rnn_forward(X, h0, p)
    dX_r, dh0_r, grads_r = ref.rnn_backward(dH_all, ref_cache, dh_T)
    expected = {"dX": dX_r, "dh0": dh0_r, **{f"d{k}": v for k, v in grads_r.items()}}
    catalogue = mistakes.Walks(X, h0, p, dH_all, dh_T).mistakes()
    hint = None if close(out["dX"], expected["dX"]) else diagnose(out, catalogue, "dX")
    T = len(X)

    def at(t):
        if hint:
            return hint
        if t == T - 1:
            start = "dH_all[T - 1]" + (" + dh_T" if dh_T is not None else "")
            return (
                f"The walk starts at the last step t={t}, where dh = {start}; then "
                "rnn_step_backward (which must pass its own test)"
            )
        return (
            f"The later steps are right, so the dh flowing into step t={t} is wrong: check that "
            f"you add the gradient from the output, dH_all[{t}], and the one from step t+1={t + 1} "
            "(the dh_prev that step returned), eq. (E1.6). If rnn_step_backward does not pass "
            "its own test yet, start there: its dh_prev is what flows back"
        )

    compare_steps("dX", out["dX"], expected["dX"], ("b", "d"), at, True, context)
    compare(
        "dh0" + context,
        out["dh0"],
        expected["dh0"],
        axes=("b", "j"),
        hint="dh0 is the gradient that flows out of the first step, the dh_prev of step t=0",
    )
    for k in ("W_x", "W_h", "b"):
        key = f"d{k}"
        default = f"{key} is the sum over all steps of each step's gradient, eq. (E1.7)"
        compare_explained(GRAD_LABELS[key] + context, out, key, expected[key], catalogue, default)
    returned = {"dX": dX, "dh0": dh0, **{f"grads[{k!r}]": v for k, v in grads.items()}}
    watch.views(name, returned)
    held.views(name, returned)
