"""The scratch LSTM: numeric gradients, torch.nn.LSTM parity, step == sequence, errors, extremes."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lstm_course.scratch.gradcheck import numeric_gradient, rel_error
from lstm_course.scratch.lstm import (
    lstm_backward,
    lstm_forward,
    lstm_param_shapes,
    lstm_step_backward,
    lstm_step_forward,
)
from tests._reference import random_params, torch_forward_backward, torch_module

dims = st.integers(1, 4)


@given(B=dims, D=dims, H=dims, seed=st.integers(0, 2**16))
def test_step_backward_matches_numeric_gradient(B, D, H, seed):
    rng = np.random.default_rng(seed)
    x_t, h_prev, c_prev = (rng.normal(size=s) for s in [(B, D), (B, H), (B, H)])
    p = random_params(rng, lstm_param_shapes(D, H))
    dh, dc = rng.normal(size=(B, H)), rng.normal(size=(B, H))

    def objective():
        h, c, _ = lstm_step_forward(x_t, h_prev, c_prev, p)
        return np.sum(h * dh) + np.sum(c * dc)

    _, _, cache = lstm_step_forward(x_t, h_prev, c_prev, p)
    dx_t, dh_prev, dc_prev, grads = lstm_step_backward(dh, dc, cache)
    assert set(grads) == set(p)
    for name, analytic, wrt in [
        ("x_t", dx_t, x_t),
        ("h_prev", dh_prev, h_prev),
        ("c_prev", dc_prev, c_prev),
    ] + [(f"p[{k}]", grads[k], p[k]) for k in p]:
        assert rel_error(analytic, numeric_gradient(objective, wrt)) < 1e-7, name


@given(T=dims, B=dims, D=dims, H=dims, seed=st.integers(0, 2**16))
def test_sequence_backward_matches_numeric_gradient(T, B, D, H, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(T, B, D))
    h0, c0 = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    p = random_params(rng, lstm_param_shapes(D, H))
    dH_all, dh_T, dc_T = (
        rng.normal(size=(T, B, H)),
        rng.normal(size=(B, H)),
        rng.normal(size=(B, H)),
    )

    def objective():
        H_all, (h_T, c_T), _ = lstm_forward(X, (h0, c0), p)
        return np.sum(H_all * dH_all) + np.sum(h_T * dh_T) + np.sum(c_T * dc_T)

    _, _, cache = lstm_forward(X, (h0, c0), p)
    dX, (dh0, dc0), grads = lstm_backward(dH_all, cache, (dh_T, dc_T))
    assert set(grads) == set(p)
    for name, analytic, wrt in [("X", dX, X), ("h0", dh0, h0), ("c0", dc0, c0)] + [
        (f"p[{k}]", grads[k], p[k]) for k in p
    ]:
        assert rel_error(analytic, numeric_gradient(objective, wrt)) < 1e-7, name


@pytest.mark.parametrize("T,B,D,H", [(1, 1, 1, 1), (5, 3, 4, 6), (12, 2, 7, 5), (3, 8, 2, 16)])
def test_matches_torch_lstm(T, B, D, H, rng):
    module = torch_module("lstm", D, H, seed=T * 100 + H)
    X = rng.normal(size=(T, B, D))
    state0 = (rng.normal(size=(B, H)), rng.normal(size=(B, H)))
    dH_all = rng.normal(size=(T, B, H))
    dstate_T = (rng.normal(size=(B, H)), rng.normal(size=(B, H)))
    ref = torch_forward_backward(module, X, state0, dH_all, dstate_T)

    H_all, (h_T, c_T), cache = lstm_forward(X, state0, ref["p"])
    np.testing.assert_allclose(H_all, ref["H_all"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(h_T, ref["state_T"][0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(c_T, ref["state_T"][1], rtol=0, atol=1e-8)
    dX, (dh0, dc0), grads = lstm_backward(dH_all, cache, dstate_T)
    assert rel_error(dX, ref["dX"]) < 1e-7
    assert rel_error(dh0, ref["dstate0"][0]) < 1e-7
    assert rel_error(dc0, ref["dstate0"][1]) < 1e-7
    for key in grads:
        assert rel_error(grads[key], ref["grads"][key]) < 1e-7, key


def test_matches_torch_lstm_cell(rng):
    B, D, H = 3, 4, 5
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(D, H).double()
    from lstm_course.scratch.torch_params import params_from_torch

    p = params_from_torch(cell)
    x_t, h_prev, c_prev = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    h_ref, c_ref = cell(torch.tensor(x_t), (torch.tensor(h_prev), torch.tensor(c_prev)))
    h, c, _ = lstm_step_forward(x_t, h_prev, c_prev, p)
    np.testing.assert_allclose(h, h_ref.detach().numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(c, c_ref.detach().numpy(), rtol=0, atol=1e-8)


def test_zero_initial_state_is_the_default(rng):
    X = rng.normal(size=(4, 2, 3))
    p = random_params(rng, lstm_param_shapes(3, 5))
    zeros = np.zeros((2, 5))
    H_default, _, _ = lstm_forward(X, None, p)
    H_zeros, _, _ = lstm_forward(X, (zeros, zeros), p)
    np.testing.assert_array_equal(H_default, H_zeros)


def test_step_loop_equals_sequence(rng):
    T, B, D, H = 6, 3, 4, 5
    X = rng.normal(size=(T, B, D))
    h, c = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    p = random_params(rng, lstm_param_shapes(D, H))
    H_all, (h_T, c_T), cache = lstm_forward(X, (h, c), p)
    caches = []
    for t in range(T):
        h, c, step_cache = lstm_step_forward(X[t], h, c, p)
        caches.append(step_cache)
        np.testing.assert_allclose(h, H_all[t], rtol=0, atol=1e-14)
    np.testing.assert_allclose(c, c_T, rtol=0, atol=1e-14)
    # The gates recorded in the cache are the ones the step computed.
    np.testing.assert_allclose(cache.f[-1], caches[-1].f, rtol=0, atol=1e-14)

    dH_all = rng.normal(size=(T, B, H))
    dX, (dh0, dc0), grads = lstm_backward(dH_all, cache)
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    total = {k: np.zeros_like(v) for k, v in p.items()}
    for t in reversed(range(T)):
        dx_t, dh_next, dc_next, step_grads = lstm_step_backward(
            dH_all[t] + dh_next, dc_next, caches[t]
        )
        np.testing.assert_allclose(dx_t, dX[t], rtol=0, atol=1e-12)
        total = {k: total[k] + step_grads[k] for k in total}
    np.testing.assert_allclose(dh_next, dh0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dc_next, dc0, rtol=0, atol=1e-12)
    for k in total:
        np.testing.assert_allclose(total[k], grads[k], rtol=0, atol=1e-12)


def _valid(rng, B=2, D=3, H=4):
    return (
        rng.normal(size=(B, D)),
        rng.normal(size=(B, H)),
        rng.normal(size=(B, H)),
        random_params(rng, lstm_param_shapes(D, H)),
    )


def test_wrong_gate_count_is_named(rng):
    x_t, h_prev, c_prev, p = _valid(rng)
    p["W_x"] = rng.normal(size=(3, 12))  # 3H columns: a GRU's weight
    with pytest.raises(
        ValueError, match=r"p\['W_x'\] must have shape \(D, 4H\) = \(3, 16\), got \(3, 12\)"
    ):
        lstm_step_forward(x_t, h_prev, c_prev, p)


@pytest.mark.parametrize(
    "change,error,pattern",
    [
        (
            lambda a, rng: a.update(x_t=rng.normal(size=(2, 5))),
            ValueError,
            r"p\['W_x'\].*\(D, 4H\) = \(5, 16\)",
        ),
        (
            lambda a, rng: a.update(h_prev=rng.normal(size=(3, 4))),
            ValueError,
            r"batch sizes differ.*h_prev has B = 3",
        ),
        (
            lambda a, rng: a.update(c_prev=rng.normal(size=(2, 5))),
            ValueError,
            r"c_prev must have shape \(B, H\) = \(2, 4\), got \(2, 5\)",
        ),
        (
            lambda a, rng: a.update(x_t=np.ones((2, 3), dtype=int)),
            TypeError,
            r"x_t must be a floating-point array, got dtype int",
        ),
        (
            lambda a, rng: a.update(h_prev=[[0.0] * 4] * 2),
            TypeError,
            r"h_prev must be a NumPy array, got list",
        ),
        (
            lambda a, rng: a.update(x_t=rng.normal(size=(2, 3, 1))),
            ValueError,
            r"x_t must have 2 dimensions, got shape \(2, 3, 1\)",
        ),
        (lambda a, rng: a["p"].pop("b"), ValueError, r"missing \['b'\]"),
        (lambda a, rng: a["p"].update(W_y=a["p"]["b"]), ValueError, r"unexpected \['W_y'\]"),
    ],
)
def test_bad_step_arguments_are_named(change, error, pattern, rng):
    x_t, h_prev, c_prev, p = _valid(rng)
    args = {"x_t": x_t, "h_prev": h_prev, "c_prev": c_prev, "p": p}
    change(args, rng)
    with pytest.raises(error, match=pattern):
        lstm_step_forward(**args)


def test_bad_sequence_arguments_are_named(rng):
    p = random_params(rng, lstm_param_shapes(3, 4))
    X = rng.normal(size=(5, 2, 3))
    with pytest.raises(ValueError, match=r"X must have 3 dimensions, got shape \(2, 3\)"):
        lstm_forward(X[0], None, p)
    with pytest.raises(ValueError, match=r"batch sizes differ: X has B = 2"):
        lstm_forward(X, (np.zeros((3, 4)), np.zeros((3, 4))), p)
    with pytest.raises(TypeError, match=r"state0 must be a tuple \(h, c\)"):
        lstm_forward(X, np.zeros((2, 4)), p)
    _, _, cache = lstm_forward(X, None, p)
    with pytest.raises(
        ValueError, match=r"dH_all must have shape \(T, B, H\) = \(5, 2, 4\), got \(5, 2, 3\)"
    ):
        lstm_backward(np.zeros((5, 2, 3)), cache)
    with pytest.raises(ValueError, match=r"dh must have shape"):
        lstm_step_backward(
            np.zeros((2, 3)),
            np.zeros((2, 4)),
            lstm_step_forward(X[0], np.zeros((2, 4)), np.zeros((2, 4)), p)[2],
        )


def test_extreme_preactivations_stay_finite(rng):
    T, B, D, H = 4, 3, 2, 5
    X = rng.choice([-1.0, 1.0], size=(T, B, D)) * 1e4
    p = random_params(rng, lstm_param_shapes(D, H), scale=1.0)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        H_all, (h_T, c_T), cache = lstm_forward(X, None, p)
        dX, (dh0, dc0), grads = lstm_backward(rng.normal(size=(T, B, H)), cache)
    assert np.abs(X @ p["W_x"]).max() > 1e3  # the pre-activations really are extreme
    for value in [H_all, h_T, c_T, dX, dh0, dc0, *grads.values()]:
        assert np.all(np.isfinite(value))
