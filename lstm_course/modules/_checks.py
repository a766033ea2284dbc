"""Argument checks shared by the recurrent modules and cells: every message names the
argument, the expected and the actual shape, in the course's letters (T, B, D, H)."""

import numbers

import torch


def _spell(letters, shape):
    """('T', 'B', 'D'), (6, 3, 4) -> '(T, B, D) = (6, 3, 4)'."""
    return f"({', '.join(letters)}) = {tuple(shape)}"


def check_constructor(input_size, hidden_size, num_layers=1, dropout=0.0, **flags):
    """The checks torch.nn.RNNBase makes in its constructor, with the argument named.

    Args:
        input_size, hidden_size, num_layers: positive ints.
        dropout: a number in [0, 1].
        flags: booleans such as bias=..., batch_first=..., bidirectional=...
    """
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    for name, value in [
        ("input_size", input_size),
        ("hidden_size", hidden_size),
        ("num_layers", num_layers),
    ]:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name} must be greater than zero, got {value}")
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
        raise ValueError(
            f"dropout must be a number in [0, 1] (the probability of zeroing an element), "
            f"got {dropout!r}"
        )


def check_tensor(name, x, dtype, where):
    """Raise TypeError unless x is a tensor of the parameters' dtype."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{where}: {name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype != dtype:
        raise TypeError(
            f"{where}: {name} has dtype {x.dtype} but the parameters have {dtype}; "
            f"convert one of them (x.to({dtype}) or module.to({x.dtype}))"
        )
    return x


def check_input(x, input_size, dtype, where, letters):
    """Check a batched or unbatched input and say which it is.

    Args:
        x: the input tensor.
        input_size: D, the expected size of the last dimension.
        dtype: the parameters' dtype.
        where: the module's name, used in messages.
        letters: the batched layout, e.g. ("T", "B", "D"); the unbatched one drops "B".
    Returns:
        True if x is batched (it has len(letters) dimensions), False if it is unbatched.
    """
    check_tensor("input", x, dtype, where)
    unbatched = tuple(a for a in letters if a != "B")
    if x.dim() not in (len(letters), len(unbatched)):
        raise ValueError(
            f"{where}: input must have {len(letters)} dimensions ({', '.join(letters)}) or "
            f"{len(unbatched)} for an unbatched input ({', '.join(unbatched)}), "
            f"got shape {tuple(x.shape)}"
        )
    if x.shape[-1] != input_size:
        raise ValueError(
            f"{where}: input must have D = input_size = {input_size} features in its last "
            f"dimension, got shape {tuple(x.shape)}"
        )
    return x.dim() == len(letters)


def check_state(name, x, shape, letters, dtype, where):
    """Raise unless state x is a tensor of the parameters' dtype with exactly this shape."""
    check_tensor(name, x, dtype, where)
    if tuple(x.shape) != tuple(shape):
        raise ValueError(
            f"{where}: {name} must have shape {_spell(letters, shape)}, got {tuple(x.shape)}"
        )
    return x


def check_lengths(lengths, B, T, where):
    """The length of every sequence in the batch, as a CPU int64 tensor of B values in [1, T].

    Args:
        lengths: a 1-D int tensor or a list of ints.
        B: the batch size. T: the padded length.
        where: the module's name, used in messages.
    """
    if isinstance(lengths, torch.Tensor):
        if (
            lengths.dtype.is_floating_point
            or lengths.dtype.is_complex
            or lengths.dtype == torch.bool
        ):
            raise TypeError(f"{where}: lengths must hold integers, got dtype {lengths.dtype}")
        lengths = lengths.detach().cpu()  # a few ints, read on the host as torch does
    elif isinstance(lengths, (list, tuple)):
        if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in lengths):
            raise TypeError(f"{where}: lengths must be a list of ints, got {lengths!r}")
        lengths = torch.tensor(lengths, dtype=torch.int64).reshape(-1)
    else:
        raise TypeError(
            f"{where}: lengths must be a 1-D int tensor or a list of ints, "
            f"got {type(lengths).__name__}"
        )
    if lengths.dim() != 1 or lengths.numel() != B:
        raise ValueError(
            f"{where}: lengths must have shape (B,) = ({B},), one length per sequence, "
            f"got shape {tuple(lengths.shape)}"
        )
    lengths = lengths.to(torch.int64)
    if B and (lengths.min() < 1 or lengths.max() > T):
        raise ValueError(
            f"{where}: every length must be in [1, T] = [1, {T}], got {lengths.tolist()}"
        )
    return lengths
