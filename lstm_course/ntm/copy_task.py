"""The copy task as the NTM lecture trains it: batches of one length each, the masked loss,
and bit errors per sequence (Graves et al. 2014, section 4.1; lecture 10).

Samples come from ``lstm_course.data.CopyTask`` (start marker, L random bit vectors, a
delimiter channel, then blank input while the target is the copy). Each batch here draws its
own length L, uniform in [min_len, max_len], so a batch has no padding: a model runs
T = 2L + 2 steps, not 2 max_len + 2.

    bits wrong in a sequence = sum over the L copy steps and the n_bits channels of
                               [ (y_hat > 0) != y ]                           (10.12)

y_hat are logits: a bit is predicted 1 when its probability sigmoid(y_hat) is above 1/2.
"""

import numpy as np
import torch
from torch.nn import functional

from lstm_course.data import CopyTask, Sample
from lstm_course.train import to_device

# Test batches are seeded from here on; training batches (seed * 1_000_003 + i) stay far below.
TEST_SEEDS = 10**12


def _check_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def copy_batch(B, L, n_bits=8, seed=0):
    """One time-major batch of B copy sequences of exactly L vectors.

    Returns:
        Sample(x (T, B, n_bits + 2), y (T, B, n_bits), mask (T, B), length (B,)), T = 2L + 2.
    """
    data = CopyTask(_check_int("B", B), _check_int("L", L), n_bits=n_bits, seed=seed)
    return Sample(
        data.x.transpose(0, 1).contiguous(),
        data.y.transpose(0, 1).contiguous(),
        data.mask.transpose(0, 1).contiguous(),
        data.length,
    )


class CopyBatches:
    """``n_batches`` seeded copy batches, built on demand: batch i always has the same length
    and bits, so a run is reproducible and ``fit`` can iterate it like a list.

    Args:
        n_batches: how many batches (fit's steps). batch_size: B.
        min_len, max_len: each batch's L is uniform in [min_len, max_len].
        n_bits: bits per vector. seed: draws the lengths and seeds every batch.
    Attributes:
        lengths: (n_batches,) int64, L of each batch.
    """

    def __init__(self, n_batches, batch_size=16, min_len=1, max_len=8, n_bits=8, seed=0):
        self.n_batches = _check_int("n_batches", n_batches)
        self.batch_size = _check_int("batch_size", batch_size)
        max_len = _check_int("max_len", max_len)
        min_len = _check_int("min_len", min_len)
        if min_len > max_len:
            raise ValueError(f"min_len must be <= max_len = {max_len}, got {min_len}")
        self.n_bits = _check_int("n_bits", n_bits)
        self.seed = _check_int("seed", seed, minimum=0)
        rng = np.random.default_rng([self.seed, 0])
        self.lengths = rng.integers(min_len, max_len + 1, size=self.n_batches)

    def __len__(self):
        return self.n_batches

    def __getitem__(self, i):
        if not 0 <= i < self.n_batches:
            raise IndexError(f"batch index {i} out of range [0, {self.n_batches})")
        # a seed per (run seed, batch): batches never repeat within or across runs' seeds
        seed = self.seed * 1_000_003 + i
        return copy_batch(self.batch_size, int(self.lengths[i]), self.n_bits, seed)

    def __iter__(self):
        return (self[i] for i in range(self.n_batches))


def bit_errors(y_hat, y, mask):
    """Eq. (10.12): wrong bits of each sequence, counted on the copy steps only.

    Args:
        y_hat: (T, B, n_bits) logits. y: (T, B, n_bits) targets in {0, 1}. mask: (T, B) bool.
    Returns:
        (B,) float tensor of bit errors per sequence.
    """
    if y_hat.shape != y.shape or tuple(mask.shape) != tuple(y.shape[:2]):
        raise ValueError(
            f"y_hat and y must have shape (T, B, n_bits) and mask (T, B); got "
            f"{tuple(y_hat.shape)}, {tuple(y.shape)}, {tuple(mask.shape)}"
        )
    wrong = ((y_hat > 0).to(y.dtype) != y) & mask.unsqueeze(2)  # (T, B, n_bits)
    return wrong.sum(dim=(0, 2)).to(y.dtype)


def copy_loss(model, batch):
    """``fit``'s loss: binary cross-entropy on the copy steps, mean over their bits.

    Args:
        model: maps x (T, B, D) to (y_hat (T, B, n_bits), state), as ``NTM`` and the course's
            ``SequenceModel(readout="all")`` do. batch: a ``Sample`` from ``copy_batch``.
    Returns:
        (loss, {"bit_errors": mean bit errors per sequence of this batch}).
    """
    y_hat, _ = model(batch.x)
    m = batch.mask  # (T, B)
    loss = functional.binary_cross_entropy_with_logits(y_hat[m], batch.y[m])
    return loss, {"bit_errors": bit_errors(y_hat.detach(), batch.y, m).mean()}


@torch.no_grad()
def errors_at_length(model, L, n_sequences=64, n_bits=8, seed=0, device=None):
    """Mean bit errors per sequence (10.12) of ``model`` on ``n_sequences`` copies of length L.

    Args:
        model: as for ``copy_loss``; evaluated in eval mode, restored after.
        device: where to put the batch (default: where the model's parameters are).
    Returns:
        a float.
    """
    device = device or next(model.parameters()).device
    batch = to_device(copy_batch(n_sequences, L, n_bits, seed), device)
    was_training = model.training
    model.eval()
    try:
        y_hat, _ = model(batch.x)
    finally:
        model.train(was_training)
    return bit_errors(y_hat, batch.y, batch.mask).mean().item()


def errors_by_length(model, lengths, n_sequences=64, n_bits=8, seed=0, device=None):
    """``errors_at_length`` for each L: {L: mean bit errors per sequence}. Every L gets its
    own test sequences, seeded apart from any training batch (``TEST_SEEDS``)."""
    _check_int("seed", seed, minimum=0)
    return {
        int(L): errors_at_length(model, int(L), n_sequences, n_bits, held_out_seed(seed, L), device)
        for L in lengths
    }


def held_out_seed(seed, L):
    """The seed of the test sequences of length L: disjoint from every training batch's."""
    return TEST_SEEDS + 1000 * int(seed) + int(L)
