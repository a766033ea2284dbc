"""Sliders over gamma_theta and the nonlinearity: watch ||dh_t/dh_0|| vanish or explode (lecture 3).

For the slides' recurrence h_t = phi(h_{t-1}) W_h + x_t W_x (eq. 3.1) with a random W_h whose
largest singular value is gamma_theta, ``spectral_curves`` measures the exact Jacobian norms
||dh_t/dh_0|| over a batch of random input sequences, next to the bound
(gamma_theta gamma_phi)^t of eq. (3.5); ``draw_spectral`` plots them and
``spectral_explorer`` puts the knobs on sliders. matplotlib and ipywidgets are imported inside
the functions that draw.
"""

import numpy as np

from lstm_course.analysis.gradients import (
    NONLINEARITIES,
    jacobian_products,
    recurrent_matrix,
    spectral_radius,
)

INPUT_SIZE = 4  # D of the random inputs; W_x is scaled by 1 / sqrt(D)


def spectral_curves(
    gamma, nonlinearity="tanh", input_std=1.0, T=100, H=32, B=16, kind="orthogonal", seed=0
):
    """Measure ||dh_t/dh_0|| of eq. (3.1) for t = 1..T with ||W_h||_2 = gamma.

    Args:
        gamma: gamma_theta, the largest singular value of W_h.
        nonlinearity: "tanh", "relu", "linear" or "sigmoid".
        input_std: standard deviation of the inputs x_t (D = 4, N(0, input_std^2)). Small
            inputs keep tanh in its linear region, large ones saturate it.
        T: steps. H: hidden size. B: how many random sequences.
        kind: "orthogonal" (all singular values = gamma, so the spectral radius is gamma too)
            or "gaussian" (singular values spread below gamma; spectral radius below gamma).
        seed: seeds W_h, W_x and the inputs.
    The start state is h_0 = x_0 W_x for a random x_0, the state one input after zeros.
    Returns:
        (trace, rho): the ``JacobianTrace`` (norms (T, B), bound (T,), ...) and the spectral
        radius of W_h.
    """
    rng = np.random.default_rng(seed)
    W_h = recurrent_matrix(H, gamma, kind=kind, seed=seed)
    W_x = rng.standard_normal((INPUT_SIZE, H)) / np.sqrt(INPUT_SIZE)
    X = input_std * rng.standard_normal((T + 1, B, INPUT_SIZE))
    h0 = X[0] @ W_x  # a state after a first input: not every ReLU unit sits at its kink, 0
    return jacobian_products(X[1:], W_h, W_x, nonlinearity, h0=h0), spectral_radius(W_h)


def rate_per_step(trace):
    """The measured factor per step, median_b ||dh_T/dh_0||^(1/T), to compare with the
    bound's gamma_theta * gamma_phi (below 1: vanishing; above 1: growing)."""
    T = trace.norms.shape[0]
    with np.errstate(divide="ignore"):
        return float(np.exp(np.median(np.log(trace.norms[-1])) / T))


def draw_spectral(ax, trace, rho=None, ylim=(1e-30, 1e30)):
    """Median and 10-90% band of ||dh_t/dh_0|| against t, and the bound, on a log axis."""
    T = trace.norms.shape[0]
    t = np.arange(1, T + 1)
    low, mid, high = np.percentile(trace.norms, [10, 50, 90], axis=1)
    floor = ylim[0] / 10  # zeros (dead ReLUs) would vanish from a log plot: draw them at the floor
    ax.fill_between(t, np.maximum(low, floor), np.maximum(high, floor), alpha=0.25, lw=0)
    ax.plot(t, np.maximum(mid, floor), lw=2, label="measured (median, 10-90%)")
    g = trace.gamma_theta * trace.gamma_phi
    ax.plot(
        t, trace.bound, "k--", lw=1, label=f"bound $(\\gamma_\\theta\\gamma_\\phi)^t$ = {g:.3g}^t"
    )
    ax.axhline(1.0, color="gray", lw=0.5)
    ax.set(yscale="log", ylim=ylim, xlabel="t", ylabel=r"$\|\partial h_t / \partial h_0\|_2$")
    title = f"$\\gamma_\\theta$ = {trace.gamma_theta:.2f}, $\\gamma_\\phi$ = {trace.gamma_phi:g}"
    if rho is not None:
        title += f", $\\rho(W_h)$ = {rho:.2f}"
    ax.set_title(title + f"; measured factor per step {rate_per_step(trace):.3g}", fontsize=10)
    ax.legend(loc="lower left", fontsize=8)
    return ax


def spectral_explorer(T=100, H=32, B=16):
    """The widget: gamma_theta, the nonlinearity, the input size and the kind of W_h.

    Returns:
        an ipywidgets.VBox (display it, or leave it as a cell's last value).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    style = {"description_width": "initial"}
    controls = {
        "gamma": widgets.FloatSlider(
            value=1.0,
            min=0.1,
            max=5.0,
            step=0.05,
            description="gamma_theta = ||W_h||_2",
            style=style,
            continuous_update=False,
        ),
        "nonlinearity": widgets.Dropdown(
            options=NONLINEARITIES, value="tanh", description="phi", style=style
        ),
        "input_std": widgets.FloatLogSlider(
            value=1.0,
            base=10,
            min=-3,
            max=1,
            step=0.25,
            description="input std",
            style=style,
            continuous_update=False,
        ),
        "kind": widgets.Dropdown(
            options=["orthogonal", "gaussian"], value="orthogonal", description="W_h", style=style
        ),
    }

    def show(gamma, nonlinearity, input_std, kind):
        trace, rho = spectral_curves(gamma, nonlinearity, input_std, T=T, H=H, B=B, kind=kind)
        fig, ax = plt.subplots(figsize=(8, 3.8))
        draw_spectral(ax, trace, rho)
        plt.show()

    out = widgets.interactive_output(show, controls)
    rows = [
        widgets.HBox([controls["gamma"], controls["nonlinearity"]]),
        widgets.HBox([controls["input_std"], controls["kind"]]),
    ]
    return widgets.VBox([*rows, out])
