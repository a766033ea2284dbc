"""Time series: next-step targets, determinism, the sine recurrence and the AR(p) floor."""

import math

import numpy as np
import pytest
import torch

from lstm_course.data import ARProcess, SineWaves, ar_optimal_mse


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: SineWaves(8, 30, seed=seed, noise_std=0.05),
        lambda seed: ARProcess(8, 30, coeffs=(0.5, 0.2, -0.1), seed=seed),
    ],
    ids=["sine", "ar"],
)
def test_deterministic_shapes_and_next_step_targets(make):
    a, b, c = make(1), make(1), make(2)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, c.x)
    x, y, mask, length = a[3]
    assert x.shape == y.shape == (30, 1) and x.dtype == y.dtype == torch.float32
    assert mask.shape == (30,) and mask.dtype == torch.bool and mask.all()
    assert int(length) == 30
    assert torch.equal(a.x[:, 1:], a.y[:, :-1])  # y is x shifted by one step


def test_sine_waves_follow_the_two_step_recurrence_without_noise():
    ds = SineWaves(50, 40, seed=0, freq_range=(0.02, 0.2), amplitude_range=(0.5, 1.5))
    assert ((ds.freq >= 0.02) & (ds.freq <= 0.2)).all()
    assert ((ds.amplitude >= 0.5) & (ds.amplitude <= 1.5)).all()
    assert (ds.x.abs().squeeze(-1).amax(1) <= ds.amplitude.float() + 1e-6).all()
    x, y = ds.x[..., 0].double(), ds.y[..., 0].double()
    two_cos = 2 * torch.cos(2 * math.pi * ds.freq)[:, None]
    predicted = two_cos * x[:, 1:] - x[:, :-1]  # s_{t+1} = 2 cos(w) s_t - s_{t-1}
    torch.testing.assert_close(predicted, y[:, 1:], atol=1e-5, rtol=0)


def test_sine_noise_has_the_requested_std():
    clean = SineWaves(20, 400, seed=3)
    noisy = SineWaves(20, 400, seed=3, noise_std=0.2)
    assert (noisy.x - clean.x).std().item() == pytest.approx(0.2, rel=0.05)


def test_ar_optimal_predictor_reaches_the_noise_variance():
    ds = ARProcess(400, 200, coeffs=(0.6, -0.3), noise_std=0.5, seed=0)
    assert ds.optimal_mse == ar_optimal_mse(0.5) == pytest.approx(0.25)
    x, y = ds.x.transpose(0, 1), ds.y.transpose(0, 1)  # time-major (T, B, 1)
    err = (ds.predict_next(x) - y)[1:]  # p - 1 = 1 step without full history
    assert (err**2).mean().item() == pytest.approx(ds.optimal_mse, rel=0.03)
    persistence = ((x - y)[1:] ** 2).mean().item()  # "tomorrow as today" does worse
    assert persistence > 1.5 * ds.optimal_mse


def test_ar_samples_start_stationary():
    # AR(1) with a = 0.9: stationary variance noise_std**2 / (1 - a**2), also at step 0.
    ds = ARProcess(4000, 5, coeffs=(0.9,), noise_std=1.0, seed=1)
    assert ds.x[:, 0].var().item() == pytest.approx(1 / (1 - 0.81), rel=0.08)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: ARProcess(5, 10, coeffs=(1.2,)), ValueError, "stable AR process"),
        (lambda: ARProcess(5, 10, coeffs=()), ValueError, "coeffs must be a non-empty"),
        (lambda: ARProcess(5, 10, noise_std=0.0), ValueError, r"noise_std must be in \(0.0"),
        (lambda: SineWaves(5, 0), ValueError, "T must be an int >= 1, got 0"),
        (lambda: SineWaves(5, 10, freq_range=(0.1, 0.6)), ValueError, r"freq_range\[1\]"),
        (lambda: SineWaves(5, 10, freq_range=(0.2, 0.1)), ValueError, "low <= high"),
        (lambda: SineWaves(5, 10, noise_std=-1), ValueError, "noise_std must be in"),
        (lambda: SineWaves(5, 10, freq_range=0.1), TypeError, "freq_range must be a pair"),
    ],
)
def test_bad_arguments_are_named_in_the_error(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_predict_next_handles_series_shorter_than_p():
    ds = ARProcess(2, 5, coeffs=(0.5, 0.1, 0.1, 0.1))
    pred = ds.predict_next(torch.ones(2, 1))
    assert torch.allclose(pred, torch.tensor([[0.5], [0.6]]))
    assert np.isfinite(pred.numpy()).all()
