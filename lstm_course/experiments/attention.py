"""Lecture 8's experiments: attention against the fixed-size bottleneck, and where it looks.

* ``length_study``: reverse digit strings of length 5..30 with no attention and with the
  additive, dot and general scores, same data, seed and budget; exact match by length gives
  the shape of Bahdanau et al.'s figure 2 (without attention, accuracy falls with length).
* ``alignment``: the weights alpha_ij a trained model put on each source symbol j while it
  wrote target symbol i, in the source's written order (dates: which characters it reads to
  write the year; reversal: the anti-diagonal).
* ``time_per_step``: the cost of Bahdanau's form (a Python loop over target steps) against
  Luong's (one LSTM call and one batched attention for all steps).

Recipes are ``TaskSetup``s of ``lstm_course.experiments.seq2seq``.
"""

import time
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import torch

from lstm_course.data.pairs import PairDataset, make_pair_loader
from lstm_course.experiments.seq2seq import (
    TaskSetup,
    decode_len,
    make_model,
    task_pairs,
    train_task,
    vocabularies,
)
from lstm_course.seq2seq import accuracy_by_length, encode_sources, greedy, seq2seq_loss

# Reversal of 5..30 digits: Luong's form for speed, learning-rate decay for stability (with a
# constant 1e-2 the attention models' loss jumps back up late in training).
REVERSAL = TaskSetup(
    task="reversal",
    min_len=5,
    max_len=30,
    n_test=1300,
    hidden_size=64,
    form="luong",
    steps=800,
    lr=1e-2,
    lr_decay=0.1,
    eval_every=100,
    bucket=True,
)
# Dates with Bahdanau's additive attention in Bahdanau's form, for the alignment maps.
DATES = TaskSetup(task="dates", attention="additive", form="bahdanau", steps=400, lr_decay=0.1)

NAMES = {None: "no attention", "additive": "additive", "dot": "dot", "general": "general"}
COLORS = {
    "no attention": "tab:red",
    "additive": "tab:blue",
    "dot": "tab:green",
    "general": "tab:purple",
}


def length_study(setup=REVERSAL, attentions=(None, "additive", "dot", "general"), progress=True):
    """Train one model per attention score on the same data, seed and budget.

    Returns:
        {name: Run}, names from ``NAMES`` ("no attention", "additive", "dot", "general").
    """
    pairs = task_pairs(setup)
    return {
        NAMES[a]: train_task(replace(setup, attention=a), progress=progress, pairs=pairs)
        for a in attentions
    }


def length_curves(runs, setup=REVERSAL):
    """{name: {source length: exact match}} on each run's test pairs (greedy)."""
    return {
        name: accuracy_by_length(run.model, run.test, run.dataset, decode_len(setup))
        for name, run in runs.items()
    }


def accuracy_in_range(curve, lo, hi):
    """Mean exact match over the lengths lo..hi of a length curve (each length weighs alike)."""
    values = [acc for n, acc in curve.items() if lo <= n <= hi]
    if not values:
        raise ValueError(f"no length in [{lo}, {hi}]; the curve has {sorted(curve)}")
    return float(np.mean(values))


def reliable_up_to(curve, level):
    """The longest length n such that every length up to n has exact match >= level
    (0 if even the shortest falls below it)."""
    longest = 0
    for n in sorted(curve):
        if curve[n] < level:
            break
        longest = n
    return longest


def plot_length_curves(ax, curves, train_range=None):
    """Exact match against source length, one line per model, on one axis."""
    for name, curve in curves.items():
        lengths = sorted(curve)
        acc = 100 * np.array([curve[n] for n in lengths])
        ax.plot(lengths, acc, "o-", ms=3, label=name, color=COLORS.get(name))
    if train_range is not None:
        ax.axvspan(*train_range, color="gray", alpha=0.08, label="training lengths")
    ax.set(xlabel="source length (digits)", ylabel="exact match (%)", ylim=(-3, 103))
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_training(ax, runs):
    """Validation exact match against step for each run (one axis)."""
    for name, run in runs.items():
        steps, exact = run.history.series("val_exact")
        ax.plot(steps, 100 * np.asarray(exact), "o-", ms=3, label=name, color=COLORS.get(name))
    ax.set(xlabel="training step", ylabel="exact match on validation (%)", ylim=(-3, 103))
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


# ----- alignments -----


class Alignment(NamedTuple):
    """Where a model looked while it translated one source.

    Attributes:
        source: the source str as written. output: the decoded str (greedy).
        tokens: the output tokens, one per decoder step, "<eos>" last if it stopped.
        weights: (len(tokens), len(source)) float64; row i is alpha_i of eq. (8.2), the
            weights used to write tokens[i], with columns in the source's written order
            (un-reversed if the model reads sources backwards).
    """

    source: str
    output: str
    tokens: list
    weights: np.ndarray


def alignment(run, source, max_len=None):
    """Greedy-decode ``source`` and return the attention weights of every step."""
    if run.model.attention is None:
        raise ValueError("alignment needs a model with attention; this one has none")
    (src,) = encode_sources([source], run.dataset)
    max_len = max_len or max(len(t) for _, t in run.test) + 2
    ids, weights = greedy(run.model, src[:, None], torch.tensor([len(src)]), max_len)
    ids = ids[:, 0].tolist()
    n = ids.index(2) + 1 if 2 in ids else len(ids)  # up to and including <eos>
    alpha = weights[:n, :, 0].double().numpy()  # (n, S)
    if run.dataset.reverse_source:
        alpha = alpha[:, ::-1]
    tokens = [run.dataset.tgt_vocab.itos[i] for i in ids[:n]]
    return Alignment(source, run.dataset.tgt_vocab.decode(ids), tokens, np.ascontiguousarray(alpha))


def plot_alignment(ax, al, step=None, cmap="Greys"):
    """The alignment as a heat map: output tokens down, source characters across.

    Args:
        ax: a matplotlib axis. al: an ``Alignment``. step: a row to outline, or None.
    Returns:
        the image (for a colorbar).
    """
    image = ax.imshow(al.weights, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(al.source)), [c if c != " " else "␣" for c in al.source])
    ax.set_yticks(range(len(al.tokens)), al.tokens)
    ax.set(xlabel="source character j", ylabel="output token i")
    if step is not None:
        ax.add_patch(
            _rectangle((-0.5, step - 0.5), len(al.source), 1.0, fill=False, ec="tab:red", lw=2)
        )
    return image


def _rectangle(*args, **kwargs):
    from matplotlib.patches import Rectangle

    return Rectangle(*args, **kwargs)


def year_attention(al):
    """(4, S) weights of the four steps that write the year of an ISO date, and their sum (S,)."""
    if len(al.tokens) < 4:
        raise ValueError(f"the output {al.output!r} is too short to hold a year")
    rows = al.weights[:4]
    return rows, rows.sum(0)


def year_share(al):
    """The share of the attention of the four steps that write an ISO year that falls on the
    year as written in the source (every date format ends with it: "1998" or "98")."""
    digits = len(al.source) - len(al.source.rstrip("0123456789"))
    if digits == 0:
        raise ValueError(f"the source {al.source!r} does not end with a year")
    rows, _ = year_attention(al)
    return float(rows[:, len(al.source) - digits :].sum() / len(rows))


def mirror_offsets(al):
    """Where each step of a reversal looks, relative to the symbol it copies.

    Output symbol i (0-based) of a reversal copies source position S - 1 - i. The offset is
    argmax_j alpha_ij - (S - 1 - i): 0 when the step looks at that very symbol, +1 when it
    looks one position later (a forward encoder's h_{j+1} still holds x_j).

    Returns:
        (min(S, number of symbols written),) int array, <eos> excluded.
    """
    S = len(al.source)
    steps = min(S, len(al.tokens) - (al.tokens[-1] == "<eos>"))
    return np.array([int(al.weights[i].argmax()) - (S - 1 - i) for i in range(steps)])


def offset_shares(run, sources):
    """The share of reversal steps (over all ``sources``) whose most attended source symbol
    is the mirrored one (offset 0), the one after it (+1), or another ("other")."""
    offsets = np.concatenate([mirror_offsets(alignment(run, s)) for s in sources])
    return {
        0: float(np.mean(offsets == 0)),
        1: float(np.mean(offsets == 1)),
        "other": float(np.mean((offsets != 0) & (offsets != 1))),
    }


def one_per_length(pairs, lengths):
    """The first source of each length in ``lengths`` (skipping lengths absent from pairs)."""
    first = {}
    for source, _ in pairs:
        first.setdefault(len(source), source)
    return [first[n] for n in lengths if n in first]


# ----- cost of the two forms -----


def time_per_step(setup=REVERSAL, attention="additive", steps=5, forms=("bahdanau", "luong")):
    """Milliseconds of CPU time per training step (forward, backward, Adam) for each form.

    Process CPU time (``time.process_time``), the median of ``steps`` steps after one warm-up.
    """
    small = replace(setup, n_train=setup.batch_size * (steps + 1), n_test=10, n_val=1)
    train, _ = task_pairs(small)
    src_vocab, tgt_vocab = vocabularies(setup)
    dataset = PairDataset(train, src_vocab, tgt_vocab)
    batches = list(make_pair_loader(dataset, setup.batch_size, seed=setup.seed))
    result = {}
    for form in forms:
        model = make_model(replace(setup, attention=attention, form=form), dataset)
        optimizer = torch.optim.Adam(model.parameters(), lr=setup.lr)
        times = []
        for batch in batches[: steps + 1]:
            start = time.process_time()
            optimizer.zero_grad()
            loss, _ = seq2seq_loss(model, batch)
            loss.backward()
            optimizer.step()
            times.append(time.process_time() - start)
        result[form] = 1000 * float(np.median(times[1:]))
    return result
