"""What every exercise check shares: calling the student's code, and comparing arrays.

The messages are the feedback a student reads, in the notebook and in the grade report, so
they name the quantity, the place and the numbers, and suggest where to look.
"""

import numpy as np


class CheckError(AssertionError):
    """A check found a wrong answer; the message says what, where, and by how much."""


def call(fn, name, *args, **kwargs):
    """fn(*args, **kwargs), with a student's NotImplementedError or crash turned into feedback.

    Args:
        fn: the student's function. name: how the exercise calls it, e.g. "rnn_step_forward".
    """
    if not callable(fn):
        raise CheckError(f"{name} must be a function, got {type(fn).__name__}")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckError(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code"
        ) from None
    except CheckError:
        raise
    except Exception as error:
        raise CheckError(
            f"{name} raised {type(error).__name__}: {error}"
            " (run the cell above on the inputs printed here to see where)"
        ) from error


def unpack(result, name, count, what):
    """result as a tuple of count items; what names them, e.g. "(h, cache)"."""
    if count == 1:
        return (result,)
    if not isinstance(result, tuple) or len(result) != count:
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise CheckError(f"{name} must return {what} ({count} items), got {got}")
    return result


def as_array(name, actual, expected, axes=None):
    """actual as a float64 array of expected's shape, all finite; else CheckError."""
    if actual is None:
        raise CheckError(f"{name} is None: did you forget to return it?")
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckError(f"{name} must be an array, got {type(actual).__name__}") from None
    if actual.shape != expected.shape:
        letters = f" {tuple(axes)}" if axes else ""
        raise CheckError(f"{name} has shape {actual.shape}, expected {expected.shape}{letters}")
    if not np.all(np.isfinite(actual)):
        where = _where(np.argwhere(~np.isfinite(actual))[0], axes)
        raise CheckError(f"{name} contains nan or inf (first at {where})")
    return actual


def compare(name, actual, expected, *, atol=1e-6, rtol=1e-5, axes=None, hint=""):
    """Raise CheckError unless actual matches expected in shape and value.

    Args:
        name: what is compared, e.g. "h (the new hidden state)" or "dW_h".
        actual, expected: arrays (actual may be anything the student returned).
        axes: names of expected's axes, e.g. ("t", "b", "j"), so the message reads
            "first wrong entry at t=3, b=0, j=5". Default: plain indices.
        hint: a sentence added when the values differ, e.g. where the usual mistake is.
    """
    expected = np.asarray(expected)
    actual = as_array(name, actual, expected, axes)
    bad = ~np.isclose(actual, expected, atol=atol, rtol=rtol)
    if bad.any():
        first = np.argwhere(bad)[0]
        error = float(np.max(np.abs(actual - expected)))
        message = (
            f"{name} is wrong: first wrong entry at {_where(first, axes)},"
            f" expected {expected[tuple(first)]:.6g}, got {actual[tuple(first)]:.6g}"
            f" ({int(bad.sum())} of {bad.size} entries wrong, largest error {error:.3g})"
        )
        raise CheckError(message + (f". {hint}" if hint else ""))


def compare_slices(name, actual, expected, slices, *, axis=-1, atol=1e-6, rtol=1e-5, hint=""):
    """Like compare, but blames a named part of the last (or given) axis first.

    Args:
        slices: {part name: slice}, e.g. {"input gate i": slice(0, H), ...}; the parts are
            checked in order and the first wrong one is named in the message.
    """
    expected = np.asarray(expected)
    actual = as_array(name, actual, expected)
    for part, s in slices.items():
        index = [slice(None)] * expected.ndim
        index[axis] = s
        index = tuple(index)
        compare(
            f"{name}, the {part} part",
            actual[index],
            expected[index],
            atol=atol,
            rtol=rtol,
            hint=hint,
        )


def _where(index, axes):
    if axes:
        return ", ".join(f"{a}={int(i)}" for a, i in zip(axes, index, strict=True))
    return str(tuple(int(i) for i in index))


def rng(seed):
    """The generator every check draws its inputs from (so feedback is reproducible)."""
    return np.random.default_rng(seed)


def passed(message):
    """Print a short success line (visible in the notebook, ignored by the grader)."""
    print(f"OK: {message}")
