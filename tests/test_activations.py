"""activations.py: equal to torch in float64, and finite and warning-free for |a| up to 1e4."""

import warnings

import numpy as np
import pytest
import torch

from lstm_course.scratch.activations import log_softmax, sigmoid, softmax

EXTREME = np.array([[-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4]])


@pytest.fixture
def strict():
    """Turn NumPy's overflow / invalid / divide-by-zero and every warning into an error."""
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_sigmoid_matches_torch(rng):
    a = rng.normal(scale=5.0, size=(4, 6))
    np.testing.assert_allclose(sigmoid(a), torch.sigmoid(torch.tensor(a)).numpy(), rtol=1e-14)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax_match_torch(rng, axis):
    a = rng.normal(scale=5.0, size=(3, 4, 5))
    a_t = torch.tensor(a)
    np.testing.assert_allclose(softmax(a, axis=axis), torch.softmax(a_t, axis).numpy(), rtol=1e-13)
    np.testing.assert_allclose(
        log_softmax(a, axis=axis), torch.log_softmax(a_t, axis).numpy(), rtol=1e-13, atol=1e-14
    )


def test_extreme_inputs_are_finite_and_match_torch(strict):
    assert np.geterr()["over"] == "raise"  # the fixture really is in force
    s, p, lp = sigmoid(EXTREME), softmax(EXTREME), log_softmax(EXTREME)
    for out in (s, p, lp):
        assert np.all(np.isfinite(out))
    a_t = torch.tensor(EXTREME)
    np.testing.assert_allclose(s, torch.sigmoid(a_t).numpy(), rtol=1e-14, atol=0)
    np.testing.assert_allclose(p, torch.softmax(a_t, -1).numpy(), rtol=1e-14, atol=0)
    np.testing.assert_allclose(lp, torch.log_softmax(a_t, -1).numpy(), rtol=1e-14)
    assert s[0, 0] == 0.0 and s[0, -1] == 1.0  # saturated, not nan
    assert 0.0 <= s.min() and s.max() <= 1.0


def test_softmax_rows_sum_to_one(rng):
    a = rng.normal(scale=50.0, size=(6, 9))
    np.testing.assert_allclose(softmax(a).sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(softmax(a, axis=0).sum(axis=0), 1.0, rtol=1e-14)
    assert np.all(softmax(a) >= 0.0)


def test_softmax_is_shift_invariant(rng):
    a = rng.normal(size=(2, 5))
    np.testing.assert_allclose(softmax(a + 1000.0), softmax(a), rtol=1e-12)


def test_log_softmax_finite_where_log_of_softmax_is_minus_inf(strict):
    a = np.array([0.0, -1e4])
    with np.errstate(divide="ignore"):  # the naive way takes log(0)
        naive = np.log(softmax(a))
    assert naive[1] == -np.inf
    lp = log_softmax(a)
    assert lp[1] == pytest.approx(-1e4, rel=1e-12)
    assert lp[0] == 0.0
