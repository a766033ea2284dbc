"""Argument checks shared by the NumPy layers: every message names the argument, the expected
and the actual shape, so a student sees at once which array is wrong."""

import numpy as np


def _check_array(name, x, kind, dtype_class, ndim):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, dtype_class):
        raise TypeError(f"{name} must be a{kind} array, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimensions, got shape {x.shape} ({x.ndim} dimensions)"
        )
    return x


def check_float_array(name, x, ndim=None):
    """Raise TypeError unless ``x`` is a floating-point ndarray (of ``ndim`` dimensions)."""
    return _check_array(name, x, " floating-point", np.floating, ndim)


def check_int_array(name, x, ndim=None):
    """Raise TypeError unless ``x`` is an integer ndarray (of ``ndim`` dimensions)."""
    return _check_array(name, x, "n integer", np.integer, ndim)


def _fmt(shape, letters):
    """(5, 16), ('D', '4H') -> '(D, 4H) = (5, 16)';  (12,), ('3H',) -> '(3H,) = (12,)'."""
    if letters is None:
        return str(tuple(shape))
    spelled = f"({letters[0]},)" if len(letters) == 1 else f"({', '.join(letters)})"
    return f"{spelled} = {tuple(shape)}"


def _gate_hint(got, shape, letters):
    """' (3 gates stacked; this cell needs 4)' when only the number of stacked gates is off."""
    if letters is None or len(got) != len(shape) or got[:-1] != tuple(shape[:-1]):
        return ""
    last = letters[-1]
    gates = int(last[:-1]) if last.endswith("H") and last[:-1].isdigit() else None
    if gates is None:
        return ""
    H = shape[-1] // gates
    if H == 0 or got[-1] % H:
        return ""
    return f" ({got[-1] // H} gates of size H = {H} stacked; this cell needs {gates})"


def check_shape(name, x, shape, letters=None):
    """Raise ValueError unless float array ``x`` has exactly ``shape``.

    ``letters`` spells the expected shape in the course's symbols, e.g. ("D", "4H").
    """
    check_float_array(name, x)
    if x.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {_fmt(shape, letters)}, got {x.shape}")
    return x


def check_params(p, expected, where):
    """Check a parameter dict: exactly the expected keys, each a float array of its shape.

    Args:
        p: the parameter dict.
        expected: {key: (shape, letters)}, e.g. {"W_x": ((5, 16), ("D", "4H"))}.
        where: the function's name, used in messages.
    """
    if not isinstance(p, dict):
        raise TypeError(f"{where}: p must be a dict of parameters, got {type(p).__name__}")
    missing = [k for k in expected if k not in p]
    extra = [k for k in p if k not in expected]
    if missing or extra:
        raise ValueError(
            f"{where}: p must have exactly the keys {sorted(expected)}; "
            f"missing {missing}, unexpected {extra}"
        )
    for key, (shape, letters) in expected.items():
        value = p[key]
        check_float_array(f"p[{key!r}]", value)
        if value.shape != tuple(shape):
            raise ValueError(
                f"{where}: p[{key!r}] must have shape {_fmt(shape, letters)}, "
                f"got {value.shape}{_gate_hint(value.shape, shape, letters)}"
            )


def check_batch(*items):
    """Raise ValueError unless all arrays share one batch size.

    Args:
        items: (name, array, batch_axis) triples, e.g. ("X", X, 1), ("h0", h0, 0).
    """
    (first_name, first, first_axis), *rest = items
    B = first.shape[first_axis]
    for name, x, axis in rest:
        if x.shape[axis] != B:
            raise ValueError(
                f"batch sizes differ: {first_name} has B = {B} (shape {first.shape}) "
                f"but {name} has B = {x.shape[axis]} (shape {x.shape})"
            )


def check_state_matches_params(name, state, p, where):
    """Raise ValueError if the state's H differs from the rows of p["W_h"] (H, kH).

    Checked before the parameters, so that a wrong state is blamed on the state rather than
    on the weights that disagree with it.
    """
    W_h = p.get("W_h") if isinstance(p, dict) else None
    if getattr(W_h, "ndim", 0) == 2 and W_h.shape[0] != state.shape[1]:
        raise ValueError(
            f"{where}: {name} has H = {state.shape[1]} (shape {state.shape}) but "
            f"p['W_h'] has shape {W_h.shape}, i.e. H = {W_h.shape[0]}"
        )


def _check_call(x_name, x, batch_axis, states, p, param_shapes, where):
    """x (ndim 2 or 3, batch on batch_axis), each state (B, H), and p for (D, H)."""
    check_float_array(x_name, x, ndim=batch_axis + 2)
    for name, s in states:
        check_float_array(name, s, ndim=2)
    check_batch((x_name, x, batch_axis), *[(name, s, 0) for name, s in states])
    for name, s in states[1:]:
        check_shape(name, s, states[0][1].shape, ("B", "H"))
    check_state_matches_params(*states[0], p, where)
    check_params(p, param_shapes(x.shape[-1], states[0][1].shape[1]), where)


def check_step(x_t, states, p, param_shapes, where):
    """Validate a step call: x_t (B, D), each state (B, H), and p for (D, H).

    Args:
        x_t: the input at time t.
        states: [(name, array)] previous states, all (B, H), e.g. [("h_prev", h_prev)].
        p: the parameter dict; param_shapes(D, H) gives its expected shapes.
        where: the calling function's name, used in messages.
    """
    _check_call("x_t", x_t, 0, states, p, param_shapes, where)


def check_sequence(X, states, p, param_shapes, where):
    """Validate a sequence call: X (T, B, D), each initial state (B, H), and p for (D, H)."""
    _check_call("X", X, 1, states, p, param_shapes, where)


def hidden_size(p, key="W_h"):
    """H read off p[key] (shape (H, kH)), used when no initial state is given."""
    if not isinstance(p, dict):
        raise TypeError(f"p must be a dict of parameters, got {type(p).__name__}")
    if key not in p or getattr(p[key], "ndim", 0) != 2:
        raise ValueError(f"p must contain a 2-D {key!r} of shape (H, ...) to infer H")
    return p[key].shape[0]
