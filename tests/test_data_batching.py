"""Time-major collation, seeded loaders and the truncated-BPTT stream."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lstm_course.data import (
    AddingProblem,
    BinaryAddition,
    CopyTask,
    Sample,
    make_loader,
    stream_batches,
    time_major_collate,
)

ROOT = Path(__file__).resolve().parents[1]


def test_collate_stacks_time_major_and_keeps_the_sample_type():
    ds = CopyTask(5, 3, n_bits=4, seed=0)
    batch = time_major_collate([ds[i] for i in range(5)])
    assert isinstance(batch, Sample)
    assert batch.x.shape == (8, 5, 6) and batch.y.shape == (8, 5, 4)
    assert batch.mask.shape == (8, 5) and batch.length.shape == (5,)
    assert torch.equal(batch.x[:, 2], ds[2].x)  # column b is sample b


def test_collate_stacks_per_sequence_targets_batch_first():
    ds = AddingProblem(4, 10, seed=0)
    batch = time_major_collate([ds[i] for i in range(4)])
    assert batch.x.shape == (10, 4, 2) and batch.y.shape == (4, 1)
    assert batch.mask.shape == (10, 4) and batch.length.tolist() == [10] * 4
    ds = BinaryAddition(3, n_bits=5)
    assert time_major_collate([ds[i] for i in range(3)]).y.shape == (6, 3)  # per-step target


def test_collate_plain_tensors_tuples_and_errors():
    assert time_major_collate([torch.zeros(7, 2)] * 3).shape == (7, 3, 2)
    x, label = time_major_collate([(torch.zeros(7), 1), (torch.ones(7), 0)])
    assert x.shape == (7, 2) and label.tolist() == [1, 0]
    with pytest.raises(ValueError, match="batch must hold at least one sample"):
        time_major_collate([])
    with pytest.raises(ValueError, match="field x has different shapes across the batch"):
        short, long = (Sample(torch.zeros(T, 1), *[torch.zeros(1)] * 3) for T in (3, 4))
        time_major_collate([short, long])
    with pytest.raises(TypeError, match="samples must be tensors or tuples"):
        time_major_collate([{"x": torch.zeros(2)}])


def test_loader_batches_are_time_major_and_depend_only_on_the_seed():
    ds = CopyTask(23, 4, n_bits=3, seed=0, min_len=1)

    def batches(seed, global_seed):
        torch.manual_seed(global_seed)  # the global generator must not matter
        return [b for _ in range(2) for b in make_loader(ds, 5, seed=seed)]

    a, b, c = batches(0, global_seed=1), batches(0, global_seed=2), batches(1, global_seed=1)
    assert len(a) == 10 and a[0].x.shape == (10, 5, 5) and a[-1].x.shape == (10, 3, 5)
    for ba, bb in zip(a, b, strict=True):
        assert all(torch.equal(fa, fb) for fa, fb in zip(ba, bb, strict=True))
    assert not torch.equal(a[0].x, c[0].x)
    loader = make_loader(ds, 5, seed=0)
    first, second = next(iter(loader)), next(iter(loader))
    assert not torch.equal(first.x, second.x)  # each epoch is shuffled anew
    ordered = next(iter(make_loader(ds, 4, shuffle=False)))
    assert torch.equal(ordered.x, torch.stack([ds[i].x for i in range(4)], dim=1))
    assert len(make_loader(ds, 5, drop_last=True)) == 4


def test_loader_rejects_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        make_loader(AddingProblem(4, 4), 0)


def test_stream_batches_continue_each_column_across_windows():
    ids = torch.arange(103)
    B, T = 4, 6
    windows = list(stream_batches(ids, B, T))
    n = 103 // B  # 25 per track, 24 (x, y) pairs per track
    assert len(windows) == -(-(n - 1) // T)
    for x, y in windows:
        assert x.dtype == y.dtype == torch.int64 and x.shape[1] == B
        assert torch.equal(y, x + 1)  # y is the next token of the same track
    for (x0, y0), (x1, _) in zip(windows, windows[1:], strict=False):
        assert torch.equal(x1[0], y0[-1])  # window k+1 row 0 continues window k's last step
        assert torch.equal(x1[0], x0[-1] + 1)
    track = torch.cat([x for x, _ in windows])  # (n - 1, B)
    assert torch.equal(track[:, 2], torch.arange(2 * n, 3 * n - 1))  # column b = track b


def test_stream_batches_last_window_is_shorter_and_arguments_are_checked():
    *_, (x, y) = stream_batches(torch.arange(22), 2, 4)  # 11 per track, 10 pairs
    assert x.shape == y.shape == (2, 2)
    with pytest.raises(ValueError, match="ids must hold at least 2 \\* batch_size = 8"):
        stream_batches(torch.arange(7), 4, 3)
    with pytest.raises(TypeError, match="ids must hold integer token ids"):
        stream_batches(torch.zeros(10), 2, 3)
    with pytest.raises(ValueError, match="seq_len must be an int >= 1, got 0"):
        stream_batches(torch.arange(10), 2, 0)


def test_importing_the_data_package_has_no_side_effects(tmp_path):
    code = """
import random, sys
import numpy as np
import torch
np_state, py_state, torch_seed = np.random.get_state()[1].copy(), random.getstate(), \
    torch.initial_seed()
torch_state = torch.get_rng_state()
import lstm_course.data as data
assert (np.random.get_state()[1] == np_state).all(), "NumPy's global generator was touched"
assert random.getstate() == py_state, "Python's generator was touched"
assert torch.initial_seed() == torch_seed and torch.equal(torch.get_rng_state(), torch_state)
assert data.stdlib_docstring_corpus.cache_info().currsize == 0, "the corpus was built"
"""
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "", "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
    assert not list(tmp_path.iterdir()), "importing wrote to the cache folder"
