"""Lecture 6, a character-level language model: the figures of
lectures/06_char_language_model.ipynb."""

import functools

import matplotlib.pyplot as plt
import numpy as np

from lstm_course import set_seed
from lstm_course.analysis import units
from lstm_course.experiments import char_lm
from lstm_course.figures import figure
from lstm_course.widgets import sampling


@functools.cache
def _run():
    """The lecture's training run: the default recipe on the stdlib docstrings (about 90 s)."""
    set_seed(0)
    config = char_lm.CharLMConfig()
    data = char_lm.load_char_data(config)
    return char_lm.train_char_lm(config, data, progress=False)


@figure(6, "Character LSTM: training and validation bits per character against n-gram baselines")
def lecture06_bpc_curve():
    run = _run()
    val_baselines = char_lm.held_out_bpc(run.data, split="val", n_chars=run.config.eval_chars + 1)
    fig, ax = plt.subplots(figsize=(9, 4.2))
    char_lm.plot_bpc(ax, run.history, val_baselines)
    ax.set_ylim(1.5, 5.0)
    return fig


@figure(6, "The bits the trained LSTM spends on each character of an unseen sentence")
def lecture06_char_bits():
    run = _run()
    sentence = "Return the number of bytes written to the file."
    ids = run.data.vocab.encode(sentence)
    bits = char_lm.char_nll(run.model, ids, tracks=1).numpy() / np.log(2)
    fig, ax = plt.subplots(figsize=(12, 2.6))
    char_lm.plot_char_bits(ax, sentence, bits)
    ax.set_title(f"{sentence!r}: {bits.sum():.1f} bits in all, {bits.mean():.2f} per character")
    return fig


@figure(6, "What a wiped memory costs: extra bits at each position k after a reset to zero")
def lecture06_wiped_memory():
    run = _run()
    wiped = char_lm.wiped_memory(run.model, run.data.ids.test[:40_000], length=256)
    fig, ax = plt.subplots(figsize=(9, 3.8))
    char_lm.plot_wiped_memory(ax, wiped, seq_len=run.config.seq_len)
    return fig


@figure(6, "The next-character distribution after 'Return the ' at temperature 1 (the widget)")
def lecture06_next_char():
    run = _run()
    # sampling_explorer's initial state: prompt "Return the ", tau = 1, k = 12 bars.
    temperature = 1.0
    dist = sampling.next_char_distribution(
        run.model, run.data.vocab, "Return the ", temperature, k=12
    )
    fig, ax = plt.subplots(figsize=(8, 2.6))
    sampling.draw_next_char(ax, dist, temperature)
    return fig


@figure(6, "Single LSTM cells that track the line position, brackets and quotes on test text")
def lecture06_unit_passages():
    run = _run()
    n = 20_000
    val_text, test_text = run.data.text.val[:n], run.data.text.test[:n]
    vocab = run.data.vocab
    val_states = units.record_states(run.model, vocab.encode(val_text))
    test_states = units.record_states(run.model, vocab.encode(test_text))
    val_signals, test_signals = units.text_signals(val_text), units.text_signals(test_text)
    matches = units.find_units(val_states, val_signals)
    best = {}
    for m in matches:
        best.setdefault(m.signal, m)  # matches are sorted by |r|: keep the first of each signal
    return units.draw_unit_passages(list(best.values()), test_text, test_states, test_signals)
