"""What truncated BPTT cannot learn: an echo task whose answer lies exactly d steps back.

Lecture 2. A stream of random symbols x_1, x_2, ... goes in; at step t the target is x_{t-d}.
The model is trained with ``fit(stateful=True)`` on consecutive windows of K steps: the state
is carried from window to window (the forward pass is exact) but detached, so the loss at
step t reaches back only to the first step of its own window, at most K - 1 steps (eq. 2.8).

    K <= d: no loss ever has a gradient path to the input it has to report, so nothing
            teaches the network to store it: accuracy stays near chance, 1 / n_symbols.
    K >  d: the steps at positions d+1..K of each window do have that path; the network
            learns to delay its input by d steps, and then the echo works at every step.

Same model, data and number of training steps seen for every K; only the window changes.
Shapes are time-major: x (L, B, A) one-hot, y (L, B) target ids, -1 where there is none.
"""

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch.nn import functional

from lstm_course.models import SequenceModel
from lstm_course.runtime import set_seed
from lstm_course.train import fit


@dataclass
class EchoConfig:
    """The settings; the defaults are what the lecture runs (about 7 s of CPU per K)."""

    d: int = 8  # the delay: the answer at step t is the input at step t - d
    n_symbols: int = 2  # A, the alphabet; chance accuracy is 1 / A
    kind: str = "LSTM"  # "LSTM", "GRU" or "RNN"
    hidden_size: int = 32
    batch_size: int = 32  # B parallel tracks of the stream
    stream_len: int = 2048  # L steps per track; one epoch reads them once
    epochs: int = 8
    lr: float = 3e-3
    eval_every_steps: int = 512  # evaluate after this many time steps of training data
    eval_len: int = 256  # length of the held-out stream (B = 64 tracks)
    seed: int = 0


class EchoResult(NamedTuple):
    """One training run: its history, the x axis for the curves and the final accuracy."""

    K: int
    history: object  # lstm_course.train.History
    steps_seen: list  # time steps of training data read at each evaluation
    accuracy: list  # held-out accuracy at each evaluation
    final_accuracy: float


def echo_stream(length, batch_size, d, n_symbols=2, seed=0):
    """B random symbol tracks and their echo targets y_t = x_{t-d} (ids; -1 for t <= d).

    Returns:
        x: (L, B, A) float32 one-hot inputs; y: (L, B) int64 targets; the first d steps
        have no target (-1): their source lies before the stream began.
    """
    if not 1 <= d < length:
        raise ValueError(f"need 1 <= d < length, got d = {d}, length = {length}")
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, n_symbols, (length, batch_size), generator=g)  # (L, B)
    y = torch.full_like(ids, -1)
    y[d:] = ids[:-d]
    return functional.one_hot(ids, n_symbols).float(), y


def windows(x, y, K):
    """Consecutive K-step windows [(x (K, B, A), y (K, B)), ...] of one stream; the last may
    be shorter. Fed in order to ``fit(stateful=True)``, each starts where the previous stopped."""
    return [(x[i : i + K], y[i : i + K]) for i in range(0, x.shape[0], K)]


def echo_loss(model, batch, state):
    """The ``fit(stateful=True)`` loss: cross-entropy at the steps that have a target.

    Returns:
        (loss, metrics, new_state); a window with no target (only at the stream's start)
        gives a loss of 0 that still carries the graph.
    """
    x, y = batch
    logits, state = model(x, state)  # (K, B, A)
    keep = y >= 0
    ce = functional.cross_entropy(logits.flatten(0, 1), y.clamp(min=0).flatten(), reduction="none")
    loss = (ce * keep.flatten()).sum() / keep.sum().clamp(min=1)
    return loss, {}, state


@torch.no_grad()
def echo_accuracy(model, x, y):
    """Fraction of the steps with a target where argmax of the model's output equals it."""
    logits, _ = model(x)
    keep = y >= 0
    return (logits.argmax(-1) == y)[keep].float().mean().item()


def train_echo(K, config=None, progress=True):
    """Train a fresh, seeded model on the echo task with windows of K steps.

    Returns:
        an EchoResult.
    """
    config = config or EchoConfig()
    set_seed(config.seed)  # the same initial weights for every K
    A = config.n_symbols
    x, y = echo_stream(config.stream_len, config.batch_size, config.d, A, seed=config.seed + 1)
    x_val, y_val = echo_stream(config.eval_len, 64, config.d, A, seed=config.seed + 2)
    model = SequenceModel(config.kind, A, config.hidden_size, A, readout="all")
    eval_every = max(1, config.eval_every_steps // K)
    # One thread: the matrices are tiny (B = 32, H = 32), so a second thread only adds
    # synchronisation, and on a busy machine it made this run 40x slower (5.6 s -> 226 s).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        history = fit(
            model,
            windows(x, y, K),
            echo_loss,
            epochs=config.epochs,
            lr=config.lr,
            stateful=True,
            device="cpu",
            eval_fn=lambda m: {"val_acc": echo_accuracy(m, x_val, y_val)},
            eval_every=eval_every,
            progress=progress,
        )
    finally:
        torch.set_num_threads(threads)
    accuracy = history.evals["val_acc"]
    steps_seen = [_data_read(s, K, config.stream_len) for s in history.eval_steps]
    return EchoResult(K, history, steps_seen, accuracy, accuracy[-1])


def run_truncation_experiment(Ks, config=None, progress=True):
    """``train_echo`` for every window K in ``Ks``: {K: EchoResult}."""
    return {K: train_echo(K, config, progress) for K in Ks}


def _data_read(step, K, L):
    """Time steps per track read after ``step`` optimizer steps with K-step windows of a
    stream of L steps (the last window of each pass may be shorter)."""
    per_epoch = -(-L // K)
    return step // per_epoch * L + min(step % per_epoch * K, L)


def plot_echo_curves(results, config=None, axes=None):
    """Training loss and held-out accuracy against training data read, one curve per K.

    The loss is averaged over the last ``config.eval_every_steps`` time steps of data, so
    curves of different K are smoothed alike. Returns the two axes.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    config = config or EchoConfig()
    if axes is None:
        axes = plt.subplots(1, 2, figsize=(11, 3.6))[1]
    for K, result in results.items():
        relation = "<" if K < config.d else ("=" if K == config.d else ">")
        label = f"K = {K} {relation} d = {config.d}"
        loss = np.asarray(result.history.loss)
        n = max(1, min(len(loss), config.eval_every_steps // K))
        smooth = np.convolve(loss, np.ones(n) / n, mode="valid")
        seen = [_data_read(s, K, config.stream_len) for s in range(n, len(loss) + 1)]
        axes[0].plot(seen, smooth, label=label)
        axes[1].plot(result.steps_seen, result.accuracy, label=label)
    axes[0].axhline(np.log(config.n_symbols), color="gray", ls="--", label="guessing, ln A")
    axes[0].set(
        xlabel="time steps of training data read (per track)",
        ylabel="training cross-entropy",
        title="training loss (moving average)",
    )
    axes[1].axhline(1 / config.n_symbols, color="gray", ls="--", label="chance, 1 / A")
    axes[1].set(
        xlabel="time steps of training data read (per track)",
        ylabel="held-out accuracy",
        ylim=(0, 1.05),
        title=f"echo of x_(t-{config.d})",
    )
    axes[0].legend(fontsize=8)
    axes[1].legend(loc="lower right", fontsize=8)
    return axes
