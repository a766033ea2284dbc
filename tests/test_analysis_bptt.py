"""BPTT term by term (lecture 2): the per-step terms add up to the gradient that scratch.rnn,
torch autograd and the truncated variant compute, and each piece matches its equation."""

import matplotlib
import numpy as np
import pytest
import torch

from lstm_course.analysis import bptt
from lstm_course.scratch.gradcheck import numeric_gradient, rel_error

matplotlib.use("Agg")


@pytest.fixture
def hello():
    return bptt.char_problem("hello", H=3, seed=0)


@pytest.fixture
def long_problem():
    return bptt.char_problem("backpropagation through time", H=6, gain=1.2, seed=3)


def test_char_problem_is_next_character_prediction():
    problem = bptt.char_problem("hello", H=5, gain=0.7, seed=1)
    assert problem.vocab == "ehlo"
    assert problem.X.shape == (4, 1, 4) and problem.y.shape == (4, 1)
    np.testing.assert_array_equal(problem.X[:, 0].argmax(1), [1, 0, 2, 2])  # h e l l
    np.testing.assert_array_equal(problem.y[:, 0], [0, 2, 2, 3])  # e l l o
    np.testing.assert_allclose(np.linalg.svd(problem.p["W_h"])[1], 0.7, atol=1e-12)
    assert not problem.p["b"].any()


def test_forward_sums_the_per_step_losses(hello):
    fwd = bptt.forward(hello)
    assert fwd.E == pytest.approx(fwd.E_t.sum(), rel=1e-12)
    only_3 = bptt.forward(hello, steps=[3])
    assert only_3.E == pytest.approx(fwd.E_t[2, 0], rel=1e-12)
    assert not only_3.dscores[[0, 1, 3]].any()
    with pytest.raises(ValueError, match="1..T"):
        bptt.forward(hello, steps=[5])


@pytest.mark.parametrize("steps", [None, [3], [1, 4]])
def test_gradients_match_torch_autograd(hello, steps):
    E, grads = bptt.gradients(hello, steps)
    E_torch, grads_torch, _ = bptt.torch_gradients(hello, steps)
    assert E == pytest.approx(E_torch, rel=1e-12)
    for key in ("W_x", "W_h", "b", "W_y"):
        assert rel_error(grads[key], grads_torch[key]) < 1e-12, key


def test_gradients_match_numeric_differences(long_problem):
    _, grads = bptt.gradients(long_problem)
    W_h = long_problem.p["W_h"]
    numeric = numeric_gradient(lambda: bptt.forward(long_problem).E, W_h)
    assert rel_error(grads["W_h"], numeric) < 1e-8


def test_output_weight_gradient_needs_only_its_own_step(hello):
    """Eq. (2.2): dE_3/dW_y = s_3^T (yhat_3 - onehot(y_3))."""
    fwd = bptt.forward(hello, steps=[3])
    s_3 = fwd.H_all[2]  # (1, H)
    scores = s_3 @ hello.W_y
    yhat = np.exp(scores) / np.exp(scores).sum()
    expected = s_3.T @ (yhat - np.eye(4)[hello.y[2]])
    np.testing.assert_allclose(bptt.gradients(hello, [3])[1]["W_y"], expected, atol=1e-14)


@pytest.mark.parametrize("t", [1, 3, 7, 27])
@pytest.mark.parametrize("key", ["W_x", "W_h", "b"])
def test_contributions_add_up_to_the_gradient_of_one_loss(long_problem, t, key):
    terms = bptt.contributions(long_problem, t, key)
    assert terms.shape == (t, *long_problem.p[key].shape)
    full = bptt.gradients(long_problem, [t])[1][key]
    np.testing.assert_allclose(terms.sum(0), full, rtol=0, atol=1e-13)


def test_contributions_follow_the_jacobian_product(long_problem):
    """Eq. (2.3) written out: term k = s_{k-1}^T [(dE_t/ds_t ds_t/ds_k) * (1 - s_k^2)]."""
    t = 9
    terms = bptt.contributions(long_problem, t, "W_h")
    fwd = bptt.forward(long_problem, steps=[t])
    H_all, W_h = fwd.H_all, long_problem.p["W_h"]
    dE_ds_t = fwd.dscores[t - 1] @ long_problem.W_y.T  # (1, H)
    assert not terms[0].any()  # s_0 = 0: the first step's W_h saw a zero state
    for k in range(2, t + 1):
        dE_ds_k = dE_ds_t @ bptt.state_jacobian(H_all, W_h, t, k)[0]
        expected = H_all[k - 2].T @ (dE_ds_k * (1 - H_all[k - 1] ** 2))
        np.testing.assert_allclose(terms[k - 1], expected, rtol=0, atol=1e-13)


def test_state_jacobian_matches_autograd(long_problem):
    fwd = bptt.forward(long_problem)
    W_h = long_problem.p["W_h"]
    X, k, t = long_problem.X, 3, 8
    W_x = torch.from_numpy(long_problem.p["W_x"])

    def s_t(s_k):
        for j in range(k + 1, t + 1):
            s_k = torch.tanh(torch.from_numpy(X[j - 1, 0]) @ W_x + s_k @ torch.from_numpy(W_h))
        return s_k

    expected = torch.autograd.functional.jacobian(s_t, torch.from_numpy(fwd.H_all[k - 1, 0]))
    np.testing.assert_allclose(bptt.state_jacobian(fwd.H_all, W_h, t, k)[0], expected, atol=1e-13)
    np.testing.assert_array_equal(bptt.state_jacobian(fwd.H_all, W_h, t, t)[0], np.eye(6))
    with pytest.raises(ValueError, match="0 <= k <= t"):
        bptt.state_jacobian(fwd.H_all, W_h, 3, 4)


def test_backward_trace_records_the_recursion(long_problem):
    trace = bptt.backward_trace(long_problem)
    _, grads = bptt.gradients(long_problem)
    _, _, dS_torch = bptt.torch_gradients(long_problem)
    np.testing.assert_allclose(trace.dS, dS_torch, rtol=0, atol=1e-13)
    for key in grads:
        np.testing.assert_allclose(trace.grads[key], grads[key], rtol=0, atol=1e-13)
    np.testing.assert_allclose(trace.dW_h_so_far[0], grads["W_h"], rtol=0, atol=1e-13)
    # walking back, step t adds exactly its own outer product s_{t-1}^T delta_t
    H_all = bptt.forward(long_problem).H_all
    added = trace.dW_h_so_far[4] - trace.dW_h_so_far[5]
    np.testing.assert_allclose(added, H_all[3].T @ trace.dA[4], rtol=0, atol=1e-13)


def test_graves_outer_products_sum_to_the_one_matmul(long_problem):
    trace = bptt.backward_trace(long_problem)
    H_all = bptt.forward(long_problem).H_all
    H_prev = np.concatenate([np.zeros_like(H_all[:1]), H_all[:-1]])
    terms = bptt.outer_product_terms(H_prev, trace.dA)
    T, B, H = H_all.shape
    one_matmul = H_prev.reshape(T * B, H).T @ trace.dA.reshape(T * B, H)
    np.testing.assert_allclose(terms.sum(0), one_matmul, rtol=0, atol=1e-13)
    np.testing.assert_allclose(terms.sum(0), trace.grads["W_h"], rtol=0, atol=1e-13)
    x_terms = bptt.outer_product_terms(long_problem.X, trace.dA)
    np.testing.assert_allclose(x_terms.sum(0), trace.grads["W_x"], rtol=0, atol=1e-13)


def test_term_table_rows_are_eq_2_3_and_columns_are_graves_terms(long_problem):
    T = len(long_problem.y)
    table = bptt.term_table(long_problem)
    assert table.shape == (T, T)
    assert np.isnan(table[np.triu_indices(T, 1)]).all()
    np.testing.assert_allclose(
        table[6, :7], np.linalg.norm(bptt.contributions(long_problem, 7), axis=(1, 2))
    )
    # the matrices of column k summed over t are Graves' outer product of step k
    trace = bptt.backward_trace(long_problem)
    H_all = bptt.forward(long_problem).H_all
    k = 5
    column = sum(bptt.contributions(long_problem, t)[k - 1] for t in range(k, T + 1))
    np.testing.assert_allclose(column, H_all[k - 2].T @ trace.dA[k - 1], rtol=0, atol=1e-13)


def test_chunk_start():
    assert [bptt.chunk_start(t, 3) for t in range(1, 8)] == [1, 1, 1, 4, 4, 4, 7]
    assert bptt.chunk_start(5, 1) == 5 and bptt.chunk_start(5, 100) == 1


@pytest.mark.parametrize("K", [1, 3, 5])
def test_truncated_gradient_keeps_exactly_the_terms_inside_each_chunk(long_problem, K):
    """Eq. (2.8): sum over t of the terms k >= chunk_start(t, K)."""
    T = len(long_problem.y)
    kept = sum(
        bptt.contributions(long_problem, t, "W_h")[bptt.chunk_start(t, K) - 1 :].sum(0)
        for t in range(1, T + 1)
    )
    truncated = bptt.truncated_gradients(long_problem, K)["W_h"]
    np.testing.assert_allclose(truncated, kept, rtol=0, atol=1e-13)


def test_truncation_error_vanishes_only_when_the_window_covers_the_sequence(long_problem):
    T = len(long_problem.y)
    errors = bptt.truncation_errors(long_problem, [1, 4, T - 1, T, T + 3])
    assert np.all(errors[:3] > 1e-4)
    np.testing.assert_allclose(errors[3:], 0.0, atol=1e-15)


def test_contribution_profile(long_problem):
    profile = bptt.contribution_profile(long_problem, 10, 4)
    np.testing.assert_array_equal(profile.k, np.arange(1, 11))
    np.testing.assert_array_equal(profile.kept, profile.k >= 9)
    terms = bptt.contributions(long_problem, 10, "W_h")
    np.testing.assert_allclose(profile.term_norms, np.linalg.norm(terms, axis=(1, 2)))
    assert profile.jacobian_norms[-1] == pytest.approx(1.0)  # ds_10/ds_10 = I
    # gradients shrink going back when W_h's gain is below 1 (|J_j| <= gain * max tanh')
    small = bptt.contribution_profile(bptt.char_problem("abcdefghij", H=6, gain=0.5), 9, 9)
    assert np.all(np.diff(small.jacobian_norms) > 0)


def test_plots_have_labelled_axes(hello, long_problem):
    terms = bptt.contributions(hello, 3)
    axes = bptt.plot_contributions(terms, bptt.gradients(hello, [3])[1]["W_h"])
    assert all(ax.get_ylabel() for ax in axes) and axes[1].get_xlabel()
    assert len(axes[0].patches) == 4  # k = 1, 2, 3 and their sum
    axes = bptt.plot_profile(long_problem, 12, 5)
    assert len(axes) == 3 and all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    matplotlib.pyplot.close("all")
