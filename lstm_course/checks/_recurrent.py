"""What the RNN and LSTM checks share: guarded calls, named shapes, gradient dicts, time steps.

A student's function is called on arrays the check keeps copies of, so that a function that
changes its input in place (``dh *= 1 - h**2``, ``dh = dH_all[t]; dh += dh_next``) is caught
and named, and so is an output that is a view of an input. Shapes are spelled in the course's
letters, ``(B, H) = (3, 5)``, and gradients of the stacked LSTM parameters are blamed on a gate.
"""

import numpy as np

from lstm_course.checks._common import CheckError, as_array, call, compare, rng

ATOL, RTOL = 1e-6, 1e-5  # the tolerances of _common.compare, for the diagnoses below
GATES = ("input gate i", "forget gate f", "candidate g", "output gate o")  # stacked order


def close(actual, expected):
    """True when actual has expected's shape and matches it within the check tolerances."""
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return actual.shape == np.shape(expected) and np.allclose(
        actual, expected, atol=ATOL, rtol=RTOL
    )


def check_sizes(seed, **sizes):
    """ValueError/TypeError unless every size (B, D, H, T) is a positive int and seed an int.

    The sizes come from the exercise's test cells; a wrong one is the author's mistake, so it
    must not be reported to the student as a CheckError.
    """
    for name, value in {**sizes, "seed": seed}.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < (0 if name == "seed" else 1):
            low = "non-negative" if name == "seed" else "at least 1"
            raise ValueError(f"{name} must be {low}, got {value}")


def draw(seed, B, D, H, gates=1, T=None):
    """Seeded float64 inputs for a check: x (B, D) or X (T, B, D), h (B, H), p, and the rng.

    The weights have variance 1 / (D + H) so that pre-activations are of order one: tanh and
    sigmoid are neither saturated (a wrong derivative would hide) nor linear (a missing tanh
    would hide). The bias is large enough that leaving it out changes every output.
    """
    r = rng(seed)
    scale = 1.0 / np.sqrt(D + H)
    p = {
        "W_x": r.normal(scale=scale, size=(D, gates * H)),
        "W_h": r.normal(scale=scale, size=(H, gates * H)),
        "b": r.normal(scale=0.5, size=(gates * H,)),
    }
    x = r.normal(size=(B, D) if T is None else (T, B, D))
    h = r.uniform(-0.9, 0.9, size=(B, H))  # a state as tanh would produce it
    return x, h, p, r


def spell(shape, letters=None):
    """(3, 5), "(B, H)" -> "(B, H) = (3, 5)"."""
    return f"{letters} = {tuple(shape)}" if letters else str(tuple(shape))


def _flatten(label, value):
    """(label, array) for an array, each array of a dict (p['W_x']) or of a tuple (state0[0])."""
    if isinstance(value, np.ndarray):
        yield label, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(f"{label}[{key!r}]", item)
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _flatten(f"{label}[{index}]", item)


_IN_PLACE_ADVICE = {
    "": "Write results into new arrays, not into the ones you were given",
    "dh": "Compute into a new array: `da = dh * (1 - h**2)`, not `dh *= 1 - h**2`",
    "dc": "Compute into a new array: `dc_total = dc + ...`, not `dc += ...`",
    "dH_all": (
        "dH_all[t] is a view into dH_all: write `dh = dH_all[t] + dh_next`, not "
        "`dh = dH_all[t]; dh += dh_next`"
    ),
    "dh_T": "Start with a new array or rebind the name: `dh_next = dh_prev`, not `dh_next += ...`",
    "dstate_T": "Rebind the names at each step (`dh_next = ...`), do not add into dstate_T",
}


class Watch:
    """The input arrays of a call, copied, so that in-place changes and views can be reported.

    Args:
        named: {argument name: array, dict of arrays or tuple of arrays}.
        letters: {flattened label: the shape in letters}, e.g. {"x_t": "(B, D)"}, used to
            describe the call when the student's code crashes.
    """

    def __init__(self, named, letters=None):
        self.letters = letters or {}
        self.nones = [name for name, value in named.items() if value is None]
        self.arrays = {
            label: (array, array.copy())
            for name, value in named.items()
            for label, array in _flatten(name, value)
        }
        # {name: (the dict handed to the student, a shallow copy of it as it was)}
        self.dicts = {name: (v, dict(v)) for name, v in named.items() if isinstance(v, dict)}

    def describe(self):
        """The arguments as the student should picture them, e.g. "x_t (B, D) = (3, 4), ..."."""
        shapes = [
            f"{label} {spell(array.shape, self.letters.get(label))}"
            for label, (array, _) in self.arrays.items()
        ]
        return ", ".join(shapes + [f"{name} = None" for name in self.nones])

    def verify(self, culprit, held_by_cache=False):
        """CheckError if culprit changed one of the arrays (or a dict of them) in place."""
        for name, (after, before) in self.dicts.items():
            if after.keys() != before.keys() or any(after[k] is not v for k, v in before.items()):
                raise CheckError(
                    f"{culprit} changed the dict {name} (added, removed or replaced a key); "
                    f"it must only read {name}, the caller still needs it"
                )
        for label, (array, copy) in self.arrays.items():
            if np.array_equal(array, copy, equal_nan=True):
                continue
            where = ""
            if array.ndim == 3:  # a sequence: say at which steps it was changed
                steps = np.unique(np.argwhere(~np.isclose(array, copy, rtol=0, atol=0))[:, 0])
                where = f" (at t={', '.join(str(int(t)) for t in steps)})"
            held = ", an input of the forward pass that your cache holds," if held_by_cache else ""
            raise CheckError(
                f"{culprit} changed its input {label}{held} in place{where}: the caller still "
                f"needs it. {_IN_PLACE_ADVICE.get(label.split('[')[0], _IN_PLACE_ADVICE[''])}"
            )

    def views(self, culprit, outputs):
        """CheckError if an output array shares memory with an input array.

        Args:
            outputs: {label: value} of the returned arrays (non-arrays are skipped).
        """
        for out_label, out in outputs.items():
            if not isinstance(out, np.ndarray):
                continue
            for label, (array, _) in self.arrays.items():
                if np.shares_memory(out, array):
                    raise CheckError(
                        f"{culprit} returns {out_label} as a view of its input {label} (they "
                        f"share memory): a later change to one would silently change the "
                        f"other. Return a new array (compute it, or `.copy()` it)"
                    )


def guarded_call(fn, name, args, watch, held_by_cache=None):
    """fn(*args) through _common.call, then CheckError if it changed an input in place.

    Args:
        watch: a Watch of the arrays in args. held_by_cache: a Watch of the forward pass's
            inputs, which a backward function reaches through its cache.
    Returns:
        what fn returned.
    """
    try:
        result = call(fn, name, *args)
    except CheckError as error:
        if error.__cause__ is None:  # not implemented, or a CheckError of ours
            raise
        raise CheckError(f"{error}; it was called with {watch.describe()}") from error.__cause__
    watch.verify(name)
    if held_by_cache is not None:
        held_by_cache.verify(name, held_by_cache=True)
    return result


def forward_first(error, name, forward_name, backward, n_args):
    """The CheckError for a backward check whose student forward failed with error.

    A blank backward is reported as not implemented (what the student needs to hear first in
    a fresh notebook); otherwise the forward's failure is, since the backward is checked with
    the forward's cache. Whether backward is a blank stub is probed by calling it with None
    arguments: a stub raises NotImplementedError at once, real code fails some other way.
    """
    try:
        backward(*[None] * n_args)
    except NotImplementedError:
        return CheckError(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` with your "
            f"code (its test also runs your {forward_name}, which must pass its own test first)"
        )
    except Exception:  # any other failure: there is code to check
        pass
    return CheckError(
        f"{name} is checked with the cache of your {forward_name}, which is not right yet; "
        f"make its test pass first. {error}"
    )


def array_out(label, value, shape, letters, hint=""):
    """The returned value as a float64 array of shape, or CheckError with the shape in letters.

    Args:
        label: what it is, e.g. "dx". letters: the expected shape in letters, e.g. "(B, D)".
        hint: added when the shape is wrong.
    """
    if value is None:
        raise CheckError(f"{label} is None: did you forget to return it?")
    if isinstance(value, tuple | dict):
        raise CheckError(
            f"{label} must be an array of shape {spell(shape, letters)}, got a "
            f"{type(value).__name__}: are the returned items in the right order?"
        )
    try:
        got = np.shape(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise CheckError(f"{label} must be an array, got {type(value).__name__}") from None
    shape = tuple(shape)
    if got != shape:
        why = hint
        if got == shape[::-1] and len(shape) > 1:
            why = "is it transposed?"
        elif len(shape) == 3 and got == (shape[1], shape[0], shape[2]):
            why = "sequences are time-major: (T, B, ...), the time axis first"
        raise CheckError(
            f"{label} has shape {got}, expected {spell(shape, letters)}"
            + (f": {why}" if why else "")
        )
    return as_array(label, value, np.empty(shape))


GRAD_LABELS = {
    "dW_x": "dW_x (grads['W_x'])",
    "dW_h": "dW_h (grads['W_h'])",
    "db": "db (grads['b'])",
}


def grad_arrays(grads, p, letters, context=""):
    """{"dW_x", "dW_h", "db"} as checked arrays of their parameters' shapes.

    Args:
        grads: the student's gradient dict (keys already checked by grads_out).
        letters: {key of p: its shape in letters}. context: added to each name, e.g.
            " (with dh_T given)".
    """
    return {
        f"d{k}": array_out(
            GRAD_LABELS[f"d{k}"] + context,
            grads[k],
            p[k].shape,
            letters[k],
            hint="sum da over the batch axis (axis=0)" if k == "b" else "",
        )
        for k in ("W_x", "W_h", "b")
    }


def grads_out(owner, grads, p):
    """grads as a dict with exactly p's keys, or CheckError naming what is missing."""
    if not isinstance(grads, dict):
        raise CheckError(
            f"{owner} must return its parameter gradients as a dict with the keys of p "
            f"{sorted(p)}, got {type(grads).__name__}"
        )
    if set(grads) != set(p):
        missing = sorted(set(p) - set(grads))
        extra = sorted(set(grads) - set(p))
        raise CheckError(
            f"the gradient dict of {owner} must have exactly the keys of p {sorted(p)} (grads[k] "
            f"is dL/dp[k], no 'd' prefix); missing {missing}, unexpected {extra}"
        )
    return grads


def first_wrong_step(actual, expected, backward=False):
    """The first t (from T - 1 down when backward) where actual[t] differs, or None."""
    steps = range(len(expected) - 1, -1, -1) if backward else range(len(expected))
    for t in steps:
        if not close(actual[t], expected[t]):
            return t
    return None


def diagnose(outputs, mistakes, key=None):
    """The message of the first known mistake whose outputs match the student's, or None.

    Args:
        outputs: {key: the student's array}.
        mistakes: [(message, thunk)]: thunk() gives {key: array} as that mistake would
            produce them (a subset of outputs' keys), or None when it does not apply.
        key: only mistakes that predict this output are tried (the one being compared).
    """
    for message, thunk in mistakes:
        predicted = thunk()
        if not predicted or (key is not None and key not in predicted):
            continue
        if all(close(outputs[k], v) for k, v in predicted.items()):
            return message
    return None


def compare_explained(label, outputs, key, expected, mistakes, hint, axes=None):
    """compare(label, outputs[key], expected), with a known mistake's message as the hint.

    The mistakes are tried only when the output is wrong (they cost a forward or backward
    pass each); hint is used when none matches. The axes of a parameter gradient ("dW_x",
    "dW_h", "db") are named row, col or j unless given.
    """
    if axes is None and key in GRAD_LABELS:
        axes = {1: ("j",), 2: ("row", "col")}.get(np.ndim(expected))
    if not close(outputs[key], expected):
        hint = diagnose(outputs, mistakes, key) or hint
        compare(label, outputs[key], expected, axes=axes, hint=hint)


def gate_slices(H):
    """{gate name: its block of columns} for stacked (.., 4H) arrays in i, f, g, o order."""
    return {gate: slice(k * H, (k + 1) * H) for k, gate in enumerate(GATES)}


def wrong_gates(actual, expected, H):
    """The names of the gate blocks (last axis) where actual differs from expected."""
    return [g for g, s in gate_slices(H).items() if not close(actual[..., s], expected[..., s])]


def compare_steps(label, actual, expected, axes, message_at, backward=False, context=""):
    """Compare a (T, ...) sequence step by step; the first wrong step is named.

    Args:
        message_at: message_at(t) gives the explanation for the first wrong step t.
        axes: names of one step's axes, e.g. ("b", "j").
        backward: look from the last step down (where a backward walk goes wrong first).
        context: added after the name, e.g. " (with dh_T given)".
    """
    t = first_wrong_step(actual, expected, backward)
    if t is not None:
        name = f"{label}[{t}]{context}"
        compare(name, actual[t], expected[t], axes=axes, hint=message_at(t))
