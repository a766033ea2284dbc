"""Lecture 11, learning to execute and binary addition: the figures of
lectures/11_learning_to_execute.ipynb."""

import functools

import matplotlib.pyplot as plt

from lstm_course import set_seed
from lstm_course.analysis import carry as ca
from lstm_course.data import BinaryAddition
from lstm_course.experiments import binary_addition as ba
from lstm_course.experiments import execute as ex
from lstm_course.figures import figure
from lstm_course.train import final_plot
from lstm_course.widgets import execute as widgets


@functools.cache
def _adder():
    set_seed(0)
    return ba.train_adder(ba.AdderSetup(), progress=False)


@functools.cache
def _carry():
    """The states of 1000 additions of 16-bit numbers, their carries and the carry's code."""
    model = _adder().model
    test_x = BinaryAddition(1000, 16, seed=123).x.transpose(0, 1)  # (T, B, 2) = (17, 1000, 2)
    states, _ = ca.hidden_states(model, test_x)  # (17, 1000, 8)
    s, c = ca.carries(test_x)
    r = ca.carry_correlations(states, c)
    direction = ca.carry_direction(states, c)
    return states, s, c, r, direction


@functools.cache
def _runs():
    set_seed(0)
    return {
        seed: ex.compare_strategies(ex.with_budget(ex.LECTURE, seed=seed), progress=False)
        for seed in (0, 1)
    }


@figure(
    11,
    "Training a tanh RNN with 8 units on 8-bit additions: loss, bit accuracy and gradient norm",
)
def lecture11_adder_training():
    return final_plot(_adder().history, metrics=("bit_acc",))


@figure(11, "The trained RNN adds 1000 pairs of 8-, 16-, 32- and 62-bit numbers without a mistake")
def lecture11_adder_generalisation():
    generalisation = ba.length_generalisation(_adder().model)
    fig, ax = plt.subplots(figsize=(6, 3))
    ba.plot_generalisation(generalisation, trained_bits=8, ax=ax)
    ax.set_title("a tanh RNN with 8 units, trained on 8-bit additions")
    return fig


@figure(
    11,
    "Where the adder keeps the carry: one unit (r = -0.990), a direction that separates all"
    " states, and clusters by (sum bit, carry)",
)
def lecture11_carry_code():
    states, s, c, r, direction = _carry()
    return ba.plot_carry_code(states, s, c, r, direction)


@figure(
    11,
    "The adder explorer on (2^40 - 1) + 1: the carry score stays positive through 40 carries"
    " and drops with the last one",
)
def lecture11_adder_explorer():
    direction = _carry()[4]
    view = widgets.adder_view(_adder().model, 2**40 - 1, 1, direction)
    fig, ax = plt.subplots(figsize=(8, 2.6))
    widgets.draw_carry(ax, view)
    return fig


@figure(
    11,
    "Four curricula for learning to execute, 800 steps: training loss, and held-out"
    " per-character accuracy on two seeds",
)
def lecture11_curricula_training():
    runs = _runs()
    fig, (ax_loss, ax_curve) = plt.subplots(1, 2, figsize=(12, 3.6))
    ex.plot_losses(ax_loss, runs[0])
    ax_loss.set_title("training loss, seed 0 (each on its own examples)")
    ex.plot_curves(ax_curve, runs[0])
    ex.plot_curves(ax_curve, runs[1], ls="--", labels=False)
    ax_curve.set_title("held-out (1, 3) programs: seed 0 solid, seed 1 dashed; v = next level")
    ax_curve.legend(fontsize=8)
    fig.tight_layout()
    return fig


@figure(
    11,
    "Per-character accuracy and exact match of the four strategies on 500 held-out programs,"
    " two seeds",
)
def lecture11_curricula_scores():
    runs = _runs()
    scores = {
        seed: {name: ex.final_scores(run) for name, run in by_name.items()}
        for seed, by_name in runs.items()
    }
    fig, (ax_char, ax_exact) = plt.subplots(1, 2, figsize=(12, 3.4))
    ex.plot_scores(ax_char, scores, "char")
    ex.plot_scores(ax_exact, scores, "exact")
    fig.suptitle("500 held-out programs of difficulty (1, 3), after 800 steps")
    fig.tight_layout()
    return fig
