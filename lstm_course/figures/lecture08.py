"""Lecture 8, attention: the figures of lectures/08_attention.ipynb."""

import functools

import matplotlib.pyplot as plt

from lstm_course.data.translation import DATE_FORMATS, random_dates
from lstm_course.experiments import attention as att
from lstm_course.experiments import seq2seq as s2s
from lstm_course.figures import figure
from lstm_course.train import final_plot
from lstm_course.widgets import alignment as alignment_widget

# The four ways the lecture writes one date (the notebook's ``examples``).
FORMATS = ["Tuesday, 3 March 1998", "Mar 3, 1998", "03.03.98", "3 mar 98"]


@functools.cache
def _dates():
    """The dates run: additive attention in Bahdanau's form (train_task seeds itself)."""
    return s2s.train_task(att.DATES, progress=False)


@functools.cache
def _reversal_runs():
    """The length study: reversal without attention and with the three scores."""
    return att.length_study(att.REVERSAL, progress=False)


def _date_examples():
    day = random_dates(1, seed=3)[0]
    return [DATE_FORMATS[name](day) for name in FORMATS]


@figure(8, "Training the dates model (additive attention): loss, validation exact match, grad norm")
def lecture08_dates_training():
    return final_plot(_dates().history, metrics=("val_exact",))


@figure(8, "Attention weights alpha_ij of the dates model on one day written in four formats")
def lecture08_date_alignments():
    dates = _dates()
    fig, axes = plt.subplots(
        2, 2, figsize=(13, 8), gridspec_kw={"width_ratios": [2.2, 1]}, layout="constrained"
    )
    for ax, source in zip(axes.flat, _date_examples(), strict=True):
        al = att.alignment(dates, source)
        image = att.plot_alignment(ax, al)
        ax.set_title(f"{source!r} -> {al.output!r}")
    fig.colorbar(image, ax=axes, label="attention weight alpha_ij", shrink=0.6)
    return fig


@figure(
    8,
    "Reversing 5-30 digits: exact match during training and by length, with and without attention",
)
def lecture08_length_study():
    runs = _reversal_runs()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    att.plot_training(axes[0], runs)
    axes[0].set_title("exact match on 200 validation strings during training")
    curves = att.length_curves(runs)
    att.plot_length_curves(axes[1], curves)
    axes[1].set_title(
        f"after {att.REVERSAL.steps} steps: exact match by length (1300 test strings)"
    )
    fig.tight_layout()
    return fig


@figure(8, "Alignments of the additive, dot and general scores reversing one 20-digit string")
def lecture08_reversal_alignments():
    runs = _reversal_runs()
    source = att.one_per_length(runs["additive"].test, [20])[0]
    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    for ax, name in zip(axes, ("additive", "dot", "general"), strict=True):
        al = att.alignment(runs[name], source)
        att.plot_alignment(ax, al)
        ax.set_title(f"{name}: {al.output == source[::-1] and 'right' or 'wrong'}")
    fig.suptitle(f"reversing {source!r}")
    fig.tight_layout()
    return fig


@figure(8, "The alignment explorer's first view: dates model, decoder step 1 and what it reads")
def lecture08_alignment_explorer():
    # The widget's defaults: the first model, its first example source, decoder step 1.
    al = att.alignment(_dates(), _date_examples()[0])
    i = 0
    height = 1.6 + 0.22 * len(al.tokens)
    fig, (top, bottom) = plt.subplots(
        2,
        1,
        figsize=(max(6.0, 0.3 * len(al.source) + 2), height + 1.2),
        gridspec_kw={"height_ratios": [height, 0.6]},
    )
    att.plot_alignment(top, al, step=i)
    alignment_widget.draw_source_weights(bottom, al, i)
    fig.tight_layout()
    return fig
