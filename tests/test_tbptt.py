"""Truncated BPTT: equals full BPTT when k >= T; when k < T it is exactly the detach() cut."""

import numpy as np
import pytest
import torch

from lstm_course.scratch.gradcheck import rel_error
from lstm_course.scratch.gru import gru_backward, gru_forward, gru_param_shapes
from lstm_course.scratch.lstm import lstm_backward, lstm_forward, lstm_param_shapes
from lstm_course.scratch.rnn import rnn_backward, rnn_forward, rnn_param_shapes
from lstm_course.scratch.tbptt import truncated_bptt
from lstm_course.scratch.torch_params import params_to_torch
from tests._reference import random_params

CELLS = {
    "rnn": (rnn_forward, rnn_backward, rnn_param_shapes),
    "lstm": (lstm_forward, lstm_backward, lstm_param_shapes),
    "gru": (gru_forward, gru_backward, gru_param_shapes),
}
T, B, D, H = 12, 2, 3, 4


def _problem(kind, rng):
    forward, backward, shapes = CELLS[kind]
    X = rng.normal(size=(T, B, D))
    p = random_params(rng, shapes(D, H), scale=0.8)
    R = rng.normal(size=(T, B, H))  # the loss is sum_t <R_t, h_t>, so dL/dh_t = R_t

    def loss_grad(H_chunk, start):
        R_chunk = R[start : start + len(H_chunk)]
        return np.sum(H_chunk * R_chunk), R_chunk

    return forward, backward, X, p, R, loss_grad


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("k", [T, T + 5])
def test_equals_full_bptt_when_k_covers_the_sequence(kind, k, rng):
    forward, backward, X, p, R, loss_grad = _problem(kind, rng)
    H_all, _, cache = forward(X, None, p)
    dX, _, grads = backward(R, cache)
    result = truncated_bptt(forward, backward, X, None, p, k, loss_grad)
    assert result.loss == pytest.approx(np.sum(H_all * R), rel=1e-12)
    np.testing.assert_allclose(result.dX, dX, rtol=0, atol=1e-12)
    for key in grads:
        np.testing.assert_allclose(result.grads[key], grads[key], rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_differs_from_full_bptt_as_theory_says(kind, k, rng):
    forward, backward, X, p, R, loss_grad = _problem(kind, rng)
    H_all, state_T, cache = forward(X, None, p)
    dX, _, grads = backward(R, cache)
    result = truncated_bptt(forward, backward, X, None, p, k, loss_grad)
    # The forward pass is not truncated: same states, same loss.
    np.testing.assert_allclose(result.H_all, H_all, rtol=0, atol=1e-12)
    assert result.loss == pytest.approx(np.sum(H_all * R), rel=1e-12)
    # Inputs of the last chunk only influence losses in that chunk: their gradient is exact.
    last = (T - 1) // k * k
    np.testing.assert_allclose(result.dX[last:], dX[last:], rtol=0, atol=1e-12)
    # Earlier inputs lose the paths to later chunks' losses, and so do the weights.
    assert rel_error(result.dX[:last], dX[:last]) > 1e-3
    assert rel_error(result.grads["W_h"], grads["W_h"]) > 1e-3


def test_k1_rnn_keeps_only_the_one_step_terms(rng):
    """With k = 1, dL/dW_h is sum_t (R_t * phi'(a_t)) h_{t-1}^T: no product of Jacobians at all."""
    forward, backward, X, p, R, loss_grad = _problem("rnn", rng)
    H_all, _, _ = forward(X, None, p)
    H_prev = np.concatenate([np.zeros((1, B, H)), H_all[:-1]])
    dA = R * (1 - H_all**2)
    expected = np.einsum("tbi,tbj->ij", H_prev, dA)
    result = truncated_bptt(forward, backward, X, None, p, 1, loss_grad)
    np.testing.assert_allclose(result.grads["W_h"], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("k", [2, 5])
def test_equals_torch_with_detach_between_chunks(k, rng):
    forward, backward, X, p, R, loss_grad = _problem("lstm", rng)
    lstm = params_to_torch(p, torch.nn.LSTM(D, H).double())
    state, total = None, 0.0
    for start in range(0, T, k):
        out, state = lstm(torch.tensor(X[start : start + k]), state)
        total = total + (out * torch.tensor(R[start : start + k])).sum()
        state = tuple(s.detach() for s in state)  # the truncation
    total.backward()
    result = truncated_bptt(forward, backward, X, None, p, k, loss_grad)
    assert rel_error(result.grads["W_x"], lstm.weight_ih_l0.grad.numpy().T) < 1e-10
    assert rel_error(result.grads["W_h"], lstm.weight_hh_l0.grad.numpy().T) < 1e-10
    assert rel_error(result.grads["b"], lstm.bias_ih_l0.grad.numpy()) < 1e-10
    np.testing.assert_allclose(result.state_T[0], state[0][0].numpy(), rtol=0, atol=1e-12)


def test_bad_k_is_named(rng):
    forward, backward, X, p, _, loss_grad = _problem("rnn", rng)
    for k in [0, -1, 2.5, True]:
        with pytest.raises(ValueError, match="k must be a positive int"):
            truncated_bptt(forward, backward, X, None, p, k, loss_grad)
    with pytest.raises(ValueError, match="at least one time step"):
        truncated_bptt(forward, backward, X[:0], None, p, 2, loss_grad)
