"""The spectral widget's computation: decay below the bound, growth only where it is possible."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_course.widgets import spectral  # noqa: E402


def test_contracting_weights_make_the_gradient_vanish_below_the_bound():
    trace, _ = spectral.spectral_curves(0.8, "tanh", T=60, H=16, B=4)
    assert trace.norms.shape == (60, 4)
    assert np.all(trace.norms <= trace.bound[:, None] * (1 + 1e-9))
    assert np.all(trace.norms[-1] < 0.8**60 * 1.0001)
    assert spectral.rate_per_step(trace) < 0.8


def test_sigmoid_contracts_even_with_gamma_theta_above_one():
    trace, _ = spectral.spectral_curves(3.0, "sigmoid", T=50, H=16, B=4)
    assert trace.gamma_theta * trace.gamma_phi == pytest.approx(0.75)
    assert np.all(trace.norms[-1] < 0.75**50 * 1.0001)


def test_linear_orthogonal_weights_follow_the_bound_exactly():
    trace, rho = spectral.spectral_curves(1.1, "linear", T=40, H=8, B=3)
    assert rho == pytest.approx(1.1)  # orthogonal: spectral radius = largest singular value
    np.testing.assert_allclose(trace.norms, np.broadcast_to(trace.bound[:, None], (40, 3)))
    assert spectral.rate_per_step(trace) == pytest.approx(1.1)


def test_expanding_weights_explode_only_while_tanh_is_not_saturated():
    small, _ = spectral.spectral_curves(1.5, "tanh", input_std=1e-3, T=15, H=16, B=4)
    large, _ = spectral.spectral_curves(1.5, "tanh", input_std=10.0, T=15, H=16, B=4)
    assert np.all(small.norms[-1] > 1e2)  # near h = 0, tanh' ~ 1: the bound's growth
    assert np.all(large.norms[-1] < 1.0)  # saturated units: phi' ~ 0, it vanishes instead


def test_gaussian_weights_have_a_smaller_spectral_radius():
    _, rho = spectral.spectral_curves(1.0, "tanh", H=32, T=5, B=2, kind="gaussian")
    assert rho < 0.9


def test_draw_spectral_labels_its_axes_and_draws_the_bound():
    trace, rho = spectral.spectral_curves(1.2, "relu", T=30, H=8, B=5)
    fig, ax = plt.subplots()
    spectral.draw_spectral(ax, trace, rho)
    assert ax.get_xlabel() == "t" and "partial h_t" in ax.get_ylabel()
    assert ax.get_yscale() == "log"
    assert len(ax.get_lines()) >= 2
    plt.close(fig)


def test_explorer_builds_and_recomputes_when_a_control_moves(monkeypatch):
    pytest.importorskip("ipywidgets")
    calls = []
    real = spectral.spectral_curves

    def recording(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(spectral, "spectral_curves", recording)
    box = spectral.spectral_explorer(T=20, H=8, B=2)
    slider, dropdown = box.children[0].children
    slider.value = 2.0
    dropdown.value = "sigmoid"
    assert [args[:2] for args in calls][-2:] == [(2.0, "tanh"), (2.0, "sigmoid")]
    plt.close("all")
