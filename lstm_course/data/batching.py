"""Batches for recurrent models: time-major collation, seeded loaders, and the TBPTT stream.

Datasets return one ``Sample`` per sequence with time first, (T, ...). The models read
(T, B, ...), so the collate function stacks samples along a new axis 1, not axis 0 as
PyTorch's default collate would.
"""

import numbers

import torch
from torch.utils.data import DataLoader

from lstm_course.data._checks import check_ids, check_int


def _stack_field(name, values, T):
    """Stack one field of every sample: on axis 1 if it has the time axis T, else on axis 0."""
    first = values[0]
    if first is None:
        if any(v is not None for v in values):
            raise ValueError(f"field {name} is None in some samples and not in others")
        return None
    if isinstance(first, numbers.Number):
        return torch.tensor(values)
    if not isinstance(first, torch.Tensor):
        raise TypeError(f"field {name} must be a tensor or a number, got {type(first).__name__}")
    shapes = {tuple(v.shape) for v in values}
    if len(shapes) > 1:
        raise ValueError(
            f"field {name} has different shapes across the batch: {sorted(shapes)}; "
            "pad every sample to a common T when the dataset is built"
        )
    time_major = first.ndim >= 1 and first.shape[0] == T
    return torch.stack(values, dim=1 if time_major else 0)


def time_major_collate(batch):
    """Stack per-sample sequences (T, ...) into a time-major batch (T, B, ...).

    A sample is a tensor or a tuple (``Sample`` or any NamedTuple keeps its type). The first
    field is the input x, whose first axis is time. Every other field whose first axis has that
    same length T is stacked time-major too; the rest (per-sequence targets such as the adding
    problem's (1,), lengths ()) stack batch-first.

    Args:
        batch: a list of B samples, e.g. ``Sample(x (T, D), y (T, K), mask (T,), length ())``.
    Returns:
        the same structure batched, e.g. ``Sample(x (T, B, D), y (T, B, K), mask (T, B),
        length (B,))``; the adding problem's y (1,) becomes (B, 1).
    """
    if len(batch) == 0:
        raise ValueError("batch must hold at least one sample, got an empty list")
    first = batch[0]
    if isinstance(first, torch.Tensor):
        return _stack_field("x", list(batch), first.shape[0] if first.ndim else None)
    if not isinstance(first, tuple):
        raise TypeError(
            f"samples must be tensors or tuples such as Sample, got {type(first).__name__}"
        )
    x = first[0]
    if not isinstance(x, torch.Tensor) or x.ndim < 1:
        raise TypeError("the first field of a sample must be the input x, a tensor (T, ...)")
    names = getattr(first, "_fields", None) or [f"#{k}" for k in range(len(first))]
    fields = [
        _stack_field(name, [sample[k] for sample in batch], x.shape[0])
        for k, name in enumerate(names)
    ]
    return type(first)(*fields) if hasattr(first, "_fields") else tuple(fields)


def make_loader(dataset, batch_size, shuffle=True, seed=0, drop_last=False):
    """A DataLoader of time-major batches whose order depends only on ``seed``.

    The loader owns its ``torch.Generator``, so two loaders built with the same seed give the
    same batches, epoch after epoch, whatever else touched the global RNG. Successive epochs
    of one loader are shuffled differently, as they should be.

    Args:
        dataset: any map-style dataset of ``Sample`` (or tensors / tuples, see the collate).
        batch_size: B, samples per batch.
        shuffle: reshuffle every epoch (True for training, False for evaluation).
        seed: seeds the loader's own generator.
        drop_last: drop the final batch when it holds fewer than B samples.
    Returns:
        a ``torch.utils.data.DataLoader`` yielding e.g. ``Sample(x (T, B, D), ...)``.
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        collate_fn=time_major_collate,
        generator=generator,
    )


def stream_batches(ids, batch_size, seq_len):
    """Contiguous (T, B) windows over one long token stream, for truncated BPTT.

    The stream is cut into B equal tracks (track b is ``ids[b*n:(b+1)*n]``, n = len // B; the
    remainder is dropped) laid side by side as columns, then read T steps at a time. Column b
    of window k+1 starts exactly where column b of window k stopped, so the hidden state at
    the end of one window is the right initial state for the next: carry it over (detached),
    and every step sees all the text before it in its track, although gradients only flow back
    T steps. Shuffled independent windows would make that carried state meaningless.

    Args:
        ids: (N,) integer token ids, the whole text encoded.
        batch_size: B, the number of parallel tracks.
        seq_len: T, steps per window (the truncation length).
    Returns:
        an iterator of ``(x, y)`` pairs, both (T, B) int64 with y[t] = the token after x[t];
        ceil((n - 1) / T) windows, the last one shorter when T does not divide n - 1.
    """
    ids = check_ids("ids", ids)
    B = check_int("batch_size", batch_size, minimum=1)
    T = check_int("seq_len", seq_len, minimum=1)
    n = ids.shape[0] // B
    if n < 2:
        raise ValueError(
            f"ids must hold at least 2 * batch_size = {2 * B} tokens (two per track), "
            f"got {ids.shape[0]}"
        )
    # Validation above runs at call time; only the iteration is lazy.
    tracks = ids[: n * B].reshape(B, n).t().long()  # (n, B) column b = track b

    def windows():
        for start in range(0, n - 1, T):
            stop = min(start + T, n - 1)
            yield tracks[start:stop], tracks[start + 1 : stop + 1]

    return windows()
