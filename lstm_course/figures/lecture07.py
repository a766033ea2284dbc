"""Lecture 7, sequence to sequence: the figures of lectures/07_sequence_to_sequence.ipynb."""

import functools

import matplotlib.pyplot as plt

from lstm_course import set_seed
from lstm_course.experiments import seq2seq as s2s
from lstm_course.figures import figure
from lstm_course.train import final_plot
from lstm_course.widgets import beam as beam_widget


@functools.cache
def _date_pairs():
    set_seed(0)
    return s2s.task_pairs(s2s.DATES)


@functools.cache
def _dates(reverse_source):
    """The dates recipe, sources as written or reversed (train_task seeds the model itself)."""
    return s2s.train_task(
        s2s.DATES, reverse_source=reverse_source, progress=False, pairs=_date_pairs()
    )


@functools.cache
def _copy():
    """{"as written": Run, "reversed": Run} of the copying recipe."""
    set_seed(0)
    return s2s.reversal_trick(s2s.COPY, progress=False)


@figure(7, "Dates to ISO, as written: training loss, exact match and gradient norm")
def lecture07_dates_training():
    return final_plot(_dates(False).history, metrics=("val_exact",))


@figure(7, "Reversing the source: exact match during training, for dates and for copying")
def lecture07_reversal_exact_match():
    dates = {"as written": _dates(False), "reversed": _dates(True)}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    s2s.plot_exact_match(axes[0], dates, "dates -> ISO (year last in, first out)")
    s2s.plot_exact_match(axes[1], _copy(), "copying 5-15 digits (monotone)")
    fig.suptitle("exact match on 200 test pairs during training, same data, seed and budget")
    fig.tight_layout()
    return fig


@figure(7, "p(<eos>) at each greedy decoder step: tiny until the output is complete, then ~1")
def lecture07_eos_probabilities():
    fig, axes = plt.subplots(1, 2, figsize=(13, 3))
    examples = [(_dates(False), "3 March 1998"), (_copy()["reversed"], "402719315")]
    for ax, (example_run, source) in zip(axes, examples, strict=True):
        beam_widget.draw_eos(ax, beam_widget.beam_report(example_run, source), logy=True)
        ax.set_title(f"{source!r}")
    fig.tight_layout()
    return fig


@figure(7, "The beam widget's first view: p(<eos>) along the greedy path of a copy example")
def lecture07_beam_explorer():
    copy = _copy()
    runs = {
        "copy, reversed source": copy["reversed"],
        "copy, as written": copy["as written"],
        "dates": _dates(False),
    }
    # beam_explorer's initial state: the first model and its first example source, width 3,
    # alpha 0, and max_len the longest decode length of the three models.
    run = runs["copy, reversed source"]
    source = run.test[0][0]
    max_len = max(s2s.decode_len(r.setup) for r in runs.values())
    report = beam_widget.beam_report(run, source, 3, 0.0, max_len)
    fig, ax = plt.subplots(figsize=(8, 2.6))
    beam_widget.draw_eos(ax, report, max_len, logy=True)
    ax.set_title("greedy path: the probability of stopping at each step")
    return fig
