"""Lecture 4, the LSTM: the figures of lectures/04_lstm.ipynb.

The explorer with all five sliders starts at the gates of ``lecture04_gate_flow`` and so
draws the same picture: it has no figure of its own.
"""

import copy
import functools

import matplotlib.pyplot as plt
import numpy as np
from torch import nn

from lstm_course import modules, set_seed
from lstm_course.analysis import cell_flow
from lstm_course.data import AddingProblem, make_loader
from lstm_course.figures import figure
from lstm_course.models import SequenceModel
from lstm_course.train import final_plot, fit
from lstm_course.widgets import gates


def _draw_explorer_start(**values):
    """The picture ``gates.gate_explorer(**values)`` draws before a slider is moved."""
    fig = plt.figure(figsize=(11, 3.6))
    gates.draw_gate_flow(fig, gates.gate_flow(**{**gates.DEFAULTS, **values}), T=30)
    return fig


@figure(4, "One cell update (kept, written, read) and the same gates held for 30 steps")
def lecture04_gate_flow():
    flow = gates.gate_flow(c_prev=1.0, f=0.9, i=0.5, g=0.8, o=0.7)
    fig = plt.figure(figsize=(11, 3.6))
    gates.draw_gate_flow(fig, flow, T=30)
    return fig


@figure(4, "The forget gate alone (i = 0): the cell decays as f^t, half-life 6.6 steps at f = 0.9")
def lecture04_forget_gate_explorer():
    return _draw_explorer_start(i=0.0)


@figure(4, "Writing into an empty cell: with the gates held it settles at c* = i g / (1 - f)")
def lecture04_input_gate_explorer():
    return _draw_explorer_start(c_prev=0.0)


@functools.cache
def _jacobian_norms():
    """The norms of cells 29-30: tanh RNN and LSTMs with b_f = 0, 1, 3 on adding inputs."""
    X_probe = AddingProblem(16, T=100, seed=3).x.transpose(0, 1)  # (T, B, D) = (100, 16, 2)
    set_seed(0)
    norms = {"tanh RNN": cell_flow.rnn_hidden_jacobian_norms(modules.RNN(2, 32), X_probe)}
    for bias in (0.0, 1.0, 3.0):
        set_seed(0)
        lstm_probe = modules.LSTM(2, 32, forget_bias=bias)
        with lstm_probe.record_gates() as recorded:
            lstm_probe(X_probe)
        norms[f"LSTM b_f={bias:g}"] = cell_flow.lstm_cell_jacobian_norms(lstm_probe, X_probe)
        norms[f"LSTM b_f={bias:g}, (4.9) only"] = cell_flow.belt_norms(recorded[0, 0]["f"])
    return norms


@figure(4, "Gradient reaching back T - t steps: tanh RNN vs untrained LSTMs with b_f = 0, 1, 3")
def lecture04_jacobian_norms():
    norms = _jacobian_norms()
    colors = {"0": "tab:red", "1": "tab:blue", "3": "tab:green"}
    curves = {
        "tanh RNN: $\\|\\partial h_T / \\partial h_t\\|$": (
            norms["tanh RNN"],
            {"color": "black", "lw": 2},
        )
    }
    for bias, color in colors.items():
        curves[f"LSTM $b_f = {bias}$: $\\|\\partial c_T / \\partial c_t\\|$"] = (
            norms[f"LSTM b_f={bias}"],
            {"color": color, "lw": 2},
        )
        curves[f"LSTM $b_f = {bias}$: forget gates only (4.9)"] = (
            norms[f"LSTM b_f={bias}, (4.9) only"],
            {"color": color, "ls": "--", "lw": 1},
        )
    fig, ax = plt.subplots(figsize=(8, 4.5))
    cell_flow.draw_jacobian_norms(ax, curves)
    ax.set(
        title="How much of a change at step t still reaches step T (untrained, H = 32)",
        ylim=(1e-32, 10),
    )
    return fig


@functools.cache
def _adding_run():
    """Cell 45: an LSTM (H = 16) trained on the adding problem (T = 50) to test MSE < 0.005."""
    set_seed(0)
    T_train, H_train = 50, 16
    train_batches = make_loader(AddingProblem(2048, T=T_train, seed=1), batch_size=64, seed=0)
    test = next(
        iter(make_loader(AddingProblem(256, T=T_train, seed=2), batch_size=256, shuffle=False))
    )
    model = SequenceModel("LSTM", input_size=2, hidden_size=H_train, output_size=1)
    untrained = copy.deepcopy(model)

    def mse_loss(model, batch):
        y, _ = model(batch.x)  # (B, 1), read at the last step
        loss = nn.functional.mse_loss(y, batch.y)
        return loss, {"mse": loss}

    def evaluate(model):
        y, _ = model(test.x)
        return {"val_mse": nn.functional.mse_loss(y, test.y)}

    history = fit(
        model,
        train_batches,
        mse_loss,
        steps=1500,
        lr=1e-2,
        device="cpu",
        eval_fn=evaluate,
        eval_every=50,
        target=("val_mse", "<", 0.005),
        progress=False,
    )
    return model, untrained, history, test


@functools.cache
def _memory_unit():
    """Cell 47: the trained LSTM's gates on the test batch and the unit that latches markers."""
    model, _, _, test = _adding_run()
    with model.rnn.record_gates() as recorded:
        model(test.x)
    trace = recorded[0, 0]  # layer 0, forward direction: {"i", "f", "g", "o", "c"}, each (T, B, H)
    unit, _, _ = gates.marked_unit(trace["i"], test.x[:, :, 1])
    return trace, unit


@figure(4, "LSTM on the adding problem (T = 50): the loss sits at the baseline, then drops")
def lecture04_adding_training():
    _, _, history, _ = _adding_run()
    fig = final_plot(history, metrics=("val_mse",))
    fig.axes[0].axhline(AddingProblem.baseline_mse, color="gray", ls=":", label="guess the mean")
    fig.axes[0].legend(loc="lower left")
    return fig


@figure(4, "Gates of the trained adding-problem LSTM over one test sequence: one unit latches")
def lecture04_gate_traces():
    _, _, _, test = _adding_run()
    trace, unit = _memory_unit()
    fig = plt.figure(figsize=(11, 9))
    gates.draw_gate_traces(fig, test.x[:, 0], {name: trace[name][:, 0] for name in "ifoc"}, unit)
    fig.suptitle(
        "Gates of the trained LSTM over one test sequence"
        " (unit rows 0-15; white lines: the marked unit)"
    )
    fig.tight_layout()
    return fig


@figure(4, "Gradient flow along the cell over 100 steps, before and after training")
def lecture04_trained_gradient_flow():
    model, untrained, _, _ = _adding_run()
    _, unit = _memory_unit()
    X_long = AddingProblem(16, T=100, seed=3).x.transpose(0, 1)  # twice the training length
    with model.rnn.record_gates() as recorded_long:
        model(X_long)
    unit_product = cell_flow.forget_gate_products(recorded_long[0, 0]["f"])[:, :, unit]
    trained = {
        "before training": cell_flow.lstm_cell_jacobian_norms(untrained.rnn, X_long),
        "after training": cell_flow.lstm_cell_jacobian_norms(model.rnn, X_long),
        f"unit {unit}'s forget gates": np.exp(np.log(unit_product).mean(axis=1)),  # geometric
    }
    fig, ax = plt.subplots(figsize=(8, 4))
    cell_flow.draw_jacobian_norms(
        ax,
        {
            "before training: $\\|\\partial c_T/\\partial c_t\\|$": (
                trained["before training"],
                {"color": "tab:gray"},
            ),
            "after training: $\\|\\partial c_T/\\partial c_t\\|$": (
                trained["after training"],
                {"color": "tab:blue", "lw": 2},
            ),
            f"after training: $f_{{t+1}} \\cdots f_T$ of unit {unit}": (
                trained[f"unit {unit}'s forget gates"],
                {"color": "tab:orange", "ls": "--"},
            ),
        },
    )
    ax.set(
        title="Gradient flow along the cell, before and after training (T = 100)",
        ylim=(1e-8, 10),
    )
    return fig


@figure(4, "Forget and output gates against the cell content, with and without peepholes")
def lecture04_peepholes():
    c_values = np.linspace(-3, 3, 61)
    set_seed(0)
    plain_gates = cell_flow.gates_against_cell(modules.LSTM(2, 16), c_values)
    set_seed(0)  # the same shared weights: the peephole weights are drawn after them
    peep_gates = cell_flow.gates_against_cell(modules.LSTM(2, 16, peephole=True), c_values)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for ax, name in zip(axes, ("f", "o"), strict=True):
        for k in range(3):  # three units
            ax.plot(c_values, getattr(plain_gates, name)[:, k], color=f"C{k}", ls="--")
            ax.plot(c_values, getattr(peep_gates, name)[:, k], color=f"C{k}", label=f"unit {k}")
        ax.set(
            xlabel="$c_{t-1}$ (cell content)",
            ylabel=f"${name}_t$",
            title=f"{'forget' if name == 'f' else 'output'} gate at $x_t = 0$, $h_{{t-1}} = 0$",
        )
    axes[0].legend(title="solid: peephole, dashed: plain", fontsize=8)
    fig.tight_layout()
    return fig
