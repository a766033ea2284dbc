"""Argument checks for the datasets: each message names the argument, what was expected and
what was given, so a wrong call is fixed from the error alone."""

import numbers

import torch


def check_int(name, value, minimum=None, maximum=None):
    """Return ``value`` as an int, or raise TypeError / ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an int <= {maximum}, got {value}")
    return value


def check_seed(seed):
    """A seed is a non-negative int (what ``np.random.default_rng`` accepts)."""
    return check_int("seed", seed, minimum=0)


def check_float(name, value, minimum=None, maximum=None, strict=False):
    """Return ``value`` as a float in [minimum, maximum] (open interval when ``strict``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    low = minimum is not None and (value <= minimum if strict else value < minimum)
    high = maximum is not None and (value >= maximum if strict else value > maximum)
    if low or high or value != value:  # value != value catches NaN
        lo = "(" if strict else "["
        hi = ")" if strict else "]"
        interval = f"{lo}{'-inf' if minimum is None else minimum}, "
        interval += f"{'inf' if maximum is None else maximum}{hi}"
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return value


def check_range(name, pair, minimum=None, maximum=None, strict=False):
    """Return ``(low, high)`` floats with low <= high, both within the bounds."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"{name} must be a pair (low, high), got {pair!r}")
    low = check_float(f"{name}[0]", pair[0], minimum, maximum, strict)
    high = check_float(f"{name}[1]", pair[1], minimum, maximum, strict)
    if low > high:
        raise ValueError(f"{name} must satisfy low <= high, got {tuple(pair)}")
    return low, high


def check_ids(name, ids):
    """Raise unless ``ids`` is a 1-D integer torch tensor (a stream of token ids)."""
    if not isinstance(ids, torch.Tensor):
        raise TypeError(f"{name} must be a 1-D torch.LongTensor, got {type(ids).__name__}")
    if ids.dtype == torch.bool or ids.dtype.is_floating_point or ids.dtype.is_complex:
        raise TypeError(f"{name} must hold integer token ids, got dtype {ids.dtype}")
    if ids.ndim != 1:
        raise ValueError(f"{name} must be 1-D (a single stream), got shape {tuple(ids.shape)}")
    return ids
