"""Noticing a student's function that changed its inputs in place.

A forward pass that writes into ``h_prev``, a backward pass that adds into ``dH_all``, or a
clipping function that scales the caller's gradients gives the right numbers once and wrong
ones later (the caller still needs those arrays). The checks take a snapshot of every input
before the call and compare after it.
"""

import numpy as np

from lstm_course.checks._common import CheckError


def snapshot(value):
    """A deep copy of the arrays in value (an array, or a dict, tuple or list of them)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {key: snapshot(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(snapshot(item) for item in value)
    return value


def _changed(before, after, where):
    """The name of the first array in after that differs from its snapshot, or None."""
    if isinstance(before, np.ndarray):
        same = isinstance(after, np.ndarray) and after.shape == before.shape
        return None if same and np.array_equal(after, before, equal_nan=True) else where
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(after) != set(before):
            return where
        for key, item in before.items():
            found = _changed(item, after[key], f"{where}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(before, (tuple, list)):
        for i, item in enumerate(before):
            found = _changed(item, after[i], f"{where}[{i}]")
            if found:
                return found
    return None


def check_unchanged(name, inputs, snapshots, hint=""):
    """Raise CheckError if one of the named inputs differs from its snapshot.

    Args:
        name: the student's function, e.g. "gru_backward".
        inputs: {argument name: the value passed}.
        snapshots: {argument name: snapshot(value) taken before the call}.
        hint: what to do instead, added to the message.
    """
    for arg, before in snapshots.items():
        where = _changed(before, inputs[arg], arg)
        if where:
            message = (
                f"{name} changed its input {where} in place: the caller still needs it,"
                " so compute new arrays instead of writing into the ones you were given"
            )
            raise CheckError(message + (f" ({hint})" if hint else ""))
