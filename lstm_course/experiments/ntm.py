"""Lecture 10's experiments: inside a trained NTM on the copy task, and how far the NTM and an
LSTM generalise to sequences longer than any they were trained on.

    example = copy_example(model, L=20)          # one held-out sequence, every step traced
    plot_copy(axes, example)                      # inputs, targets, outputs (Graves' figure 4)
    plot_weightings(axes, example)                # write / read weightings over time (figure 6)
    read_follows_write(example)                   # 1.0: the reads replay the writes in order
    curves = generalisation({"NTM": ntm, "LSTM": lstm}, range(1, 41))
    generalises_up_to(curves["NTM"])              # longest L with <= 1 bit wrong up to it
    errors_along_copy(ntm, L=40)                  # which part of a long copy goes wrong
    by_batch_length(history, recipe)              # a run's bit errors by training length

The models are trained by ``lstm_course.ntm.train`` (a live run, or the shipped checkpoints).
matplotlib is imported inside the plotting functions.
"""

from typing import NamedTuple

import numpy as np
import torch

from lstm_course.ntm.copy_task import (
    CopyBatches,
    bit_errors,
    copy_batch,
    errors_by_length,
    held_out_seed,
)
from lstm_course.ntm.model import NTM


class CopyExample(NamedTuple):
    """One copy sequence through a model. T = 2L + 2 steps.

    x: (T, n_bits + 2) inputs. y: (T, n_bits) targets. p: (T, n_bits) the model's output
    probabilities sigmoid(y_hat). mask: (T,) the copy steps. L: vectors copied.
    errors: wrong bits (10.12). trace: the NTM's ``NTMTrace`` with the batch axis dropped
    (w (T, N), M (T, N, W), params (T, ...)), or None for a model without memory.
    """

    x: np.ndarray
    y: np.ndarray
    p: np.ndarray
    mask: np.ndarray
    L: int
    errors: float
    trace: object


def _drop_batch(value):
    """A trace (nested NamedTuples of (T, 1, ...) tensors) as NumPy arrays (T, ...)."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return value[:, 0].cpu().numpy()
    return type(value)(*(_drop_batch(v) for v in value))


@torch.no_grad()
def copy_example(model, L, seed=0, n_bits=None):
    """Run ``model`` on one held-out copy sequence of L vectors; trace it if it is an NTM.

    Args:
        model: an ``NTM`` or a ``SequenceModel``. L: the length. seed: picks the sequence.
        n_bits: default: the model's output size.
    Returns:
        a ``CopyExample``.
    """
    n_bits = n_bits or (
        model.config.output_size if isinstance(model, NTM) else model.out.out_features
    )
    device = next(model.parameters()).device
    batch = copy_batch(1, L, n_bits, held_out_seed(seed, L) + 500)
    x = batch.x.to(device)
    model.eval()
    if isinstance(model, NTM):
        y_hat, _, trace = model(x, trace=True)
    else:
        (y_hat, _), trace = model(x), None
    errors = bit_errors(y_hat.cpu(), batch.y, batch.mask).item()
    return CopyExample(
        x=batch.x[:, 0].numpy(),
        y=batch.y[:, 0].numpy(),
        p=torch.sigmoid(y_hat[:, 0]).cpu().numpy(),
        mask=batch.mask[:, 0].numpy(),
        L=L,
        errors=errors,
        trace=_drop_batch(trace),
    )


def written_locations(example, delay=0):
    """Where each input vector went: the write head's focus argmax_i w^w_t(i) at the steps
    t = 1 + delay, ..., L + delay.

    ``delay`` = 1 when the controller writes vector j one step after it arrives (it holds it in
    its LSTM state for a step, and the last vector is written at the delimiter step L + 1).
    Returns:
        (L,) int array of locations.
    """
    if delay not in (0, 1):
        raise ValueError(f"delay must be 0 or 1, got {delay!r}")
    return example.trace.write.w[1 + delay : example.L + 1 + delay].argmax(axis=1)


def read_locations(example):
    """Where the read head looks at each of the L copy steps: argmax_i w^r_t(i), (L,) ints."""
    return example.trace.read.w[example.mask].argmax(axis=1)


def read_follows_write(example, delay=None):
    """The share of copy steps j whose read focus is the location vector j was written to.

    1.0 when the read head replays the write head's path in order. ``delay``: as in
    ``written_locations``; None takes whichever of 0 and 1 matches more steps (0 on a tie).
    """
    reads = read_locations(example)
    delays = (0, 1) if delay is None else (delay,)
    return max(float(np.mean(reads == written_locations(example, d))) for d in delays)


def write_delay(example):
    """0 or 1: the delay of ``written_locations`` under which the read head's path matches the
    write head's path best (0 on a tie)."""
    reads = read_locations(example)
    matches = [np.mean(reads == written_locations(example, d)) for d in (0, 1)]
    return int(matches[1] > matches[0])


def generalisation(models, lengths, n_sequences=64, seed=0):
    """Bit errors per sequence at each length, for each model.

    Args:
        models: {name: model}. lengths: the L to test. n_sequences: per length.
    Returns:
        {name: {L: mean bit errors per sequence}}.
    """
    return {
        name: errors_by_length(model, lengths, n_sequences, _n_bits(model), seed)
        for name, model in models.items()
    }


def _n_bits(model):
    return model.config.output_size if isinstance(model, NTM) else model.out.out_features


@torch.no_grad()
def errors_along_copy(model, L, n_parts=5, n_sequences=64, seed=0):
    """Where in the copy the bit errors (10.12) are: the copy of L vectors cut into ``n_parts``
    consecutive parts (vectors 1 to about L / n_parts, ...), mean bit errors per sequence in
    each. The sequences are ``errors_by_length``'s for this L and seed.

    Returns:
        a list of ``n_parts`` floats; their sum is the mean bit errors per sequence.
    """
    if not 1 <= n_parts <= L:
        raise ValueError(f"n_parts must lie in [1, L] = [1, {L}], got {n_parts}")
    device = next(model.parameters()).device
    batch = copy_batch(n_sequences, L, _n_bits(model), held_out_seed(seed, L))
    was_training = model.training
    model.eval()
    try:
        y_hat, _ = model(batch.x.to(device))
    finally:
        model.train(was_training)
    copy = slice(L + 2, 2 * L + 2)  # the L copy steps
    wrong = (y_hat[copy].cpu() > 0).to(batch.y.dtype) != batch.y[copy]  # (L, B, n_bits)
    per_vector = wrong.sum(dim=(1, 2)).double().numpy() / n_sequences  # (L,)
    return [float(part.sum()) for part in np.array_split(per_vector, n_parts)]


def generalises_up_to(curve, max_errors=1.0):
    """The longest L such that every tested length up to L has at most ``max_errors`` bit
    errors per sequence (mean over the test sequences); 0 if the shortest length fails.

    Args:
        curve: {L: mean bit errors per sequence}, as one entry of ``generalisation``.
    """
    if not curve:
        raise ValueError("curve is empty: test at least one length")
    longest = 0
    for L in sorted(curve):
        if curve[L] > max_errors:
            break
        longest = L
    return longest


def running_mean(values, window):
    """The mean of each ``window`` consecutive values (fewer at the start): a noisy per-step
    series smoothed for a plot. Returns an array as long as ``values``."""
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    values = np.asarray(values, dtype=float)
    sums = np.concatenate([[0.0], np.cumsum(values)])  # sums[i]: the first i values
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def by_batch_length(history, recipe, series="bit_errors", last=None):
    """The mean of a per-step series over the training batches of each length L.

    The batches of a ``train_copy`` run are ``CopyBatches`` of its recipe, so their lengths
    are known from the recipe alone.

    Args:
        history: the run's History. recipe: its CopyRecipe. series: "loss" or "bit_errors".
        last: only the last ``last`` steps (default: all).
    Returns:
        {L: mean over that run's batches of length L}, for the lengths that occurred.
    """
    batches = CopyBatches(
        recipe.steps, recipe.batch_size, recipe.min_len, recipe.max_len, recipe.n_bits, recipe.seed
    )
    lengths = batches.lengths[: history.steps]  # a run stopped early saw the first batches
    values = np.asarray(history.series(series)[1])
    start = 0 if last is None else max(0, history.steps - last)
    lengths, values = lengths[start:], values[start:]
    return {int(L): float(values[lengths == L].mean()) for L in np.unique(lengths)}


def plot_runs(ax, runs, series="bit_errors", window=100, per_sequence=False):
    """A per-step series of several runs, smoothed by ``running_mean``, one line per run.

    Args:
        runs: {name: (History, batch size B)}. series: "loss" or the metric "bit_errors".
        per_sequence: put the sequences seen (step x B) on the x axis instead of the step, to
            compare runs that differ in batch size on the same data budget.
    """
    for name, (history, B) in runs.items():
        steps, values = history.series(series)
        x = np.asarray(steps) * (B if per_sequence else 1)
        ax.plot(x, running_mean(values, window), lw=1.2, label=name)
    ax.set(
        xlabel="sequences seen" if per_sequence else "step",
        ylabel=f"{series.replace('_', ' ')} (mean of {window} steps)",
    )
    ax.legend(loc="upper right")
    return ax


def plot_generalisation(ax, curves, train_max):
    """Bit errors per sequence against L, one line per model, training lengths shaded."""
    for name, curve in curves.items():
        ax.plot(list(curve), list(curve.values()), marker="o", ms=3, label=name)
    ax.axvspan(0.5, train_max + 0.5, color="0.9", label=f"training lengths 1-{train_max}")
    ax.set(xlabel="sequence length L (vectors to copy)", ylabel="bit errors per sequence")
    ax.legend(loc="upper left")
    return ax


def plot_copy(axes, example):
    """Graves' figure 4: inputs, targets and outputs, bits (rows) over time (columns).

    Args:
        axes: three matplotlib axes.
    """
    panels = [
        ("inputs x_t (last two rows: start, delimiter)", example.x),
        ("targets", example.y),
        (f"outputs sigmoid(y_hat_t): {example.errors:.0f} bits wrong", example.p),
    ]
    from matplotlib.ticker import MaxNLocator

    for ax, (title, data) in zip(axes, panels, strict=True):
        ax.imshow(data.T, cmap="gray_r", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
        ax.set(title=title, ylabel="channel")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1].set_xlabel("time step t")
    return axes


def _rows_used(example, margin=3):
    """How many locations to draw: up to the last one either head focused on, plus a margin.

    A head focuses at step t when its largest weight is above 1/2; its location is then the
    argmax. (The argmax of a spread weighting, like an idle read head's, can be anywhere, and
    a shift of -1 from location 0 leaves a little weight at N - 1: neither should stretch the
    plot to all N rows.)
    """
    trace = example.trace
    N = trace.write.w.shape[1]
    last = 0
    for w in (trace.write.w, trace.read.w):
        focused = w.max(axis=1) > 0.5
        if focused.any():
            last = max(last, int(w[focused].argmax(axis=1).max()))
    return int(min(N, last + 1 + margin))


def plot_weightings(axes, example, rows=None, step=None):
    """Graves' figure 6: the write and read weightings, location (rows) over time (columns).

    Args:
        axes: two axes. rows: locations to show (default: those used, plus a margin).
        step: draw a vertical line at this time step (the widget's cursor).
    """
    rows = rows or _rows_used(example)
    trace = example.trace
    for ax, name, w in zip(axes, ("write", "read"), (trace.write.w, trace.read.w), strict=True):
        ax.imshow(w[:, :rows].T, cmap="gray_r", vmin=0, vmax=1, aspect="auto", origin="lower")
        ax.set(
            title=f"{name} weighting w^{name[0]}_t(i)", xlabel="time step t", ylabel="location i"
        )
        if step is not None:
            ax.axvline(step, color="tab:red", lw=1)
    return axes


def plot_memory(ax, example, step=None, rows=None):
    """The memory M_t after step ``step``'s write (default: after the delimiter, t = L + 1)."""
    step = example.L + 1 if step is None else step
    rows = rows or _rows_used(example)
    M = example.trace.M[step, :rows]  # (rows, W)
    limit = max(np.abs(M).max(), 1e-6)
    image = ax.imshow(M, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", origin="lower")
    ax.set(title=f"memory M_t after step t = {step}", xlabel="column j (of W)", ylabel="location i")
    return image
