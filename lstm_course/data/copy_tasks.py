"""The Neural Turing Machine's copy and repeat-copy tasks (Graves et al. 2014), as datasets.

Both show a sequence of random bit vectors, then ask for it back after a delimiter, while the
input is blank. The whole sequence has to be stored and replayed in order: a memory test that
grows with the length, which an LSTM's fixed-size state handles only up to a point and an
external memory (the NTM lecture) handles far beyond it. Generated in full at construction
from ``np.random.default_rng(seed)``, owned by the dataset.
"""

import numpy as np
import torch

from lstm_course.data._checks import check_int, check_seed
from lstm_course.data.samples import SampleDataset


class CopyTask(SampleDataset):
    """Copy: read L random bit vectors, then write them back in the same order.

    Layout of one sample with L vectors (T_L = 2L + 2 real steps):
        step 0           start marker (input channel n_bits)
        steps 1..L       the vectors (input channels 0..n_bits-1)
        step L + 1       end delimiter (input channel n_bits + 1)
        steps L+2..2L+1  blank input; the target is the copy (its last L steps)
    With ``min_len`` each sample draws L uniformly in [min_len, seq_len] and is padded with
    zeros at the end to T = 2 * seq_len + 2; ``length`` gives the real 2L + 2.

    Each sample is ``Sample(x, y, mask, length)``:
        x: (T, n_bits + 2) float32 in {0, 1}.
        y: (T, n_bits) float32 in {0, 1}, zero except the copy (for BCEWithLogitsLoss).
        mask: (T,) bool, True on the L copy steps only: the loss counts nowhere else.
        length: () int64, 2L + 2.

    Args:
        n_samples: N, how many sequences.
        seq_len: L, vectors per sequence (the maximum when min_len is given), >= 1.
        n_bits: bits per vector, >= 1.
        seed: seeds the dataset's own generator.
        min_len: None for fixed length L; else the shortest L, 1 <= min_len <= seq_len.
    Attributes:
        seq_lens: (N,) int64, L of each sample.
    """

    def __init__(self, n_samples, seq_len, n_bits=8, seed=0, min_len=None):
        N = check_int("n_samples", n_samples, minimum=1)
        L_max = check_int("seq_len", seq_len, minimum=1)
        n_bits = check_int("n_bits", n_bits, minimum=1)
        L_min = L_max if min_len is None else check_int("min_len", min_len, 1, L_max)
        rng = np.random.default_rng(check_seed(seed))
        L = rng.integers(L_min, L_max + 1, size=N, dtype=np.int64)  # (N,)
        bits = rng.integers(0, 2, size=(N, L_max, n_bits)).astype(np.float32)
        bits *= (np.arange(L_max) < L[:, None])[:, :, None]  # vectors past L are padding
        T = 2 * L_max + 2
        rows = np.arange(N)

        x = np.zeros((N, T, n_bits + 2), dtype=np.float32)
        x[:, 0, n_bits] = 1.0  # start marker
        x[:, 1 : L_max + 1, :n_bits] = bits
        x[rows, L + 1, n_bits + 1] = 1.0  # end delimiter: "now write"

        s = np.arange(T)[None, :] - (L[:, None] + 2)  # (N, T) index into the copy
        mask = (s >= 0) & (s < L[:, None])
        src = np.take_along_axis(bits, np.clip(s, 0, L_max - 1)[:, :, None], axis=1)
        y = src * mask[:, :, None]  # (N, T, n_bits)

        super().__init__(
            x=torch.from_numpy(x),
            y=torch.from_numpy(y.astype(np.float32)),
            mask=torch.from_numpy(mask),
            length=torch.from_numpy(2 * L + 2),
        )
        self.n_bits, self.seq_lens = n_bits, torch.from_numpy(L)


class RepeatCopyTask(SampleDataset):
    """Repeat copy: read L bit vectors and a repeat count n, write the sequence n times, then
    an end marker.

    Beyond copying, the network has to read a number, count its repeats and decide by itself
    when to stop (Graves et al. 2014, section 4.2): a small program with a loop.

    Layout of one sample with n repeats (T_n = L + 3 + n L real steps):
        step 0               start marker (input channel n_bits)
        steps 1..L           the vectors (input channels 0..n_bits-1)
        step L + 1           the repeat count on input channel n_bits + 1, normalised to
                             n / n_repeats_max in (0, 1]; it also serves as the delimiter
        steps L+2..L+1+nL    blank input; target the sequence n times
        step L + 2 + nL      target end marker (target channel n_bits)
    n is uniform in [1, n_repeats_max]; samples are zero-padded to
    T = L + 3 + n_repeats_max * L.

    Each sample is ``Sample(x, y, mask, length)``:
        x: (T, n_bits + 2) float32 in [0, 1].
        y: (T, n_bits + 1) float32 in {0, 1}: copies on channels 0..n_bits-1, end marker on n_bits.
        mask: (T,) bool, True on the n L copy steps and the end-marker step.
        length: () int64, L + 3 + n L.

    Args:
        n_samples: N.  seq_len: L >= 1.  n_repeats_max: >= 1.  n_bits: >= 1.
        seed: seeds the dataset's own generator.
    Attributes:
        repeats: (N,) int64, n of each sample.
    """

    def __init__(self, n_samples, seq_len, n_repeats_max, n_bits=8, seed=0):
        N = check_int("n_samples", n_samples, minimum=1)
        L = check_int("seq_len", seq_len, minimum=1)
        n_max = check_int("n_repeats_max", n_repeats_max, minimum=1)
        n_bits = check_int("n_bits", n_bits, minimum=1)
        rng = np.random.default_rng(check_seed(seed))
        n = rng.integers(1, n_max + 1, size=N, dtype=np.int64)  # (N,)
        bits = rng.integers(0, 2, size=(N, L, n_bits)).astype(np.float32)
        T = L + 3 + n_max * L

        x = np.zeros((N, T, n_bits + 2), dtype=np.float32)
        x[:, 0, n_bits] = 1.0  # start marker
        x[:, 1 : L + 1, :n_bits] = bits
        x[:, L + 1, n_bits + 1] = n / n_max  # how many copies, on its own channel

        s = np.arange(T)[None, :] - (L + 2)  # (N, T) steps since the output began
        copying = (s >= 0) & (s < n[:, None] * L)
        end = s == n[:, None] * L
        src = np.take_along_axis(bits, (np.clip(s, 0, None) % L)[:, :, None], axis=1)
        y = np.zeros((N, T, n_bits + 1), dtype=np.float32)
        y[:, :, :n_bits] = src * copying[:, :, None]
        y[:, :, n_bits] = end

        super().__init__(
            x=torch.from_numpy(x),
            y=torch.from_numpy(y),
            mask=torch.from_numpy(copying | end),
            length=torch.from_numpy(L + 3 + n * L),
        )
        self.n_bits, self.n_repeats_max, self.repeats = n_bits, n_max, torch.from_numpy(n)
