"""The scratch RNN: numeric gradients, torch.nn.RNN parity (tanh, ReLU), step == sequence."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_course.scratch.gradcheck import numeric_gradient, rel_error
from lstm_course.scratch.rnn import (
    rnn_backward,
    rnn_forward,
    rnn_param_shapes,
    rnn_step_backward,
    rnn_step_forward,
)
from tests._reference import random_params, torch_forward_backward, torch_module

dims = st.integers(1, 4)
nonlinearities = st.sampled_from(["tanh", "relu"])


@given(B=dims, D=dims, H=dims, seed=st.integers(0, 2**16), nonlinearity=nonlinearities)
def test_step_backward_matches_numeric_gradient(B, D, H, seed, nonlinearity):
    rng = np.random.default_rng(seed)
    x_t, h_prev = rng.normal(size=(B, D)), rng.normal(size=(B, H))
    p = random_params(rng, rnn_param_shapes(D, H))
    dh = rng.normal(size=(B, H))

    def objective():
        return np.sum(rnn_step_forward(x_t, h_prev, p, nonlinearity)[0] * dh)

    dx_t, dh_prev, grads = rnn_step_backward(dh, rnn_step_forward(x_t, h_prev, p, nonlinearity)[1])
    assert set(grads) == set(p)
    checks = [("x_t", dx_t, x_t), ("h_prev", dh_prev, h_prev)]
    for name, analytic, wrt in checks + [(k, grads[k], p[k]) for k in p]:
        assert rel_error(analytic, numeric_gradient(objective, wrt)) < 1e-7, name


@given(T=dims, B=dims, D=dims, H=dims, seed=st.integers(0, 2**16), nonlinearity=nonlinearities)
def test_sequence_backward_matches_numeric_gradient(T, B, D, H, seed, nonlinearity):
    rng = np.random.default_rng(seed)
    X, h0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H))
    p = random_params(rng, rnn_param_shapes(D, H))
    dH_all, dh_T = rng.normal(size=(T, B, H)), rng.normal(size=(B, H))

    def objective():
        H_all, h_T, _ = rnn_forward(X, h0, p, nonlinearity)
        return np.sum(H_all * dH_all) + np.sum(h_T * dh_T)

    dX, dh0, grads = rnn_backward(dH_all, rnn_forward(X, h0, p, nonlinearity)[2], dh_T)
    assert set(grads) == set(p)
    for name, analytic, wrt in [("X", dX, X), ("h0", dh0, h0)] + [(k, grads[k], p[k]) for k in p]:
        assert rel_error(analytic, numeric_gradient(objective, wrt)) < 1e-7, name


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("T,B,D,H", [(1, 1, 1, 1), (5, 3, 4, 6), (20, 2, 7, 5)])
def test_matches_torch_rnn(T, B, D, H, nonlinearity, rng):
    module = torch_module("rnn", D, H, seed=T + H, nonlinearity=nonlinearity)
    X, h0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H))
    dH_all, dh_T = rng.normal(size=(T, B, H)), rng.normal(size=(B, H))
    ref = torch_forward_backward(module, X, h0, dH_all, dh_T)

    H_all, h_T, cache = rnn_forward(X, h0, ref["p"], nonlinearity)
    np.testing.assert_allclose(H_all, ref["H_all"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(h_T, ref["state_T"], rtol=0, atol=1e-8)
    dX, dh0, grads = rnn_backward(dH_all, cache, dh_T)
    assert rel_error(dX, ref["dX"]) < 1e-7
    assert rel_error(dh0, ref["dstate0"]) < 1e-7
    for key in grads:
        assert rel_error(grads[key], ref["grads"][key]) < 1e-7, key


def test_step_loop_equals_sequence(rng):
    T, B, D, H = 5, 2, 3, 4
    X, h = rng.normal(size=(T, B, D)), rng.normal(size=(B, H))
    p = random_params(rng, rnn_param_shapes(D, H))
    H_all, _, cache = rnn_forward(X, h, p)
    caches = []
    for t in range(T):
        h, step_cache = rnn_step_forward(X[t], h, p)
        caches.append(step_cache)
        np.testing.assert_allclose(h, H_all[t], rtol=0, atol=1e-14)
    dH_all = rng.normal(size=(T, B, H))
    dX, dh0, grads = rnn_backward(dH_all, cache)
    dh_next, total = np.zeros((B, H)), {k: np.zeros_like(v) for k, v in p.items()}
    for t in reversed(range(T)):
        dx_t, dh_next, step_grads = rnn_step_backward(dH_all[t] + dh_next, caches[t])
        np.testing.assert_allclose(dx_t, dX[t], rtol=0, atol=1e-12)
        total = {k: total[k] + step_grads[k] for k in total}
    np.testing.assert_allclose(dh_next, dh0, rtol=0, atol=1e-12)
    for k in total:
        np.testing.assert_allclose(total[k], grads[k], rtol=0, atol=1e-12)


def test_bad_arguments_are_named(rng):
    p = random_params(rng, rnn_param_shapes(3, 4))
    x_t, h_prev = rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
    with pytest.raises(
        ValueError, match=r"h_prev has H = 5 \(shape \(2, 5\)\) but p\['W_h'\] has shape \(4, 4\)"
    ):
        rnn_step_forward(x_t, rng.normal(size=(2, 5)), p)
    with pytest.raises(ValueError, match=r"batch sizes differ: x_t has B = 2 .* h_prev has B = 1"):
        rnn_step_forward(x_t, h_prev[:1], p)
    with pytest.raises(TypeError, match=r"x_t must be a floating-point array, got dtype int"):
        rnn_step_forward(np.ones((2, 3), dtype=np.int32), h_prev, p)
    with pytest.raises(
        ValueError, match=r"nonlinearity must be one of \('tanh', 'relu'\), got 'sigmoid'"
    ):
        rnn_step_forward(x_t, h_prev, p, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"batch sizes differ: X has B = 2 .* h0 has B = 3"):
        rnn_forward(rng.normal(size=(4, 2, 3)), rng.normal(size=(3, 4)), p)
    _, _, cache = rnn_forward(rng.normal(size=(4, 2, 3)), None, p)
    with pytest.raises(ValueError, match=r"dh_T must have shape \(B, H\) = \(2, 4\), got \(4,\)"):
        rnn_backward(np.zeros((4, 2, 4)), cache, dh_T=np.zeros(4))


def test_extreme_preactivations_stay_finite(rng):
    X = rng.choice([-1.0, 1.0], size=(4, 3, 2)) * 1e4
    p = random_params(rng, rnn_param_shapes(2, 5), scale=1.0)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        for nonlinearity in ["tanh", "relu"]:
            H_all, h_T, cache = rnn_forward(X, None, p, nonlinearity)
            dX, dh0, grads = rnn_backward(rng.normal(size=H_all.shape), cache)
            for value in [H_all, h_T, dX, dh0, *grads.values()]:
                assert np.all(np.isfinite(value))
