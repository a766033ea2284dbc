"""Argument checks of the decoders: each message names the argument, the expected and the actual."""

import numbers

import numpy as np


def check_int(name, value, minimum):
    """value as an int >= minimum, else TypeError / ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def check_positive(name, value, allow_zero=False):
    """value as a finite float > 0 (>= 0 with ``allow_zero``), else TypeError / ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    bad = value < 0 if allow_zero else value <= 0
    if bad or not np.isfinite(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def to_numpy(name, x):
    """An array, list or torch tensor (any device, with or without grad) as float64 NumPy."""
    if hasattr(x, "detach"):  # a torch tensor; duck-typed so that NumPy users need no torch
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from None
