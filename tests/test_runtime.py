"""set_seed makes every generator repeat; device() prefers CUDA, then MPS, then the CPU."""

import random

import numpy as np
import pytest
import torch

import lstm_course
from lstm_course.scratch.torch_params import params_from_torch


def _draw():
    return random.random(), np.random.rand(3).tolist()  # noqa: NPY002 (set_seed seeds the global one), torch.rand(3).tolist()


def test_set_seed_repeats_python_numpy_and_torch():
    lstm_course.set_seed(7)
    first = _draw()
    lstm_course.set_seed(7)
    assert _draw() == first
    lstm_course.set_seed(8)
    second = _draw()
    for a, b in zip(first, second, strict=True):
        assert a != b


@pytest.mark.parametrize(
    "bad,error",
    [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), ("3", TypeError), (True, TypeError)],
)
def test_set_seed_rejects_bad_seeds(bad, error):
    with pytest.raises(error, match="seed must"):
        lstm_course.set_seed(bad)


@pytest.mark.parametrize(
    "cuda,mps,expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")]
)
def test_device_preference(cuda, mps, expected, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert lstm_course.device() == torch.device(expected)


def test_device_is_usable():
    x = torch.ones(2, device=lstm_course.device())
    assert x.sum().item() == 2.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_params_from_a_cuda_module():
    module = torch.nn.LSTM(3, 4).double().to("cuda")
    p = params_from_torch(module)
    assert isinstance(p["W_x"], np.ndarray) and p["W_x"].shape == (3, 16)
