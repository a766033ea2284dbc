"""Variable-length batches: the step mask, and PackedSequence <-> padded tensor plus lengths.

A PackedSequence stores, time step by time step, only the sequences still running at that
step, longest first: data is (sum of the lengths, D) and batch_sizes[t] says how many rows
belong to step t. Read in time-major order, the True entries of the (T, B) mask
``t < length[b]`` (batch sorted longest first) are exactly those rows, so one boolean index
converts each way. We do it here rather than through torch's packing kernels so that the
modules see one format only: a padded (T, B, D) tensor and a mask.
"""

import torch
from torch.nn.utils.rnn import PackedSequence


def step_mask(lengths, T, device):
    """(T, B, 1) bool mask, True where step t is a real step of sequence b (t < lengths[b]).

    Args:
        lengths: (B,) int tensor (any device). T: the padded length. device: where to build it.
    """
    steps = torch.arange(T, device=device).unsqueeze(1)  # (T, 1)
    return (steps < lengths.to(device).unsqueeze(0)).unsqueeze(2)  # (T, B, 1)


def _sorted_lengths(batch_sizes):
    """(B,) lengths of the sorted (longest first) sequences of a PackedSequence."""
    B = int(batch_sizes[0])
    return (batch_sizes.unsqueeze(0) > torch.arange(B).unsqueeze(1)).sum(dim=1)  # (B,)


def unpack(packed):
    """A PackedSequence as a zero-padded time-major tensor, in the caller's batch order.

    Args:
        packed: PackedSequence whose data is (N, D), N the sum of the lengths.
    Returns:
        padded: (T, B, D) with zeros after each sequence's end; lengths: (B,) CPU int64.
    """
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    lengths = _sorted_lengths(batch_sizes)
    T, B = len(batch_sizes), len(lengths)
    mask = step_mask(lengths, T, data.device).squeeze(2)  # (T, B) in sorted order
    padded = data.new_zeros((T, B) + tuple(data.shape[1:]))
    padded = padded.index_put((mask,), data)  # out of place, so the gradient reaches data
    if unsorted_indices is not None:  # back to the order the caller's hx and h_n use
        padded = padded.index_select(1, unsorted_indices)
        lengths = lengths[unsorted_indices.cpu()]
    return padded, lengths


def pack_like(padded, packed):
    """Pack a (T, B, H) tensor in the caller's batch order the way ``packed`` is packed.

    Returns:
        a PackedSequence with packed's batch_sizes, sorted_indices and unsorted_indices.
    """
    _, batch_sizes, sorted_indices, unsorted_indices = packed
    if sorted_indices is not None:
        padded = padded.index_select(1, sorted_indices)
    mask = step_mask(_sorted_lengths(batch_sizes), len(batch_sizes), padded.device).squeeze(2)
    return PackedSequence(padded[mask], batch_sizes, sorted_indices, unsorted_indices)
