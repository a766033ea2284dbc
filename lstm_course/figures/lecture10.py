"""Lecture 10, the Neural Turing Machine: the figures of lectures/10_neural_turing_machine.ipynb.

The 10000-step NTM and LSTM runs are the shipped checkpoints (``load_shipped``), as in the
notebook; only its live run of 1500 steps is trained here.
"""

import functools

import matplotlib.pyplot as plt
import numpy as np

from lstm_course import set_seed
from lstm_course.experiments import ntm as ex
from lstm_course.figures import figure
from lstm_course.ntm.train import LSTM_COPY, NTM_COPY, build_model, load_shipped, train_copy
from lstm_course.train import final_plot
from lstm_course.widgets import ntm as ntm_widgets


@functools.cache
def _untrained_example():
    set_seed(0)
    # The notebook built one NTM and one LSTM (to count their weights) before this one, and
    # their initial weights came from the same global generator.
    for recipe in (NTM_COPY, LSTM_COPY):
        build_model(recipe, device="cpu")
    untrained = build_model(NTM_COPY, device="cpu")
    return ex.copy_example(untrained, L=6)


@functools.cache
def _live():
    set_seed(0)
    # The notebook leaves the device to lstm_course.device(); the CPU keeps the figure the same
    # on a machine with a GPU (the shipped runs were trained on the CPU too).
    _, live = train_copy(NTM_COPY.with_steps(1500), device="cpu", progress=False)
    return live


@functools.cache
def _shipped():
    set_seed(0)
    ntm, ntm_recipe, ntm_history = load_shipped("ntm_copy", device="cpu")
    lstm, lstm_recipe, lstm_history = load_shipped("lstm_copy", device="cpu")
    return ntm, ntm_recipe, ntm_history, lstm, lstm_recipe, lstm_history


@functools.cache
def _example():
    ntm = _shipped()[0]
    return ex.copy_example(ntm, L=12)


@figure(
    10,
    "The addressing stages on a toy memory: a jump by content (top), and a walk by gate, shift"
    " and sharpening (bottom)",
)
def lecture10_addressing_stages():
    fig, axes = plt.subplots(2, 4, figsize=(15, 5), sharey=True)
    for row, values in zip(
        axes,
        (dict(beta=10.0, g=1.0), dict(g=0.6, s_minus=0.1, s_plus=0.8, gamma=3.0)),
        strict=True,
    ):
        stages, w_prev = ntm_widgets.toy_addressing(**values)
        ntm_widgets.draw_stages(row, stages, w_prev)
    fig.tight_layout()
    return fig


@figure(
    10,
    "The addressing explorer at its defaults (beta = 5, g = 1, no shift, gamma = 1): the content"
    " weighting passes every stage unchanged",
)
def lecture10_addressing_explorer():
    stages, w_prev = ntm_widgets.toy_addressing()
    fig, axes = plt.subplots(1, 4, figsize=(15, 2.8), sharey=True)
    ntm_widgets.draw_stages(axes, stages, w_prev)
    fig.tight_layout()
    return fig


@figure(
    10,
    "The copy task with L = 6: inputs, targets, and the untrained NTM's outputs, about 1/2"
    " everywhere",
)
def lecture10_untrained_copy():
    example = _untrained_example()
    fig, axes = plt.subplots(3, 1, figsize=(8, 5.5), sharex=True)
    ex.plot_copy(axes, example)
    fig.tight_layout()
    return fig


@figure(10, "The live NTM run, 1500 steps of the copy task: training loss and gradient norm")
def lecture10_live_loss():
    return final_plot(_live(), metrics=())


@figure(
    10,
    "The shipped 10000-step runs: the NTM's loss falls suddenly after 4000 steps; NTM and LSTM"
    " bit errors against sequences seen",
)
def lecture10_shipped_runs():
    _, ntm_recipe, ntm_history, _, lstm_recipe, lstm_history = _shipped()
    live = _live()
    fig, axes = plt.subplots(1, 2, figsize=(14, 4))
    ex.plot_runs(
        axes[0],
        {"shipped NTM run": (ntm_history, 16), "live run above": (live, 16)},
        series="loss",
        window=50,
    )
    axes[0].set_yscale("log")
    axes[0].set_title("NTM: training loss")
    runs = {
        "NTM (batch 16)": (ntm_history, ntm_recipe.batch_size),
        "LSTM (batch 64)": (lstm_history, lstm_recipe.batch_size),
    }
    ex.plot_runs(axes[1], runs, series="bit_errors", window=100, per_sequence=True)
    axes[1].set_xscale("log")
    axes[1].set_title("bit errors per training sequence (L from 1 to 12)")
    fig.tight_layout()
    return fig


@figure(10, "The trained NTM copies a held-out sequence of 12 vectors with no bit wrong")
def lecture10_trained_copy():
    fig, axes = plt.subplots(3, 1, figsize=(9, 5.5), sharex=True)
    ex.plot_copy(axes, _example())
    fig.tight_layout()
    return fig


@figure(
    10,
    "The trained NTM on L = 12: the write and read heads walk the same locations, and the"
    " memory after the delimiter",
)
def lecture10_weightings_and_memory():
    example = _example()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.6), gridspec_kw={"width_ratios": [2, 2, 1]})
    ex.plot_weightings(axes[:2], example)
    image = ex.plot_memory(axes[2], example)
    fig.colorbar(image, ax=axes[2])
    fig.tight_layout()
    return fig


@figure(
    10,
    "What each head emits over the copy of L = 12: gate, mean shift and largest content weight",
)
def lecture10_head_outputs():
    example = _example()
    fig, axes = plt.subplots(1, 2, figsize=(14, 3.2), sharey=True)
    trace, steps = example.trace, np.arange(2 * example.L + 2)
    for ax, name, params in zip(
        axes, ("write", "read"), (trace.write_params, trace.read_params), strict=True
    ):
        mean_shift = params.s @ np.array([-1.0, 0.0, 1.0])
        ax.plot(steps, params.g[:, 0], marker="o", ms=3, label="gate g")
        ax.plot(steps, mean_shift, marker="o", ms=3, label="mean shift sum_o o s(o)")
        ax.plot(
            steps,
            trace.read.w_c.max(1) if name == "read" else trace.write.w_c.max(1),
            marker="o",
            ms=3,
            label="largest content weight max w^c",
        )
        ax.axvline(example.L + 1, color="gray", ls=":", label="delimiter")
        ax.set(title=f"{name} head", xlabel="time step t")
    axes[0].legend(loc="center left", fontsize=8)
    fig.tight_layout()
    return fig


@figure(
    10,
    "Bit errors per sequence against length: the NTM has at most 1 wrong up to L = 31, the"
    " LSTM only up to L = 9",
)
def lecture10_generalisation():
    ntm, ntm_recipe, _, lstm, _, _ = _shipped()
    lengths = range(1, 49)
    curves = ex.generalisation({"NTM": ntm, "LSTM": lstm}, lengths)
    fig, ax = plt.subplots(figsize=(10, 4.2))
    ex.plot_generalisation(ax, curves, train_max=ntm_recipe.max_len)
    ax.plot(lengths, [4 * L for L in lengths], color="gray", ls="--", lw=1, label="coin flips (4L)")
    ax.legend(loc="upper left")
    ax.set_title("bit errors per sequence against length")
    return fig


@figure(
    10,
    "The NTM's weightings on L = 40, past every training length: the heads still walk, one"
    " location per step",
)
def lecture10_long_copy_weightings():
    long = ex.copy_example(_shipped()[0], L=40)
    fig, axes = plt.subplots(1, 2, figsize=(15, 4))
    ex.plot_weightings(axes, long)
    fig.tight_layout()
    return fig


@figure(
    10,
    "The step explorer at its start (L = 12, t = 0): the weightings with the step cursor, and"
    " the memory after the first write",
)
def lecture10_step_explorer():
    example = _example()  # the widget's copy_example(ntm, 12, seed=0)
    t = 0
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.6), gridspec_kw={"width_ratios": [2, 2, 1]})
    ex.plot_weightings(axes[:2], example, step=t)
    ex.plot_memory(axes[2], example, step=t)
    fig.tight_layout()
    return fig
