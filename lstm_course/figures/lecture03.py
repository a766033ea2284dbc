"""Lecture 3, vanishing and exploding gradients: the figures of
lectures/03_vanishing_exploding_gradients.ipynb.

The adding-problem runs (LSTM against RNN, then the remedies for the LSTM's step budget) are
trained once and cached: four figures read them. Every recipe seeds itself (seed 0, as in the
notebook), so each figure can be drawn alone with the notebook's numbers.
"""

import functools

import matplotlib.pyplot as plt

from lstm_course import set_seed
from lstm_course.analysis import gradients
from lstm_course.experiments import long_range
from lstm_course.figures import figure
from lstm_course.widgets import spectral


@functools.cache
def _adding_runs():
    """The notebook's AddingSetup and its {"LSTM": Run, "RNN": Run}."""
    set_seed(0)
    setup = long_range.AddingSetup()
    return setup, long_range.lstm_vs_rnn(setup, progress=False)


@functools.cache
def _remedy_runs():
    """The three remedies, each trained for at most the LSTM's number of steps."""
    setup, runs = _adding_runs()
    budget = runs["LSTM"].history.steps
    remedy_names = ["tanh RNN, orthogonal W_h", "IRNN: ReLU, W_h = I", "GRU"]
    return budget, long_range.remedies_on_adding(
        remedy_names, steps=budget, setup=setup, progress=False
    )


@figure(3, "||dh_t/dh_0|| against the bound (gamma_theta gamma_phi)^t: contracting, expanding")
def lecture03_spectral_bound():
    cases = {
        "contracting: tanh, gamma_theta = 0.9": dict(gamma=0.9, nonlinearity="tanh"),
        "contracting: sigmoid, gamma_theta = 3": dict(gamma=3.0, nonlinearity="sigmoid"),
        "expanding: tanh, gamma_theta = 1.5, small inputs": dict(
            gamma=1.5, nonlinearity="tanh", input_std=0.01
        ),
        "expanding: tanh, gamma_theta = 1.5, large inputs": dict(
            gamma=1.5, nonlinearity="tanh", input_std=1.0
        ),
    }
    traces = {name: spectral.spectral_curves(**kw, T=100) for name, kw in cases.items()}
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5), sharex=True)
    for ax, (name, (trace, rho)) in zip(axes.flat, traces.items(), strict=True):
        spectral.draw_spectral(ax, trace, rho)
        ax.set_title(name + f"\nmeasured factor per step {spectral.rate_per_step(trace):.3f}")
    fig.tight_layout()
    return fig


@figure(3, "The spectral explorer at its start: tanh, orthogonal W_h with gamma_theta = 1")
def lecture03_spectral_explorer():
    # the widget's defaults: spectral_explorer(T=100, H=32, B=16), gamma 1, tanh, input std 1
    trace, rho = spectral.spectral_curves(1.0, "tanh", 1.0, T=100, H=32, B=16, kind="orthogonal")
    fig, ax = plt.subplots(figsize=(8, 3.8))
    spectral.draw_spectral(ax, trace, rho)
    return fig


@figure(3, "Sine prediction with SGD: without clipping the gradient explodes; clip_norm 0.5 trains")
def lecture03_clipping():
    clip_runs = long_range.clipping_runs(clip_norm=0.5, progress=False)
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    long_range.plot_clipping(axes, clip_runs)
    fig.tight_layout()
    return fig


@figure(3, "Adding problem, T = 100: the LSTM learns it within the budget, the tanh RNN does not")
def lecture03_lstm_vs_rnn():
    setup, runs = _adding_runs()
    fig, ax = plt.subplots(figsize=(9, 4))
    long_range.plot_learning_curves(ax, runs, setup)
    return fig


@figure(3, "Sensitivity of each hidden unit to x_1: it fades in the trained RNN, lasts in the LSTM")
def lecture03_sensitivity():
    setup, runs = _adding_runs()
    val_set = long_range.validation_set(setup)
    n = long_range.first_marker_at(val_set, step=0)
    x_seq = val_set[n].x[:, None, :]  # (T, 1, 2), one sequence
    marks = val_set.positions[n].tolist()
    maps = {
        name: gradients.input_sensitivity(run.model.rnn, x_seq, step=0)[:, 0]
        for name, run in runs.items()
    }  # each (T, H)
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), gridspec_kw={"width_ratios": [1, 1, 1.1]})
    image = long_range.plot_sensitivity(axes, {"RNN": maps["RNN"], "LSTM": maps["LSTM"]}, marks)
    fig.colorbar(image, ax=axes[:2], label="log10 |dh_t,j / dx_1|", shrink=0.9)
    return fig


@figure(3, "Gradient reaching h_0 from step t for each remedy, at initialisation and trained")
def lecture03_gradient_flow():
    setup, runs = _adding_runs()
    X16 = long_range.validation_set(setup).x[:16].transpose(0, 1)  # (T, 16, 2)
    flows = long_range.gradient_flow_at_init(X16, hidden_size=setup.hidden_size)
    trained = {
        f"{name} after training": gradients.state_jacobian_norms(run.model.rnn, X16)
        for name, run in runs.items()
    }
    fig, ax = plt.subplots(figsize=(9, 4.2))
    long_range.plot_gradient_flow(ax, flows, extra=trained)
    ax.set_title(
        "gradient reaching h_0 from step t, at initialisation (solid) and trained (dashed)"
    )
    return fig


@figure(3, "Adding problem, same budget: LSTM and GRU learn it, orthogonal and IRNN inits do not")
def lecture03_remedies():
    setup, runs = _adding_runs()
    budget, remedy_runs = _remedy_runs()
    fig, ax = plt.subplots(figsize=(9, 4))
    long_range.plot_learning_curves(ax, {**runs, **remedy_runs}, setup, train_curves=False)
    ax.set_title(f"adding problem, T = {setup.T}: validation MSE, at most {budget} steps each")
    return fig
