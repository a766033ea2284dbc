"""Lecture 1, sequences and RNNs: the figures of lectures/01_sequences_and_rnns.ipynb.

Every experiment recipe seeds itself (seed 0, as in the notebook), so each figure can be drawn
alone and gives the notebook's numbers; each trained run is used by one figure only.
"""

import matplotlib.pyplot as plt

from lstm_course.experiments import patterns
from lstm_course.figures import figure
from lstm_course.widgets import unrolling


@figure(1, "Adding problem: MLPs on the last w steps against their floor, and an RNN on all")
def lecture01_window_experiment():
    window_result = patterns.window_experiment(
        T=20, windows=(1, 5, 10, 15, 20), steps=1500, progress=False
    )
    return patterns.plot_window_experiment(window_result)


@figure(1, "The RNN folded and unrolled over T = 4 steps: the same three matrices at every step")
def lecture01_folded_and_unrolled():
    fig, (ax_folded, ax_unrolled) = plt.subplots(1, 2, figsize=(10, 2.8), width_ratios=[1, 3.6])
    unrolling.draw_folded(ax_folded)
    ax_folded.set_title("folded (slides' names in brackets)", fontsize=10)
    unrolling.draw_unrolled(ax_unrolled, T=4)
    ax_unrolled.set_title(
        "unrolled over T = 4 steps: the same three matrices at every step", fontsize=10
    )
    return fig


@figure(1, "What one tanh unit remembers of a pulse: fading, latched or alternating with w_h")
def lecture01_pulse_memory():
    fig, ax = plt.subplots(figsize=(8, 3.4))
    unrolling.draw_pulse_memory(ax, (0.5, 0.9, 1.5, -0.9), w_x=1.0, T=15)
    return fig


@figure(1, "The unrolling widget at its start: a pulse fading through 12 steps with w_h = 0.9")
def lecture01_unrolling_widget():
    # the widget's defaults: unrolling_widget(T=12, w_x=1.0, w_h=0.9), "one pulse", t = T
    T, w_x, w_h = 12, 1.0, 0.9
    x = unrolling.input_sequence(unrolling.INPUTS[0], T)
    h = unrolling.state_trace(x, w_x, w_h)
    fig = plt.figure(figsize=(10, 5.2))
    unrolling.draw_step(fig, x, h, T, w_x, w_h)
    return fig


@figure(1, "Four ways to wire an RNN: one-to-one, one-to-many, many-to-one, many-to-many")
def lecture01_patterns():
    fig = plt.figure(figsize=(12, 2.3))
    unrolling.draw_patterns(fig)
    return fig


@figure(1, "One-to-one: an RNN with T = 1 learns sin(x), a feed-forward net in disguise")
def lecture01_one_to_one():
    one_to_one = patterns.one_to_one(hidden_size=16, steps=600, progress=False)
    return patterns.plot_one_to_one(one_to_one)


@figure(1, "One-to-many: from one frequency at step 1, the RNN generates the whole sine wave")
def lecture01_one_to_many():
    one_to_many = patterns.one_to_many(T=30, hidden_size=64, steps=1200, progress=False)
    return patterns.plot_one_to_many(one_to_many)


@figure(1, "Many-to-one: review sentiment, near perfect on trained lengths, worse on longer ones")
def lecture01_many_to_one():
    many_to_one = patterns.many_to_one(hidden_size=16, steps=600, progress=False)
    return patterns.plot_many_to_one(many_to_one)


@figure(1, "Many-to-many: binary addition bit by bit, exact on operands up to 60 bits")
def lecture01_many_to_many():
    many_to_many = patterns.many_to_many(hidden_size=16, n_bits=8, steps=600, progress=False)
    return patterns.plot_many_to_many(many_to_many)
