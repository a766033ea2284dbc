"""Copy weights between torch.nn.RNN/LSTM/GRU (or their cells) and our NumPy parameter dicts.

torch stores W_ih as (gates*H, D) and multiplies column vectors (W_ih x); we store W_x as
(D, gates*H) and multiply row vectors (x W_x), so every matrix is transposed. torch keeps two
biases (b_ih, b_hh) because cuDNN does; in the RNN and the LSTM they are only ever added, so
our cell has one, b = b_ih + b_hh. The GRU needs both: b_hn sits inside r * (h W_hn + b_hn).
"""

import numpy as np

_GATES = {1: "rnn", 3: "gru", 4: "lstm"}


def _names(module, layer, direction):
    """torch's parameter names for one layer and direction, and the number of gates."""
    hidden = getattr(module, "hidden_size", None)
    if hidden is None or not hasattr(module, "named_parameters"):
        raise TypeError(f"expected an RNN, LSTM or GRU module, got {type(module).__name__}")
    params = dict(module.named_parameters())
    if not isinstance(layer, int) or layer < 0:
        raise ValueError(f"layer must be a non-negative int, got {layer!r}")
    if direction not in (0, 1):
        raise ValueError(f"direction must be 0 (forward) or 1 (reverse), got {direction!r}")
    if "weight_ih" in params:  # a cell: RNNCell, LSTMCell, GRUCell
        if layer != 0 or direction != 0:
            raise ValueError(f"a cell has one layer and one direction, got {layer=}, {direction=}")
        suffix = ""
    else:
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        if f"weight_ih{suffix}" not in params:
            raise ValueError(
                f"{type(module).__name__} has no layer {layer} direction {direction} "
                f"(num_layers={getattr(module, 'num_layers', '?')}, "
                f"bidirectional={getattr(module, 'bidirectional', '?')})"
            )
    if getattr(module, "proj_size", 0):
        raise ValueError("LSTMs with proj_size > 0 are not supported by the scratch LSTM")
    gates = params[f"weight_ih{suffix}"].shape[0] // hidden
    if gates not in _GATES:
        raise TypeError(f"expected an RNN, LSTM or GRU module, got {type(module).__name__}")
    return params, suffix, gates


def _numpy(t):
    return t.detach().cpu().numpy().copy()


def params_from_torch(module, layer=0, direction=0):
    """Our parameter dict for one layer and direction of a torch recurrent module.

    Args:
        module: torch.nn.RNN, LSTM or GRU, or RNNCell, LSTMCell, GRUCell (or anything with
            the same parameter names, such as lstm_course.modules).
        layer: which stacked layer (0 is the one that reads the input).
        direction: 0 forward, 1 reverse (bidirectional modules).
    Returns:
        RNN/LSTM: {"W_x": (D, kH), "W_h": (H, kH), "b": (kH,)};
        GRU: {"W_x": (D, 3H), "W_h": (H, 3H), "b_x": (3H,), "b_h": (3H,)}; NumPy copies in the
        module's dtype.
    """
    params, suffix, gates = _names(module, layer, direction)
    W_ih, W_hh = params[f"weight_ih{suffix}"], params[f"weight_hh{suffix}"]
    b_ih = params.get(f"bias_ih{suffix}")
    b_hh = params.get(f"bias_hh{suffix}")
    zeros = np.zeros(W_ih.shape[0], dtype=_numpy(W_ih).dtype)
    b_x = zeros if b_ih is None else _numpy(b_ih)
    b_h = zeros.copy() if b_hh is None else _numpy(b_hh)
    p = {"W_x": _numpy(W_ih).T.copy(), "W_h": _numpy(W_hh).T.copy()}
    if _GATES[gates] == "gru":
        p.update(b_x=b_x, b_h=b_h)
    else:
        p["b"] = b_x + b_h
    return p


def params_to_torch(p, module, layer=0, direction=0):
    """Write our parameter dict into one layer and direction of a torch recurrent module.

    The single RNN/LSTM bias goes into bias_ih; bias_hh is set to zero, so the module
    computes exactly what our cell computes. Shapes must match the module's.

    Args:
        p: a parameter dict as returned by params_from_torch.
        module, layer, direction: as for params_from_torch.
    Returns:
        the module (changed in place).
    """
    import torch

    params, suffix, gates = _names(module, layer, direction)
    W_ih, W_hh = params[f"weight_ih{suffix}"], params[f"weight_hh{suffix}"]
    b_ih = params.get(f"bias_ih{suffix}")
    b_hh = params.get(f"bias_hh{suffix}")
    if _GATES[gates] == "gru":
        biases = {"b_x": b_ih, "b_h": b_hh}
    else:
        biases = {"b": b_ih}
    expected = {"W_x": tuple(W_ih.shape[::-1]), "W_h": tuple(W_hh.shape[::-1])}
    expected.update({k: (W_ih.shape[0],) for k in biases})
    if not isinstance(p, dict) or set(p) != set(expected):
        got = sorted(p) if isinstance(p, dict) else type(p).__name__
        raise ValueError(f"p must have exactly the keys {sorted(expected)}, got {got}")
    for key, shape in expected.items():
        if np.shape(p[key]) != shape:
            raise ValueError(f"p[{key!r}] must have shape {shape}, got {np.shape(p[key])}")
    if b_ih is None and any(np.any(p[k] != 0) for k in biases):
        raise ValueError("the module was built with bias=False but p has non-zero biases")

    def copy(target, value):
        target.copy_(torch.as_tensor(np.ascontiguousarray(value), dtype=target.dtype))

    with torch.no_grad():
        copy(W_ih, p["W_x"].T)
        copy(W_hh, p["W_h"].T)
        if b_ih is not None:
            if "b" in biases:
                copy(b_ih, p["b"])
                b_hh.zero_()
            else:
                copy(b_ih, p["b_x"])
                copy(b_hh, p["b_h"])
    return module
