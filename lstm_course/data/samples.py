"""The one sample format every course dataset returns: ``Sample(x, y, mask, length)``."""

from typing import NamedTuple

import torch
from torch.utils.data import Dataset


class Sample(NamedTuple):
    """One sequence and its targets. Every dataset in ``lstm_course.data`` returns this.

    Fields (per sample; ``time_major_collate`` adds the batch axis B after T):
        x: (T, D) float32 inputs, or (T,) int64 token ids for text.
        y: the targets: per step (T, ...) when every step can be scored, or per sequence
            (K,) when only the end is (the adding problem: y is (1,)).
        mask: (T,) bool, True at the steps whose output the loss reads. For per-step targets
            use ``out[mask]`` against ``y[mask]``; the adding problem marks only the last step.
        length: () int64, the number of real steps before padding (T when nothing is padded),
            e.g. for ``torch.nn.utils.rnn.pack_padded_sequence``.

    A NamedTuple, so ``x, y, mask, length = sample`` and ``sample.x`` both work.
    """

    x: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor
    length: torch.Tensor


class SampleDataset(Dataset):
    """Samples generated up front and stored sample-major; served one at a time as ``Sample``.

    Storage is sample-major (N samples first) because a DataLoader picks samples, not steps;
    ``time_major_collate`` then builds the time-major (T, B, ...) batches the models read.

    Attributes:
        x: (N, T, ...) inputs.  y: (N, ...) targets.  mask: (N, T) bool.  length: (N,) int64.
    """

    def __init__(self, x, y, mask, length):
        n = x.shape[0]
        for name, t in (("y", y), ("mask", mask), ("length", length)):
            if t.shape[0] != n:
                raise ValueError(f"{name} holds {t.shape[0]} samples but x holds {n}")
        self.x, self.y, self.mask, self.length = x, y, mask, length

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, i):
        return Sample(self.x[i], self.y[i], self.mask[i], self.length[i])

    def __repr__(self):
        return (
            f"{type(self).__name__}(N={len(self)}, x {tuple(self.x.shape[1:])}, "
            f"y {tuple(self.y.shape[1:])})"
        )
