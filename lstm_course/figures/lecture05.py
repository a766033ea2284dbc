"""Lecture 5, GRU and other variants: the figures of lectures/05_gru_and_variants.ipynb.

The explorer that sets two ablation models side by side starts at vanilla against NFG, seed 0,
sequence 2, and so draws ``lecture05_vanilla_vs_nfg``: it has no figure of its own.
"""

import functools

import matplotlib.pyplot as plt

from lstm_course.diagrams import draw_rnn
from lstm_course.experiments import ablation
from lstm_course.figures import figure


@figure(5, "A stacked, a bidirectional and a stacked bidirectional LSTM unrolled, with h_n")
def lecture05_deep_and_bidirectional():
    fig, axes = plt.subplots(1, 3, figsize=(16, 6.2))
    draw_rnn(axes[0], T=3, num_layers=2, title="LSTM(D, H, num_layers=2)")
    draw_rnn(axes[1], T=3, bidirectional=True, title="LSTM(D, H, bidirectional=True)")
    draw_rnn(
        axes[2],
        T=3,
        num_layers=2,
        bidirectional=True,
        title="LSTM(D, H, num_layers=2, bidirectional=True)",
    )
    fig.tight_layout()
    return fig


@figure(5, "Peak tagging: a bidirectional LSTM passes the 7/8 ceiling of any left-to-right model")
def lecture05_peak_tagging():
    histories = {}
    for bidirectional in (False, True):
        label = "bidirectional LSTM" if bidirectional else "left-to-right LSTM"
        histories[label] = ablation.train_peak(
            bidirectional, hidden_size=16, steps=300, lr=2e-2, progress=False
        )
    return ablation.plot_peak(histories).figure


@functools.cache
def _latch():
    """Cell 24: the ablation's settings and its validation set (1000 latch sequences)."""
    config = ablation.AblationConfig()
    return config, ablation.LatchTask(config.n_val, config.T, config.p_mark, seed=999)


@functools.cache
def _ablation_results():
    """Cell 26: 8 models x 3 seeds on the latch task, each run seeded by itself."""
    config, _ = _latch()
    return ablation.run_ablation(config, progress=False)


@figure(5, "The latch task: hold the value seen at the last marker (one validation sequence)")
def lecture05_latch_task():
    _, val = _latch()
    return ablation.plot_predictions(val[2], {}).figure


@figure(5, "Latch-task ablation: validation MSE of the LSTM, five variants, b_f = 0 and the GRU")
def lecture05_ablation_curves():
    _, val = _latch()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ablation.plot_curves(_ablation_results(), ax=ax, baseline=val.baseline_mse)
    ax.set_title("latch task: mean over 3 seeds (thick), each seed (thin)")
    return fig


@figure(5, "Vanilla LSTM against no forget gate (NFG): learning curves and a validation sequence")
def lecture05_vanilla_vs_nfg():
    _, val = _latch()
    return ablation.compare(_ablation_results(), val, "vanilla", "NFG", seed=0, index=2)
