"""The memory tasks: determinism, documented shapes and ranges, and each task's own truth."""

import numpy as np
import pytest
import torch

from lstm_course.data import (
    AddingProblem,
    BinaryAddition,
    CopyTask,
    RepeatCopyTask,
    Sample,
    bits_to_int,
    int_to_bits,
)

FACTORIES = {
    "adding": lambda seed: AddingProblem(20, 12, seed=seed),
    "copy": lambda seed: CopyTask(20, 5, n_bits=4, seed=seed),
    "copy_var": lambda seed: CopyTask(20, 6, n_bits=3, seed=seed, min_len=2),
    "repeat": lambda seed: RepeatCopyTask(20, 3, 4, n_bits=4, seed=seed),
    "binary": lambda seed: BinaryAddition(20, n_bits=6, seed=seed),
}


def _fields(ds):
    return [torch.stack([s[k] for s in ds]) for k in range(4)]


@pytest.mark.parametrize("name", FACTORIES)
def test_same_seed_same_data_other_seed_other_data(name):
    a, b, c = FACTORIES[name](3), FACTORIES[name](3), FACTORIES[name](4)
    for fa, fb in zip(_fields(a), _fields(b), strict=True):
        assert torch.equal(fa, fb)
    assert not torch.equal(_fields(a)[0], _fields(c)[0])


@pytest.mark.parametrize("name", FACTORIES)
def test_global_rng_is_neither_used_nor_touched(name):
    # The legacy global NumPy generator is exactly what must stay untouched.
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    torch_state = torch.get_rng_state()
    x = _fields(FACTORIES[name](0))[0]
    assert (np.random.get_state()[1] == np_state).all()  # noqa: NPY002
    assert torch.equal(torch.get_rng_state(), torch_state)
    torch.manual_seed(123)  # reseeding globally must not change the data
    assert torch.equal(_fields(FACTORIES[name](0))[0], x)


def test_adding_problem_shapes_ranges_and_markers():
    ds = AddingProblem(500, 15, seed=1)
    s = ds[0]
    assert isinstance(s, Sample) and len(ds) == 500
    assert s.x.shape == (15, 2) and s.x.dtype == torch.float32
    assert s.y.shape == (1,) and s.y.dtype == torch.float32
    assert s.mask.shape == (15,) and s.mask.dtype == torch.bool
    assert s.mask.tolist() == [False] * 14 + [True] and int(s.length) == 15
    values, markers = ds.x[..., 0], ds.x[..., 1]
    assert values.min() >= 0 and values.max() < 1
    assert set(markers.unique().tolist()) == {0.0, 1.0}
    assert (markers.sum(1) == 2).all()
    half = 15 // 2
    assert (markers[:, :half].sum(1) == 1).all() and (markers[:, half:].sum(1) == 1).all()
    marked_sum = (values * markers).sum(1, keepdim=True)
    torch.testing.assert_close(ds.y, marked_sum)
    assert ((ds.y >= 0) & (ds.y < 2)).all()
    assert (ds.positions[:, 0] < half).all() and (ds.positions[:, 1] >= half).all()


def test_adding_problem_with_two_steps_marks_both():
    ds = AddingProblem(10, 2, seed=0)
    assert (ds.x[..., 1] == 1).all()


def test_adding_problem_baseline_mse_is_one_sixth_empirically():
    ds = AddingProblem(20000, 4, seed=2)
    assert AddingProblem.baseline_mse == pytest.approx(1 / 6)
    mse = ((ds.y - 1.0) ** 2).mean().item()
    assert mse == pytest.approx(AddingProblem.baseline_mse, abs=0.006)


def test_copy_task_fixed_length_target_is_the_input_bits():
    L, n_bits = 5, 4
    ds = CopyTask(50, L, n_bits=n_bits, seed=0)
    s = ds[7]
    T = 2 * L + 2
    assert s.x.shape == (T, n_bits + 2) and s.x.dtype == torch.float32
    assert s.y.shape == (T, n_bits) and s.y.dtype == torch.float32
    assert s.mask.shape == (T,) and s.mask.dtype == torch.bool and int(s.length) == T
    assert set(ds.x.unique().tolist()) <= {0.0, 1.0} and set(ds.y.unique().tolist()) <= {0, 1}
    assert torch.equal(ds.y[:, L + 2 :], ds.x[:, 1 : L + 1, :n_bits])  # the copy, last L steps
    assert not ds.y[:, : L + 2].any()
    assert (ds.mask[:, L + 2 :]).all() and not ds.mask[:, : L + 2].any()
    assert (ds.x[:, 0, n_bits] == 1).all() and (ds.x[:, L + 1, n_bits + 1] == 1).all()
    assert ds.x[:, L + 1 :, :n_bits].sum() == 0  # blank while the copy is written


def test_copy_task_variable_length_pads_and_reports_length():
    ds = CopyTask(200, 6, n_bits=3, seed=5, min_len=2)
    assert ds.x.shape == (200, 14, 5)
    assert set(ds.seq_lens.tolist()) == {2, 3, 4, 5, 6}
    assert torch.equal(ds.length, 2 * ds.seq_lens + 2)
    for i in range(len(ds)):
        x, y, mask, length = ds[i]
        L = int(ds.seq_lens[i])
        assert torch.equal(y[L + 2 : 2 * L + 2], x[1 : L + 1, :3])
        assert mask.sum() == L and mask[L + 2 : 2 * L + 2].all()
        assert x[L + 1, 4] == 1 and x[:, 4].sum() == 1
        assert not x[int(length) :].any() and not y[int(length) :].any()  # zero padding


def test_repeat_copy_repeats_the_sequence_and_ends_with_a_marker():
    L, n_max, n_bits = 3, 4, 4
    ds = RepeatCopyTask(100, L, n_max, n_bits=n_bits, seed=0)
    T = L + 3 + n_max * L
    assert ds.x.shape == (100, T, n_bits + 2) and ds.y.shape == (100, T, n_bits + 1)
    assert set(ds.repeats.tolist()) == set(range(1, n_max + 1))
    for i in range(len(ds)):
        x, y, mask, length = ds[i]
        n = int(ds.repeats[i])
        assert int(length) == L + 3 + n * L
        assert x[L + 1, n_bits + 1] == pytest.approx(n / n_max)
        seq = x[1 : L + 1, :n_bits]
        assert torch.equal(y[L + 2 : L + 2 + n * L, :n_bits], seq.repeat(n, 1))
        assert y[:, n_bits].nonzero().flatten().tolist() == [L + 2 + n * L]
        assert mask.nonzero().flatten().tolist() == list(range(L + 2, L + 3 + n * L))
    assert ds.x.min() >= 0 and ds.x.max() <= 1


def test_binary_addition_decodes_to_the_sum():
    ds = BinaryAddition(300, n_bits=7, seed=0)
    s = ds[0]
    assert s.x.shape == (8, 2) and s.y.shape == (8,) and s.x.dtype == s.y.dtype == torch.float32
    assert s.mask.all() and int(s.length) == 8
    assert set(ds.x.unique().tolist()) <= {0.0, 1.0} and set(ds.y.unique().tolist()) <= {0, 1}
    assert torch.equal(bits_to_int(ds.x[..., 0]), ds.a)
    assert torch.equal(bits_to_int(ds.x[..., 1]), ds.b)
    assert torch.equal(bits_to_int(ds.y), ds.a + ds.b)
    assert torch.equal(bits_to_int(ds.y.T, dim=0), ds.a + ds.b)  # time-major (T, B)
    assert (ds.a < 2**7).all() and (ds.b < 2**7).all() and (ds.a + ds.b >= 2**7).any()
    assert not ds.x[:, -1].any()  # the final-carry step has no input


def test_bits_helpers_round_trip_lsb_first():
    assert int_to_bits(6, 4).tolist() == [0.0, 1.0, 1.0, 0.0]
    values = torch.tensor([[0, 1], [2**40 + 3, 2**63 - 1]])
    assert torch.equal(bits_to_int(int_to_bits(values, 63)), values)
    assert bits_to_int(torch.tensor([0.9, 0.2, 0.6])).item() == 5  # thresholded at 0.5


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: AddingProblem(10, 1), "T must be an int >= 2, got 1"),
        (lambda: AddingProblem(0, 5), "n_samples must be an int >= 1, got 0"),
        (lambda: AddingProblem(10, 5, seed=-1), "seed must be an int >= 0, got -1"),
        (lambda: CopyTask(10, 0), "seq_len must be an int >= 1, got 0"),
        (lambda: CopyTask(10, 4, n_bits=0), "n_bits must be an int >= 1, got 0"),
        (lambda: CopyTask(10, 4, min_len=5), "min_len must be an int <= 4, got 5"),
        (lambda: RepeatCopyTask(10, 3, 0), "n_repeats_max must be an int >= 1, got 0"),
        (lambda: BinaryAddition(10, n_bits=0), "n_bits must be an int >= 1, got 0"),
        (lambda: BinaryAddition(10, n_bits=63), "n_bits must be an int <= 62, got 63"),
        (lambda: int_to_bits(16, 4), r"values must lie in \[0, 2\*\*4\)"),
    ],
)
def test_bad_arguments_are_named_in_the_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_non_integer_arguments_are_type_errors():
    with pytest.raises(TypeError, match="T must be an int, got float 10.0"):
        AddingProblem(5, 10.0)
    with pytest.raises(TypeError, match="n_bits must be an int, got bool"):
        CopyTask(5, 3, n_bits=True)
