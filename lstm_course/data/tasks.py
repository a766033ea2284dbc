"""Synthetic memory tasks with a known answer: the adding problem and binary addition.

Both are generated in full at construction from a seed (NumPy's ``default_rng(seed)``, owned
by the dataset), so the same seed gives the same samples on every machine.
"""

import numpy as np
import torch

from lstm_course.data._checks import check_int, check_seed
from lstm_course.data.samples import SampleDataset


class AddingProblem(SampleDataset):
    """The adding problem: add the two numbers that are marked, remember them across T steps.

    Hochreiter & Schmidhuber (1997), in the form of Le et al. (2015). Each step shows a random
    number and a marker bit; exactly two steps are marked, one in the first half of the
    sequence (t < T // 2) and one in the second (t >= T // 2). The target, read after the last
    step, is the sum of the two marked numbers. The first marked value must be kept for about
    T / 2 steps while ignoring everything else: the course's test of long-range memory, where a
    tanh RNN stalls at the baseline below (vanishing gradients) and an LSTM solves it.

    Baseline: always answering 1.0 (the mean target) gives MSE = Var(u1 + u2) = 2/12 = 1/6
    ~= 0.167 for u1, u2 ~ U[0, 1); ``AddingProblem.baseline_mse`` (a class attribute) holds it.
    A model has learned something only when its MSE falls well below that.

    Each sample is ``Sample(x, y, mask, length)``:
        x: (T, 2) float32; channel 0 the numbers, uniform in [0, 1); channel 1 the markers,
            0 or 1, exactly two 1s.
        y: (1,) float32 in [0, 2), the sum of the two marked numbers.
        mask: (T,) bool, True only at the last step (where the answer is read).
        length: () int64, T.

    Args:
        n_samples: N, how many sequences.
        T: sequence length, at least 2 (one marker per half).
        seed: seeds the dataset's own generator.
    Attributes:
        positions: (N, 2) int64, the two marked steps (first half, second half).
    """

    baseline_mse = 1.0 / 6.0

    def __init__(self, n_samples, T, seed=0):
        N = check_int("n_samples", n_samples, minimum=1)
        T = check_int("T", T, minimum=2)
        rng = np.random.default_rng(check_seed(seed))
        values = rng.random((N, T), dtype=np.float32)  # (N, T)
        first = rng.integers(0, T // 2, size=N)  # (N,) in the first half
        second = rng.integers(T // 2, T, size=N)  # (N,) in the second half
        rows = np.arange(N)
        markers = np.zeros((N, T), dtype=np.float32)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        y = values[rows, first] + values[rows, second]  # (N,) float32, as the model sees x
        mask = np.zeros((N, T), dtype=bool)
        mask[:, -1] = True
        super().__init__(
            x=torch.from_numpy(np.stack([values, markers], axis=-1)),  # (N, T, 2)
            y=torch.from_numpy(y[:, None]),  # (N, 1)
            mask=torch.from_numpy(mask),
            length=torch.full((N,), T, dtype=torch.int64),
        )
        self.T = T
        self.positions = torch.from_numpy(np.stack([first, second], axis=1).astype(np.int64))


def int_to_bits(values, n_bits):
    """Binary digits of non-negative integers, least significant bit first.

    Args:
        values: (...) non-negative integers (tensor, array, list or int), each < 2**n_bits.
        n_bits: how many bits to write, 1 to 63 (int64 holds them).
    Returns:
        (..., n_bits) float32 tensor of 0.0 / 1.0; [..., i] is the bit of 2**i.
    """
    n_bits = check_int("n_bits", n_bits, minimum=1, maximum=63)
    values = torch.as_tensor(values, dtype=torch.int64)
    if (values < 0).any() or (values >> n_bits).any():
        raise ValueError(f"values must lie in [0, 2**{n_bits}) to fit in n_bits = {n_bits} bits")
    shifts = torch.arange(n_bits, dtype=torch.int64)
    return ((values.unsqueeze(-1) >> shifts) & 1).to(torch.float32)


def bits_to_int(bits, dim=-1):
    """Decode bits, least significant first, to integers: the inverse of ``int_to_bits``.

    Bits are thresholded at 0.5, so probabilities (sigmoid outputs) decode as predictions.

    Args:
        bits: (..., n) along ``dim`` (n <= 63), float or integer.
        dim: the bit axis; use ``dim=0`` for a time-major batch (n_bits + 1, B).
    Returns:
        int64 tensor with ``dim`` removed, e.g. (B,).
    """
    bits = torch.as_tensor(bits)
    n = bits.shape[dim]
    if n > 63:
        raise ValueError(f"bits must have at most 63 bits along dim {dim}, got {n}")
    ones = (bits > 0.5).to(torch.int64).movedim(dim, -1)  # (..., n)
    return (ones << torch.arange(n, dtype=torch.int64)).sum(-1)


class BinaryAddition(SampleDataset):
    """Binary addition, one bit per step, least significant bit first (the slides' example).

    At step t the network sees bit t of a and of b and outputs bit t of a + b. The only thing
    it must remember is the carry: one bit, kept for one step. A small RNN learns this state
    machine exactly, which makes the example a clean first look at what a hidden state is for.
    LSB first because the carry flows from low to high bits, i.e. forward in time; one extra
    step with zero inputs emits the final carry.

    Each sample is ``Sample(x, y, mask, length)``, with T = n_bits + 1:
        x: (T, 2) float32 in {0, 1}; x[t, 0] bit t of a, x[t, 1] bit t of b (0 at t = n_bits).
        y: (T,) float32 in {0, 1}, the bits of a + b (float, for BCEWithLogitsLoss).
        mask: (T,) bool, all True.
        length: () int64, T.
    ``bits_to_int(sample.y)`` decodes the sum; for a batch y (T, B) use ``bits_to_int(y, dim=0)``.

    Args:
        n_samples: N, how many additions.
        n_bits: bits per operand, 1 to 62; a and b are uniform in [0, 2**n_bits).
        seed: seeds the dataset's own generator.
    Attributes:
        a, b: (N,) int64, the operands.
    """

    def __init__(self, n_samples, n_bits=8, seed=0):
        N = check_int("n_samples", n_samples, minimum=1)
        n_bits = check_int("n_bits", n_bits, minimum=1, maximum=62)
        rng = np.random.default_rng(check_seed(seed))
        a = torch.from_numpy(rng.integers(0, 2**n_bits, size=N, dtype=np.int64))
        b = torch.from_numpy(rng.integers(0, 2**n_bits, size=N, dtype=np.int64))
        T = n_bits + 1
        super().__init__(
            # n_bits + 1 bits per operand: the top one is always 0 (the final-carry step)
            x=torch.stack([int_to_bits(a, T), int_to_bits(b, T)], dim=-1),  # (N, T, 2)
            y=int_to_bits(a + b, T),  # (N, T)
            mask=torch.ones(N, T, dtype=torch.bool),
            length=torch.full((N,), T, dtype=torch.int64),
        )
        self.n_bits, self.a, self.b = n_bits, a, b
