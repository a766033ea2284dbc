"""Numeric gradients by centred differences, and the relative error we compare them with."""

import numpy as np


def rel_error(x, y):
    """Relative error of two arrays: ||x - y|| / (||x|| + ||y||), 0 when both are zero.

    We use norms rather than the largest elementwise ratio because an entry whose true
    gradient is close to zero has a numeric estimate dominated by round-off; its elementwise
    ratio says nothing about the correctness of the code. Use ``max_abs_error`` to locate a
    wrong entry.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: x has shape {x.shape} but y has shape {y.shape}")
    scale = np.linalg.norm(x) + np.linalg.norm(y)
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(x - y) / scale)


def max_abs_error(x, y):
    """(largest |x - y|, the index where it occurs): points at the entry to look at."""
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape:
        raise ValueError(f"max_abs_error: x has shape {x.shape} but y has shape {y.shape}")
    diff = np.abs(x - y)
    index = np.unravel_index(np.argmax(diff), diff.shape) if diff.size else ()
    return float(diff.max(initial=0.0)), tuple(int(i) for i in index)


def _check_x(x):
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        # a step of h is truncated to 0 in an integer array
        raise TypeError(f"x must be a floating-point array, got dtype {got}")


def _centred_difference(f, x, i, df, h):
    """(f(x + h e_i) - f(x - h e_i)) / 2h, contracted with df; x[i] is restored."""
    old = x[i]
    x[i] = old + h
    plus = np.array(f(), dtype=np.float64, copy=True)
    x[i] = old - h
    minus = np.array(f(), dtype=np.float64, copy=True)
    x[i] = old
    if df is not None and np.shape(df) != plus.shape:
        raise ValueError(f"df must have f's output shape {plus.shape}, got {np.shape(df)}")
    diff = plus - minus if df is None else (plus - minus) * df
    return float(np.sum(diff) / (2 * h))


def numeric_gradient(f, x, df=None, h=1e-5):
    """Centred-difference gradient of f with respect to the array x (changed in place, restored).

    d/dx_i sum(f() * df) ~ sum((f(x + h e_i) - f(x - h e_i)) * df) / (2h)

    Args:
        f: a function of no arguments that reads ``x`` and returns a scalar or an array.
        x: the float array to differentiate with respect to; perturbed in place, then restored.
        df: upstream gradient with f's output shape; None if f returns a scalar.
        h: the step; 1e-5 balances truncation error (~h^2) and round-off (~1e-16 / h) in float64.
    Returns:
        an array shaped like x.
    """
    _check_x(x)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        grad[i] = _centred_difference(f, x, i, df, h)
    return grad


def numeric_gradient_sparse(f, x, analytic, num_checks=10, df=None, h=1e-5, seed=0):
    """Compare ``analytic`` with centred differences at ``num_checks`` random entries of x.

    For arrays too large to differentiate entry by entry. The entries are distinct (all of
    them when x has at most num_checks entries).

    Returns:
        (rel_error over the checked entries, list of (index, numeric, analytic)).
    """
    _check_x(x)
    if np.shape(analytic) != x.shape:
        raise ValueError(f"analytic must have x's shape {x.shape}, got {np.shape(analytic)}")
    rng = np.random.default_rng(seed)
    flat = rng.choice(x.size, size=min(num_checks, x.size), replace=False)
    rows = []
    for i in (np.unravel_index(int(j), x.shape) for j in flat):
        i = tuple(int(k) for k in i)
        rows.append((i, _centred_difference(f, x, i, df, h), float(analytic[i])))
    numeric = np.array([r[1] for r in rows])
    exact = np.array([r[2] for r in rows])
    return rel_error(numeric, exact), rows
