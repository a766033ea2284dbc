"""Checks for exercise 3, the GRU: one step forward and backward, then the whole sequence.

The reference is ``lstm_course.scratch.gru``: torch.nn.GRU's equations, gates stacked r, z, n,
parameters {"W_x": (D, 3H), "W_h": (H, 3H), "b_x": (3H,), "b_h": (3H,)}. A wrong answer is
located as precisely as the numbers allow: the output, the gate block (reset r, update z,
candidate n) of a weight gradient, the time step, and, when the numbers match a common
mistake (r and z swapped, the reset gate applied before the matrix product, ...), that mistake.

    from lstm_course.checks import gru as checks
    checks.check_gru_step_forward(gru_step_forward, B=3, D=4, H=5, seed=0)
"""

import numpy as np

from lstm_course.checks._common import (
    CheckError,
    as_array,
    call,
    compare,
    compare_slices,
    passed,
    rng,
    unpack,
)
from lstm_course.checks._gru_mistakes import (
    BLOCK_HINTS,
    H_SIDE_N_HINT,
    STEP_FORWARD_HINT,
    blocks,
    forward_mistakes,
    name_mistake,
)
from lstm_course.checks._inplace import check_unchanged, snapshot
from lstm_course.scratch import gru as ref

PARAM_KEYS = ("W_x", "W_h", "b_x", "b_h")
GRAD_LETTERS = {"W_x": ("D", "3H"), "W_h": ("H", "3H"), "b_x": ("3H",), "b_h": ("3H",)}


# ----- inputs -----


def _params(gen, D, H):
    """Random GRU parameters, small enough that no gate saturates (every term matters)."""
    shapes = ref.gru_param_shapes(D, H)
    return {key: gen.normal(scale=0.5, size=shape) for key, (shape, _) in shapes.items()}


def _step_inputs(B, D, H, seed):
    gen = rng(seed)
    x_t = gen.normal(size=(B, D))
    h_prev = np.tanh(gen.normal(size=(B, H)))  # a state a GRU could have produced
    p = _params(gen, D, H)
    dh = gen.normal(size=(B, H))
    return x_t, h_prev, p, dh


def _sequence_inputs(T, B, D, H, seed):
    gen = rng(seed)
    X = gen.normal(size=(T, B, D))
    h0 = np.tanh(gen.normal(size=(B, H)))
    p = _params(gen, D, H)
    dH_all = gen.normal(size=(T, B, H))
    dh_T = gen.normal(size=(B, H))
    return X, h0, p, dH_all, dh_T


def _steps(first, last):
    """'Step 3 is' or 'Steps 0 to 2 are', for the hints that name the right steps."""
    return f"Step {first} is" if first == last else f"Steps {first} to {last} are"


def _shape_text(**sizes):
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


def _compare_grads(grads, expected, H, where, extra_hint=""):
    """grads must be a dict with the four keys; each compared gate block by gate block."""
    if not isinstance(grads, dict):
        raise CheckError(
            f"{where}: grads must be a dict {{'W_x', 'W_h', 'b_x', 'b_h'}},"
            f" got {type(grads).__name__}"
        )
    missing = [k for k in PARAM_KEYS if k not in grads]
    extra = [k for k in grads if k not in PARAM_KEYS]
    if missing or extra:
        raise CheckError(
            f"{where}: grads must have exactly the keys {list(PARAM_KEYS)};"
            f" missing {missing}, unexpected {extra}"
        )
    for key in ("W_x", "b_x", "W_h", "b_h"):
        name = f"grads['{key}'] (dL/d{key})"
        actual = as_array(name, grads[key], expected[key], GRAD_LETTERS[key])
        for part, s in blocks(H).items():
            hint = BLOCK_HINTS[part]
            if part == "candidate n" and key in ("W_h", "b_h"):
                hint = H_SIDE_N_HINT
            hint = extra_hint or hint
            compare_slices(name, actual, expected[key], {f"{part} gate": s}, hint=hint)


def _fail_if_not_implemented(fn, name, *args):
    """Raise the "not implemented yet" feedback if fn raises NotImplementedError on args.

    A backward check needs the student's forward first. Calling the backward once on the
    reference's cache lets a blank backward say so itself, whatever the state of the
    forward; any other outcome of this call (a cache it cannot read) is ignored.
    """
    try:
        call(fn, name, *args)
    except CheckError as error:
        if "is not implemented yet" in str(error):
            raise


# ----- one step -----


def check_gru_step_forward(gru_step_forward, *, B=3, D=4, H=5, seed=0):
    """Check h of gru_step_forward(x_t, h_prev, p) -> (h, cache) against the reference.

    Args:
        gru_step_forward: the student's function.
        B, D, H: batch, input and hidden size. seed: for the random inputs.
    """
    name = "gru_step_forward"
    x_t, h_prev, p, _ = _step_inputs(B, D, H, seed)
    inputs = {"x_t": x_t, "h_prev": h_prev, "p": p}
    before = snapshot(inputs)
    expected, _ = ref.gru_step_forward(x_t, h_prev, p)
    h, _cache = unpack(call(gru_step_forward, name, x_t, h_prev, p), name, 2, "(h, cache)")
    hint = name_mistake(h, forward_mistakes(x_t, h_prev, p), STEP_FORWARD_HINT)
    compare("h (the new hidden state)", h, expected, axes=("b", "j"), hint=hint)
    check_unchanged(name, inputs, before)
    passed(f"{name} matches the reference at {_shape_text(B=B, D=D, H=H)} (seed {seed})")


def check_gru_step_backward(gru_step_forward, gru_step_backward, *, B=3, D=4, H=5, seed=0):
    """Check dx_t, dh_prev and grads of gru_step_backward(dh, cache) against the reference.

    The cache comes from the student's gru_step_forward, so that must be right first.

    Args:
        gru_step_forward, gru_step_backward: the student's functions.
        B, D, H: batch, input and hidden size. seed: for the random inputs.
    """
    name = "gru_step_backward"
    x_t, h_prev, p, dh = _step_inputs(B, D, H, seed)
    h_ref, cache_ref = ref.gru_step_forward(x_t, h_prev, p)
    dx_ref, dh_prev_ref, grads_ref = ref.gru_step_backward(dh, cache_ref)

    _fail_if_not_implemented(gru_step_backward, name, dh.copy(), cache_ref)
    try:
        result = call(gru_step_forward, "gru_step_forward", x_t, h_prev, p)
        h, cache = unpack(result, "gru_step_forward", 2, "(h, cache)")
        compare("h (the new hidden state)", h, h_ref, axes=("b", "j"))
    except CheckError as error:
        raise CheckError(
            f"{name} is checked with the cache of your gru_step_forward, which is not right "
            f"yet ({error}). Make check_gru_step_forward pass first"
        ) from None

    inputs = {"dh": dh}
    before = snapshot(inputs)
    result = call(gru_step_backward, name, dh, cache)
    dx_t, dh_prev, grads = unpack(result, name, 3, "(dx_t, dh_prev, grads)")
    _compare_grads(grads, grads_ref, H, name)
    compare(
        "dx_t (dL/dx_t)",
        dx_t,
        dx_ref,
        axes=("b", "d"),
        hint="dx_t = dA_x W_x^T, with dA_x = [da_r | da_z | da_n] the gradient of "
        "a_x = x_t W_x + b_x",
    )
    direct = dh * cache_ref.z  # the path through z * h_prev in (E3.4)
    dh_hint = name_mistake(
        dh_prev,
        {
            "the direct path dh * z through z * h_prev in (E3.4) is missing": dh_prev_ref - direct,
            "only the direct path dh * z is there: add dA_h W_h^T, the path through "
            "a_h = h_prev W_h + b_h": direct,
        },
        "dh_prev has two paths: directly through z * h_prev in (E3.4), and through "
        "a_h = h_prev W_h + b_h into all three gates",
    )
    compare("dh_prev (dL/dh_prev)", dh_prev, dh_prev_ref, axes=("b", "j"), hint=dh_hint)
    check_unchanged(name, inputs, before)
    passed(f"{name} matches the reference at {_shape_text(B=B, D=D, H=H)} (seed {seed})")


# ----- the sequence -----


def _compare_forward_steps(H_all, expected, X, h0, p):
    """H_all (T, B, H), compared step by step: the first wrong t is named."""
    actual = as_array("H_all", H_all, expected, ("T", "B", "H"))
    for t in range(expected.shape[0]):
        if t == 0:
            hint = name_mistake(
                actual[0],
                forward_mistakes(X[0], h0, p),
                "Already the first step is wrong: it starts from h0; check the step "
                "equations (does check_gru_step_forward pass?)",
            )
        else:
            hint = (
                f"{_steps(0, t - 1)} right, so the step equations probably are: check that "
                f"the step at t = {t} reads the h computed at t = {t - 1}"
            )
        compare(
            f"H_all[{t}] (the hidden state at t = {t})",
            actual[t],
            expected[t],
            axes=("b", "j"),
            hint=hint,
        )


def _checked_forward(fn, X, h0, p):
    """Run the student's gru_forward and compare H_all and h_T; return their cache."""
    name = "gru_forward"
    H_all_ref, h_T_ref, _ = ref.gru_forward(X, h0, p)
    H_all, h_T, cache = unpack(call(fn, name, X, h0, p), name, 3, "(H_all, h_T, cache)")
    h0_used = np.zeros_like(H_all_ref[0]) if h0 is None else h0
    _compare_forward_steps(H_all, H_all_ref, X, h0_used, p)
    compare(
        "h_T (the last hidden state)",
        h_T,
        h_T_ref,
        axes=("b", "j"),
        hint="h_T is the state after the last step, H_all[T - 1]",
    )
    return cache


def check_gru_forward(gru_forward, *, T=4, B=3, D=4, H=5, seed=0):
    """Check H_all and h_T of gru_forward(X, h0, p) -> (H_all, h_T, cache), with h0 and None.

    Args:
        gru_forward: the student's function.
        T, B, D, H: sequence length, batch, input and hidden size. seed: for the inputs.
    """
    name = "gru_forward"
    X, h0, p, _, _ = _sequence_inputs(T, B, D, H, seed)
    inputs = {"X": X, "h0": h0, "p": p}
    before = snapshot(inputs)
    _checked_forward(gru_forward, X, h0, p)
    check_unchanged(name, inputs, before)
    try:
        _checked_forward(gru_forward, X, None, p)
    except CheckError as error:
        raise CheckError(
            f"with h0=None, which means a state of zeros of shape (B, H) = {(B, H)}: {error}"
        ) from None
    passed(f"{name} matches the reference at {_shape_text(T=T, B=B, D=D, H=H)} (seed {seed})")


def _compare_backward_steps(dX, expected, with_dh_T):
    """dX (T, B, D), compared from t = T - 1 down: the backward pass's first wrong step."""
    actual = as_array("dX", dX, expected, ("T", "B", "D"))
    T = expected.shape[0]
    for t in reversed(range(T)):
        if t == T - 1 and with_dh_T:
            hint = (
                "This is the first step of the backward pass, and it was right without dh_T: "
                "its gradient is dH_all[T - 1] + dh_T, so start dh_next from dh_T"
            )
        elif t == T - 1:
            hint = (
                "This is the first step of the backward pass; its gradient is dH_all[T - 1] "
                "alone. Check the step backward (does check_gru_step_backward pass?)"
            )
        else:
            hint = (
                f"{_steps(t + 1, T - 1)} right, so look at what step {t + 1} passes back: at "
                f"t = {t} the step's gradient is dH_all[{t}] + dh_next, where dh_next is the "
                f"dh_prev that step {t + 1} returned (E3.9); if that is so, check dh_prev in "
                "your step backward (does check_gru_step_backward pass?)"
            )
        compare(f"dX[{t}] (dL/dx_t at t = {t})", actual[t], expected[t], axes=("b", "d"), hint=hint)


def _backward_once(fn_forward, fn_backward, X, h0, p, dH_all, dh_T):
    """Student forward (checked), then student backward; compares everything."""
    name = "gru_backward"
    _, _, cache_ref = ref.gru_forward(X, h0, p)
    dX_ref, dh0_ref, grads_ref = ref.gru_backward(dH_all, cache_ref, dh_T)
    _fail_if_not_implemented(fn_backward, name, dH_all.copy(), cache_ref)
    try:
        cache = _checked_forward(fn_forward, X, h0, p)
    except CheckError as error:
        raise CheckError(
            f"{name} is checked with the cache of your gru_forward, which is not right yet "
            f"({error}). Make check_gru_forward pass first"
        ) from None
    inputs = {"dH_all": dH_all} if dh_T is None else {"dH_all": dH_all, "dh_T": dh_T}
    before = snapshot(inputs)
    args = (dH_all, cache) if dh_T is None else (dH_all, cache, dh_T)
    dX, dh0, grads = unpack(call(fn_backward, name, *args), name, 3, "(dX, dh0, grads)")
    _compare_backward_steps(dX, dX_ref, dh_T is not None)
    compare(
        "dh0 (dL/dh0)",
        dh0,
        dh0_ref,
        axes=("b", "j"),
        hint="dh0 is dh_next after the step t = 0: what the first step passes back",
    )
    T, H = X.shape[0], h0.shape[1]
    # A loop that assigns instead of adding leaves the gradient of the last step it ran (t = 0).
    step0 = _step0_grads(X, h0, p, dH_all, dh_T)
    overwritten = isinstance(grads, dict) and all(
        name_mistake(grads.get(k), {"": step0[k]}, None) is not None for k in PARAM_KEYS
    )
    summed = (
        "W_x, W_h, b_x and b_h are shared by all T steps, so each gradient is the sum of "
        "the steps' gradients"
    )
    if T > 1 and overwritten:
        summed = "Your grads are those of step t = 0 alone: " + summed + " (add, do not assign)"
    _compare_grads(grads, grads_ref, H, name, extra_hint=summed)
    check_unchanged(name, inputs, before, hint="e.g. dH_all[t] += ... writes into dH_all")


def _step0_grads(X, h0, p, dH_all, dh_T):
    """The parameter gradients of step t = 0 alone (what an assigning loop leaves behind)."""
    h_1, cache_0 = ref.gru_step_forward(X[0], h0, p)
    dh_next = dh_T if dh_T is not None else np.zeros_like(h0)
    if X.shape[0] > 1:  # the gradient that steps 1..T-1 pass back to h_1
        _, _, later = ref.gru_forward(X[1:], h_1, p)
        dh_next = ref.gru_backward(dH_all[1:], later, dh_T)[1]
    return ref.gru_step_backward(dH_all[0] + dh_next, cache_0)[2]


def check_gru_backward(gru_forward, gru_backward, *, T=4, B=3, D=4, H=5, seed=0):
    """Check gru_backward(dH_all, cache, dh_T=None) -> (dX, dh0, grads), without and with dh_T.

    The cache comes from the student's gru_forward, so that must be right first.

    Args:
        gru_forward, gru_backward: the student's functions.
        T, B, D, H: sequence length, batch, input and hidden size. seed: for the inputs.
    """
    X, h0, p, dH_all, dh_T = _sequence_inputs(T, B, D, H, seed)
    _backward_once(gru_forward, gru_backward, X, h0, p, dH_all, None)
    try:
        _backward_once(gru_forward, gru_backward, X, h0, p, dH_all, dh_T)
    except CheckError as error:
        raise CheckError(
            f"with dh_T given (the gradient on h_T from outside the sequence, where dh_next "
            f"starts instead of zeros): {error}"
        ) from None
    passed(f"gru_backward matches the reference at {_shape_text(T=T, B=B, D=D, H=H)} (seed {seed})")
