"""Lecture 2, backpropagation through time: the figures of lectures/02_backprop_through_time.ipynb.

The examples are seeded NumPy problems (``bptt.char_problem``) and the echo runs seed
themselves (``EchoConfig.seed``), so each figure can be drawn alone with the notebook's numbers.
The notebook's widget (cell "explore") starts at the same gain, K and t as the static figure
before it, so ``lecture02_terms_and_truncation`` stands for both.
"""

import matplotlib.pyplot as plt

from lstm_course.analysis import bptt
from lstm_course.experiments import truncation
from lstm_course.figures import figure

TEXT = "backpropagation through time"  # the longer example of sections 6 and 7


@figure(2, "The terms of dE_3/dW_h, one per step k, and how they add up entry by entry")
def lecture02_contributions():
    problem = bptt.char_problem("hello", H=3, seed=0)
    _, grads_3 = bptt.gradients(problem, steps=[3])
    terms = bptt.contributions(problem, t=3, key="W_h")  # (3, H, H): row k - 1 is term k
    axes = bptt.plot_contributions(terms, grads_3["W_h"])
    fig = axes[0].figure
    fig.tight_layout()
    return fig


@figure(2, "Every term of dE_t/dW_h, the ones truncation with K = 8 drops, and ||ds_20/ds_k||")
def lecture02_terms_and_truncation():
    axes = bptt.plot_profile(bptt.char_problem(TEXT, H=16, gain=1.0, seed=0), 20, 8)
    fig = axes[0].figure
    fig.tight_layout()
    return fig


@figure(2, "Relative error of truncated BPTT against the window K, for gains 0.6 and 1.6")
def lecture02_truncation_error():
    Ks = [1, 2, 4, 8, 16, 27]
    errors = {
        gain: bptt.truncation_errors(bptt.char_problem(TEXT, H=16, gain=gain), Ks)
        for gain in (0.6, 1.6)
    }
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for gain, err in errors.items():
        ax.plot(Ks, err, "o-", label=f"gain {gain}")
    ax.set(
        xscale="log",
        xlabel="truncation window K (steps)",
        ylabel="relative error of dE/dW_h",
        title=f"truncated vs full BPTT, T = {len(TEXT) - 1}",
    )
    ax.set_xticks(Ks, [str(K) for K in Ks])
    ax.legend()
    return fig


@figure(2, "Echo of the bit d = 8 steps back: an LSTM learns it only with windows K > d")
def lecture02_echo_truncation():
    config = truncation.EchoConfig()
    results = truncation.run_truncation_experiment([4, 8, 9, 16], config, progress=False)
    axes = truncation.plot_echo_curves(results, config)
    fig = axes[0].figure
    fig.tight_layout()
    return fig
