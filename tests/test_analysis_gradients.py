"""Jacobian products and sensitivities of lecture 3 against torch autograd, and the bound (3.5)."""

import numpy as np
import pytest
import torch

from lstm_course import modules
from lstm_course.analysis import gradients


@pytest.mark.parametrize("nonlinearity", gradients.NONLINEARITIES)
def test_dphi_is_the_derivative_and_its_sup_is_gamma_phi(nonlinearity):
    a = np.linspace(-6, 6, 2001) + 1e-3  # off the ReLU kink
    eps = 1e-6
    numeric = (gradients.phi(a + eps, nonlinearity) - gradients.phi(a - eps, nonlinearity)) / (
        2 * eps
    )
    np.testing.assert_allclose(gradients.dphi(a, nonlinearity), numeric, atol=1e-7)
    assert gradients.dphi(a, nonlinearity).max() == pytest.approx(
        gradients.GAMMA_PHI[nonlinearity], rel=1e-5
    )


def test_unknown_nonlinearity_is_refused():
    with pytest.raises(ValueError, match="nonlinearity"):
        gradients.phi(np.zeros(3), "softplus")


@pytest.mark.parametrize("kind", ["orthogonal", "gaussian"])
def test_recurrent_matrix_has_the_requested_largest_singular_value(kind):
    W_h = gradients.recurrent_matrix(16, 1.7, kind=kind, seed=3)
    s = np.linalg.svd(W_h, compute_uv=False)
    assert s[0] == pytest.approx(1.7)
    if kind == "orthogonal":
        np.testing.assert_allclose(s, 1.7)
    else:
        assert s[-1] < 0.5  # a Gaussian matrix's singular values spread out
    assert gradients.spectral_radius(W_h) <= gradients.gamma_theta(W_h) + 1e-12


def _torch_slides_rnn(X, W_h, W_x, nonlinearity):
    act = {
        "tanh": torch.tanh,
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
        "linear": lambda a: a,
    }[nonlinearity]

    def states_from_h0(h0):  # (H,) -> (T, H): eq. (3.1) in torch, one sequence
        hs, h = [], h0
        for x_t in X:
            h = act(h) @ W_h + x_t @ W_x
            hs.append(h)
        return torch.stack(hs)

    return states_from_h0


@pytest.mark.parametrize("nonlinearity", gradients.NONLINEARITIES)
def test_jacobian_products_equal_torch_autograd(nonlinearity):
    rng = np.random.default_rng(0)
    T, D, H = 7, 3, 5
    X = rng.standard_normal((T, 1, D))
    W_h = gradients.recurrent_matrix(H, 1.3, kind="gaussian", seed=1)
    W_x = rng.standard_normal((D, H))
    h0 = rng.standard_normal((1, H))
    trace = gradients.jacobian_products(X, W_h, W_x, nonlinearity, h0=h0)

    f = _torch_slides_rnn(torch.tensor(X[:, 0]), torch.tensor(W_h), torch.tensor(W_x), nonlinearity)
    J = torch.autograd.functional.jacobian(f, torch.tensor(h0[0])).numpy()  # (T, H, H)
    np.testing.assert_allclose(trace.norms[:, 0], np.linalg.norm(J, ord=2, axis=(-2, -1)))


@pytest.mark.parametrize("nonlinearity", gradients.NONLINEARITIES)
def test_measured_norms_never_exceed_the_bound(nonlinearity):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 6, 2))
    for gamma in (0.5, 1.0, 2.0):
        W_h = gradients.recurrent_matrix(10, gamma, kind="gaussian", seed=2)
        trace = gradients.jacobian_products(X, W_h, rng.standard_normal((2, 10)), nonlinearity)
        assert trace.gamma_theta == pytest.approx(gamma)
        assert np.all(trace.step_norms <= gamma * gradients.GAMMA_PHI[nonlinearity] + 1e-12)
        assert np.all(trace.norms <= trace.bound[:, None] * (1 + 1e-9))


def test_linear_orthogonal_network_meets_the_bound_exactly_even_when_it_explodes():
    X = np.zeros((300, 2, 1))
    W_h = gradients.recurrent_matrix(8, 3.0, kind="orthogonal", seed=0)
    trace = gradients.jacobian_products(X, W_h, np.ones((1, 8)), "linear")
    expected = np.broadcast_to(np.log(trace.bound)[:, None], trace.norms.shape)
    np.testing.assert_allclose(np.log(trace.norms), expected, rtol=1e-9)
    assert trace.norms[-1, 0] > 1e140  # 3^300: the renormalised product does not overflow


def _lstm_jacobian_by_reverse_mode(rnn, X):
    """(T, H, H) dh_t/dh_0 for one sequence X (T, 1, D), c_0 = 0, by torch.autograd."""
    H = rnn.hidden_size

    def f(h0):
        state = (h0.view(1, 1, H), torch.zeros(1, 1, H, dtype=h0.dtype))
        if not isinstance(rnn, modules.LSTM):
            state = h0.view(1, 1, H)
        return rnn(X, state)[0][:, 0]  # (T, H)

    return torch.autograd.functional.jacobian(f, torch.zeros(H, dtype=X.dtype)).numpy()


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_state_jacobian_norms_match_reverse_mode_autograd(kind):
    torch.manual_seed(0)
    rnn = getattr(modules, kind)(2, 4).double()
    X = torch.randn(6, 3, 2, dtype=torch.float64)
    norms = gradients.state_jacobian_norms(rnn, X)
    assert norms.shape == (6, 3)
    for b in range(3):
        J = _lstm_jacobian_by_reverse_mode(rnn, X[:, b : b + 1])
        np.testing.assert_allclose(norms[:, b], np.linalg.norm(J, ord=2, axis=(-2, -1)))


def test_state_jacobian_of_a_torch_rnn_is_the_product_of_its_step_jacobians():
    """For lecture 1's h_t = tanh(a_t): dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh."""
    torch.manual_seed(1)
    rnn = modules.RNN(3, 5).double()
    X = torch.randn(8, 1, 3, dtype=torch.float64)
    H_all = rnn(X)[0][:, 0].detach().numpy()  # (T, H)
    W_hh = rnn.weight_hh_l0.detach().numpy()
    P, expected = np.eye(5), []
    for h in H_all:
        P = (1 - h**2)[:, None] * W_hh @ P
        expected.append(np.linalg.norm(P, 2))
    np.testing.assert_allclose(gradients.state_jacobian_norms(rnn, X)[:, 0], expected)


@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_input_sensitivity_matches_autograd_and_is_causal(kind):
    torch.manual_seed(2)
    rnn = getattr(modules, kind)(2, 4).double()
    X = torch.randn(5, 2, 2, dtype=torch.float64)
    step = 1
    S = gradients.input_sensitivity(rnn, X, step=step)
    assert S.shape == (5, 2, 4)
    assert np.all(S[:step] == 0)  # h_t cannot depend on a later input
    for b in range(2):
        J = torch.autograd.functional.jacobian(lambda x: rnn(x)[0][:, 0], X[:, b : b + 1])
        expected = np.linalg.norm(J[:, :, step, 0, :].numpy(), axis=-1)  # (T, H)
        np.testing.assert_allclose(S[:, b], expected, atol=1e-12)


def test_a_fused_module_is_left_untouched():
    rnn = modules.LSTM(2, 3)
    fused = getattr(rnn, "fused", None)
    gradients.state_jacobian_norms(rnn, torch.randn(4, 1, 2))
    assert getattr(rnn, "fused", None) == fused


def test_readout_sensitivity_is_each_sequences_own_gradient():
    from lstm_course.models import SequenceModel

    torch.manual_seed(3)
    model = SequenceModel("RNN", 2, 4, 1).double()
    X = torch.randn(6, 3, 2, dtype=torch.float64)
    S = gradients.readout_sensitivity(model, X, step=0)
    assert S.shape == (3, 1, 2)
    for b in range(3):
        J = torch.autograd.functional.jacobian(lambda x: model(x)[0][0, 0], X[:, b : b + 1])
        np.testing.assert_allclose(S[b, 0], J[0, 0].numpy())
