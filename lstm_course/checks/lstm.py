"""Checks for exercise 2: one LSTM step forward and backward (every gate), then the sequence.

The reference is ``lstm_course.scratch.lstm``: gates stacked i, f, g, o as in torch.nn,
parameters {"W_x": (D, 4H), "W_h": (H, 4H), "b": (4H,)}, state (h, c). The equation numbers
are the exercise's, (E2.1) to (E2.12). A wrong answer is located as precisely as the numbers
allow: a known mistake when the outputs match one (i and f swapped, CS231n's i, f, o, g order,
no forget gate in dc_prev, no cell gradient from step t+1, ...), else the gate (from the gates
in the student's cache if it holds them, and the gate block of every weight gradient), the
output, the entry and, for a sequence, the first wrong time step. The backward checks build
the cache with the student's own forward function.
"""

import numpy as np

from lstm_course.checks import _lstm_mistakes as mistakes
from lstm_course.checks._common import CheckError, compare, compare_slices, passed, unpack
from lstm_course.checks._recurrent import (
    GATES,
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
    gate_slices,
    grad_arrays,
    grads_out,
    guarded_call,
    wrong_gates,
)
from lstm_course.scratch import lstm as ref

P_LETTERS = {"p['W_x']": "(D, 4H)", "p['W_h']": "(H, 4H)", "p['b']": "(4H,)"}
STATE = {"h_prev": "(B, H)", "c_prev": "(B, H)", "dh": "(B, H)", "dc": "(B, H)"}
STEP_LETTERS = {"x_t": "(B, D)", **STATE, **P_LETTERS}
SEQ_LETTERS = {"X": "(T, B, D)", "dH_all": "(T, B, H)", **P_LETTERS}
SEQ_LETTERS.update({f"{s}[{k}]": "(B, H)" for s in ("state0", "dstate_T") for k in (0, 1)})
GRAD_LETTERS = {"W_x": "(D, 4H)", "W_h": "(H, 4H)", "b": "(4H,)"}


def _draw_step(seed, B, D, H):
    x_t, h_prev, p, r = draw(seed, B, D, H, gates=4)
    return x_t, h_prev, r.normal(size=(B, H)), p, r  # c_prev is not squashed: any real value


# ----- one step forward -----


def check_lstm_step_forward(lstm_step_forward, *, B=3, D=4, H=5, seed=0):
    """lstm_step_forward(x_t, h_prev, c_prev, p) -> (h, c, cache), eqs. (E2.1)-(E2.5)."""
    check_sizes(seed, B=B, D=D, H=H)
    x_t, h_prev, c_prev, p, _ = _draw_step(seed, B, D, H)
    _step_forward(lstm_step_forward, x_t, h_prev, c_prev, p)
    passed(f"lstm_step_forward: h and c match the reference for B={B}, D={D}, H={H} (seed {seed})")


def _step_forward(fn, x_t, h_prev, c_prev, p):
    """Call and check the student's step; return their cache."""
    name = "lstm_step_forward"
    watch = Watch({"x_t": x_t, "h_prev": h_prev, "c_prev": c_prev, "p": p}, STEP_LETTERS)
    result = guarded_call(fn, name, (x_t, h_prev, c_prev, p), watch)
    h, c, cache = unpack(result, name, 3, "(h, c, cache)")
    shape = h_prev.shape
    out = {
        "h": array_out("h (the new hidden state)", h, shape, "(B, H)"),
        "c": array_out("c (the new cell state)", c, shape, "(B, H)"),
    }
    h_ref, c_ref, ref_cache = ref.lstm_step_forward(x_t, h_prev, c_prev, p)
    if not (close(out["h"], h_ref) and close(out["c"], c_ref)):
        catalogue = mistakes.step_forward_mistakes(x_t, h_prev, c_prev, p)
        hint = diagnose(out, catalogue)
        if hint is None:
            _compare_cache_gates(cache, ref_cache, shape)
        compare(
            "c (the new cell state)",
            out["c"],
            c_ref,
            axes=("b", "j"),
            hint=hint or "c = f * c_prev + i * g, eq. (E2.4)",
        )
        compare(
            "h (the new hidden state)",
            out["h"],
            h_ref,
            axes=("b", "j"),
            hint=hint or "h = o * tanh(c), eq. (E2.5)",
        )
    watch.views(name, {"h": h, "c": c})
    return cache


def _compare_cache_gates(cache, ref_cache, shape):
    """If the student's cache holds the gates i, f, g, o, blame the first wrong one."""
    gates = mistakes.cache_gates(cache, shape)
    if gates is None:
        return
    names = dict(zip("ifgo", GATES, strict=True))
    for k, value in gates.items():
        compare(
            f"the {names[k]} (cache.{k} in your cache)",
            value,
            getattr(ref_cache, k),
            axes=("b", "j"),
            hint=mistakes.GATE_EQUATIONS[k],
        )


# ----- one step backward -----


def check_lstm_step_backward(lstm_step_forward, lstm_step_backward, *, B=3, D=4, H=5, seed=0):
    """lstm_step_backward(dh, dc, cache) -> (dx, dh_prev, dc_prev, grads), eqs. (E2.6)-(E2.10).

    The cache comes from the student's lstm_step_forward on the same inputs. The weight
    gradients are compared gate block by gate block, so the message names the gate.
    """
    check_sizes(seed, B=B, D=D, H=H)
    name = "lstm_step_backward"
    x_t, h_prev, c_prev, p, r = _draw_step(seed, B, D, H)
    dh, dc = r.normal(size=(B, H)), r.normal(size=(B, H))
    try:
        cache = _step_forward(lstm_step_forward, x_t, h_prev, c_prev, p)
    except CheckError as error:
        raise forward_first(error, name, "lstm_step_forward", lstm_step_backward, 3) from None
    held = Watch({"x_t": x_t, "h_prev": h_prev, "c_prev": c_prev, "p": p}, STEP_LETTERS)
    watch = Watch({"dh": dh, "dc": dc}, STEP_LETTERS)
    result = guarded_call(lstm_step_backward, name, (dh, dc, cache), watch, held)
    dx, dh_prev, dc_prev, grads = unpack(result, name, 4, "(dx, dh_prev, dc_prev, grads)")
    grads = grads_out(name, grads, p)
    out = {
        "dx": array_out("dx", dx, x_t.shape, "(B, D)"),
        "dh_prev": array_out("dh_prev", dh_prev, h_prev.shape, "(B, H)"),
        "dc_prev": array_out("dc_prev", dc_prev, c_prev.shape, "(B, H)"),
        **grad_arrays(grads, p, GRAD_LETTERS),
    }
    _, _, ref_cache = ref.lstm_step_forward(x_t, h_prev, c_prev, p)
    dx_r, dh_prev_r, dc_prev_r, grads_r = ref.lstm_step_backward(dh, dc, ref_cache)
    expected = {"dx": dx_r, "dh_prev": dh_prev_r, "dc_prev": dc_prev_r}
    expected.update({f"d{k}": v for k, v in grads_r.items()})
    catalogue = mistakes.step_backward_mistakes(x_t, h_prev, c_prev, p, dh, dc)
    hint = None if _all_close(out, expected) else diagnose(out, catalogue)
    for key in ("db", "dW_x", "dW_h"):
        _compare_gate_blocks(GRAD_LABELS[key], out[key], expected[key], H, hint)
    for key, default in (
        ("dc_prev", "dc_prev = dc_total * f, eq. (E2.8)"),
        ("dh_prev", "dh_prev = da W_h^T, eq. (E2.10)"),
        ("dx", "dx = da W_x^T, eq. (E2.10)"),
    ):
        compare(key, out[key], expected[key], axes=("b", "j"), hint=hint or default)
    returned = {"dx": dx, "dh_prev": dh_prev, "dc_prev": dc_prev}
    returned.update({f"grads[{k!r}]": v for k, v in grads.items()})
    watch.views(name, returned)
    held.views(name, returned)
    passed(
        f"lstm_step_backward: dx, dh_prev, dc_prev and every gate block of dW_x, dW_h, db "
        f"match the reference for B={B}, D={D}, H={H} (seed {seed})"
    )


def _all_close(out, expected):
    return all(close(out[k], expected[k]) for k in out)


def _compare_gate_blocks(label, actual, expected, H, hint=None):
    """compare_slices over the i, f, g, o blocks, with a hint that fits the wrong blocks."""
    wrong = wrong_gates(actual, expected, H)
    if wrong:
        hint = hint or mistakes.gate_hint(wrong)
        compare_slices(label, actual, expected, gate_slices(H), hint=hint)


# ----- the sequence forward -----


def check_lstm_forward(lstm_forward, *, T=4, B=3, D=4, H=5, seed=0):
    """lstm_forward(X, state0, p) -> (H_all, (h_T, c_T), cache), also with state0=None."""
    check_sizes(seed, T=T, B=B, D=D, H=H)
    X, h0, p, r = draw(seed, B, D, H, gates=4, T=T)
    c0 = r.normal(size=(B, H))
    _sequence_forward(lstm_forward, X, (h0, c0), p)
    _sequence_forward(lstm_forward, X, None, p)
    passed(
        f"lstm_forward: H_all and (h_T, c_T) match the reference for T={T}, B={B}, D={D}, "
        f"H={H} (seed {seed}), also from state0=None"
    )


def _sequence_forward(fn, X, state0, p):
    """Call and check the student's lstm_forward; return their cache."""
    try:
        return _sequence_forward_unwrapped(fn, X, state0, p)
    except CheckError as error:
        if state0 is not None:
            raise
        B, H = X.shape[1], p["W_h"].shape[0]
        raise CheckError(
            f"lstm_forward(X, None, p) must start from h0 = c0 = zeros of shape (B, H) = "
            f"{(B, H)}: {error}"
        ) from None


def _sequence_forward_unwrapped(fn, X, state0, p):
    name = "lstm_forward"
    T, B, _ = X.shape
    H = p["W_h"].shape[0]
    watch = Watch({"X": X, "state0": state0, "p": p}, SEQ_LETTERS)
    result = guarded_call(fn, name, (X, state0, p), watch)
    H_all, state_T, cache = unpack(result, name, 3, "(H_all, (h_T, c_T), cache)")
    if not isinstance(state_T, tuple | list) or len(state_T) != 2:
        raise CheckError(
            f"{name} must return the final state as the tuple (h_T, c_T), got "
            f"{type(state_T).__name__}"
        )
    h_T, c_T = state_T
    out = {
        "H_all": array_out("H_all", H_all, (T, B, H), "(T, B, H)"),
        "h_T": array_out("h_T", h_T, (B, H), "(B, H)"),
        "c_T": array_out("c_T", c_T, (B, H), "(B, H)"),
    }
    h0, c0 = (np.zeros((B, H)), np.zeros((B, H))) if state0 is None else state0
    H_ref, (h_ref, c_ref), ref_cache = ref.lstm_forward(X, (h0, c0), p)
    hint = None
    if not close(out["H_all"], H_ref):
        hint = diagnose(out, _forward_sequence_mistakes(X, h0, c0, p, H_ref), "H_all")

    def at(t):
        if hint:
            return hint
        if t == 0:
            return "The first step reads X[0] and the state (h0, c0) (zeros when state0 is None)"
        return (
            f"The steps before t={t} are right, so check what step t={t} reads: X[{t}] and the "
            f"state (h, c) that step t-1={t - 1} produced"
        )

    compare_steps("H_all", out["H_all"], H_ref, ("b", "j"), at)
    swapped = "the final state is the tuple (h_T, c_T), in that order"
    compare("c_T", out["c_T"], c_ref, axes=("b", "j"), hint=_final_hint(out, h_ref, "c_T", swapped))
    compare("h_T", out["h_T"], h_ref, axes=("b", "j"), hint=_final_hint(out, c_ref, "h_T", swapped))
    watch.views(name, {"H_all": H_all, "h_T": h_T, "c_T": c_T})
    return cache


def _final_hint(out, other, key, swapped):
    if close(out[key], other):
        return swapped
    if key == "h_T":
        return "h_T is the last hidden state, H_all[T - 1]"
    return "c_T is the cell state after the last step"


def _forward_sequence_mistakes(X, h0, c0, p, H_ref):
    T = len(X)

    def walk(keep_h, keep_c):
        H_all, h, c = np.zeros(H_ref.shape), h0, c0
        for t in range(T):
            h_t, c_t, _ = ref.lstm_step_forward(X[t], h if keep_h else h0, c if keep_c else c0, p)
            H_all[t], h, c = h_t, h_t, c_t
        return {"H_all": H_all}

    return [
        (
            "Every H_all[t] holds the last state: one array is stored at every step and then "
            "changed in place (h[:] = ..., h *= ...); store a new array at each step",
            lambda: {"H_all": np.broadcast_to(H_ref[-1], H_ref.shape)} if T > 1 else None,
        ),
        (
            "The cell state is not carried: step t must read c_prev = the c of step t-1 (c0 "
            "only for t = 0)",
            lambda: walk(keep_h=True, keep_c=False) if T > 1 else None,
        ),
        (
            "The hidden state is not carried: step t must read h_prev = H_all[t - 1] (h0 only "
            "for t = 0)",
            lambda: walk(keep_h=False, keep_c=True) if T > 1 else None,
        ),
        (
            "H_all[t] holds the state before step t; it must hold the state after it "
            "(H_all[0] is the first new state, not h0)",
            lambda: {"H_all": np.concatenate([h0[None], H_ref[:-1]])},
        ),
    ]


# ----- backpropagation through time -----


def check_lstm_backward(lstm_forward, lstm_backward, *, T=4, B=3, D=4, H=5, seed=0):
    """lstm_backward(dH_all, cache[, dstate_T]) -> (dX, (dh0, dc0), grads), (E2.11)-(E2.12).

    Run twice: without dstate_T, then with gradients (dh_T, dc_T) on the final state. The
    cache comes from the student's lstm_forward.
    """
    check_sizes(seed, T=T, B=B, D=D, H=H)
    X, h0, p, r = draw(seed, B, D, H, gates=4, T=T)
    c0 = r.normal(size=(B, H))
    dH_all = r.normal(size=(T, B, H))
    dstate_T = (r.normal(size=(B, H)), r.normal(size=(B, H)))
    for given in (None, dstate_T):
        _sequence_backward(lstm_forward, lstm_backward, X, (h0, c0), p, dH_all, given)
    passed(
        f"lstm_backward: dX, (dh0, dc0) and every gate block of dW_x, dW_h, db match the "
        f"reference for T={T}, B={B}, D={D}, H={H} (seed {seed}), without and with dstate_T"
    )


def _sequence_backward(lstm_forward, lstm_backward, X, state0, p, dH_all, dstate_T):
    name = "lstm_backward"
    try:
        cache = _sequence_forward(lstm_forward, X, state0, p)
    except CheckError as error:
        raise forward_first(error, name, "lstm_forward", lstm_backward, 2) from None
    held = Watch({"X": X, "state0": state0, "p": p}, SEQ_LETTERS)
    given = {"dH_all": dH_all} if dstate_T is None else {"dH_all": dH_all, "dstate_T": dstate_T}
    watch = Watch(given, SEQ_LETTERS)
    args = (dH_all, cache) if dstate_T is None else (dH_all, cache, dstate_T)
    result = guarded_call(lstm_backward, name, args, watch, held)
    dX, dstate0, grads = unpack(result, name, 3, "(dX, (dh0, dc0), grads)")
    if not isinstance(dstate0, tuple | list) or len(dstate0) != 2:
        raise CheckError(
            f"{name} must return the gradient of the initial state as the tuple (dh0, dc0), "
            f"got {type(dstate0).__name__}"
        )
    grads = grads_out(name, grads, p)
    context = "" if dstate_T is None else " (with dstate_T given)"
    h0, c0 = state0
    out = {
        "dX": array_out("dX" + context, dX, X.shape, "(T, B, D)"),
        "dh0": array_out("dh0" + context, dstate0[0], h0.shape, "(B, H)"),
        "dc0": array_out("dc0" + context, dstate0[1], c0.shape, "(B, H)"),
        **grad_arrays(grads, p, GRAD_LETTERS, context),
    }
    _, _, ref_cache = ref.lstm_forward(X, (h0, c0), p)
    dX_r, (dh0_r, dc0_r), grads_r = ref.lstm_backward(dH_all, ref_cache, dstate_T)
    expected = {"dX": dX_r, "dh0": dh0_r, "dc0": dc0_r}
    expected.update({f"d{k}": v for k, v in grads_r.items()})
    catalogue = mistakes.Walks(X, h0, c0, p, dH_all, dstate_T).mistakes()
    hint = None if close(out["dX"], expected["dX"]) else diagnose(out, catalogue, "dX")
    T = len(X)

    def at(t):
        if hint:
            return hint
        if t == T - 1:
            extra = " + dh_T, dc = dc_T" if dstate_T is not None else ", dc = zeros"
            return (
                f"The walk starts at the last step t={t}, where dh = dH_all[T - 1]{extra}; then "
                "lstm_step_backward (which must pass its own test)"
            )
        return (
            f"The later steps are right, so the gradients flowing into step t={t} are wrong: "
            f"dh = dH_all[{t}] + the dh_prev returned by step t+1={t + 1}, and dc = the dc_prev "
            "it returned, eq. (E2.11). If lstm_step_backward does not pass its own test yet, "
            "start there: its dh_prev and dc_prev are what flows back"
        )

    compare_steps("dX", out["dX"], expected["dX"], ("b", "d"), at, True, context)
    for key, default in (
        ("dc0", "dc0 is the cell gradient that flows out of the first step, its dc_prev"),
        ("dh0", "dh0 is the gradient that flows out of the first step, its dh_prev"),
    ):
        compare_explained(
            key + context, out, key, expected[key], catalogue, default, axes=("b", "j")
        )
    H = h0.shape[1]
    for key in ("db", "dW_x", "dW_h"):
        if not close(out[key], expected[key]):
            found = diagnose(out, catalogue, key)
            _compare_gate_blocks(GRAD_LABELS[key] + context, out[key], expected[key], H, found)
    returned = {"dX": dX, "dh0": dstate0[0], "dc0": dstate0[1]}
    returned.update({f"grads[{k!r}]": v for k, v in grads.items()})
    watch.views(name, returned)
    held.views(name, returned)
