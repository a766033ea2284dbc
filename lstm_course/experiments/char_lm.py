"""A character LSTM language model on the stdlib docstrings, in bits per character (lecture 6).

The recipe: the corpus cut into contiguous train / validation / test parts (``split_text``),
the training part read as B parallel tracks in windows of T characters (``stream_batches``),
and ``fit(stateful=True)``: truncated BPTT, the state carried from window to window and
detached. The loss is the cross-entropy in nats, eq. (6.8); every number shown is in bits per
character, bpc = loss / ln 2, eq. (6.9), so that it compares directly with the n-gram
baselines (``lstm_course.analysis.ngram``) and the corpus's unigram entropy.

Shapes are time-major: a window x, y is (T, B) int64 ids, the logits (T, B, V).
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch.nn import functional

from lstm_course.analysis.ngram import ngram_baselines
from lstm_course.data import TextSplits, Vocab, split_text, stdlib_docstring_corpus, stream_batches
from lstm_course.data._checks import check_ids, check_int
from lstm_course.models import CharLM
from lstm_course.runtime import set_seed
from lstm_course.train import fit

LN2 = math.log(2)


@dataclass
class CharLMConfig:
    """The settings; the defaults are what the lecture runs (about 60 s of CPU, one thread)."""

    hidden_size: int = 128  # H
    embed_size: int = 32  # rows of the embedding E
    seq_len: int = 100  # T: characters per window, the truncation length
    batch_size: int = 32  # B: parallel tracks of the training text
    steps: int = 1600  # optimizer steps; 1600 * T * B = 5.1M characters, 3.5 passes
    lr: float = 2e-2  # Adam's initial rate, decayed to 0 along a cosine
    clip_norm: float = 1.0
    val_fraction: float = 0.05  # the validation part: the curve during training
    test_fraction: float = 0.05  # the test part: the numbers reported at the end
    eval_every: int = 200  # steps between validation evaluations
    eval_chars: int = 20_000  # validation characters read per evaluation
    # Seeds 0-4 reach 2.08-2.17 bpc; this one also grows a clean line-position cell (section 9
    # of the lecture reports the others).
    seed: int = 3


class CharData(NamedTuple):
    """The corpus, ready to train on: its vocabulary and the three parts, as text and ids."""

    vocab: Vocab  # built from the training part only
    text: TextSplits  # str parts: train, val, test
    ids: TextSplits  # (N,) int64 tensors of the same parts


class CharLMRun(NamedTuple):
    """One training run: the trained model, its history, the data and the settings."""

    model: CharLM
    history: object  # lstm_course.train.History; metric "bpc" per step, eval "val_bpc"
    data: CharData
    config: CharLMConfig


def load_char_data(config=None, text=None):
    """Split the corpus (default: ``stdlib_docstring_corpus()``) and encode it.

    The parts are contiguous (train first), so no held-out character was ever trained on. The
    vocabulary is built from the training part: a character seen only in held-out text would
    encode to ``<unk>`` (the stdlib corpus has none).

    Returns:
        ``CharData(vocab, text, ids)``.
    """
    config = config or CharLMConfig()
    text = stdlib_docstring_corpus() if text is None else text
    parts = split_text(text, config.val_fraction, config.test_fraction)
    vocab = Vocab.from_text(parts.train)
    return CharData(vocab, parts, TextSplits(*(vocab.encode(part) for part in parts)))


def lm_loss(model, batch, state):
    """The ``fit(stateful=True)`` loss: mean cross-entropy of the next character, in nats.

        L = -(1 / (T B)) sum_{t, b} ln p(y_{t, b} | x_{<=t, b}),   eq. (6.8)

    Args:
        batch: (x, y), both (T, B) int64; y[t] is the character after x[t].
        state: the carried (h, c) or None.
    Returns:
        (loss, {"bpc": loss / ln 2}, new_state).
    """
    x, y = batch
    logits, state = model(x, state)  # (T, B, V)
    loss = functional.cross_entropy(logits.flatten(0, 1), y.flatten())
    return loss, {"bpc": loss.detach() / LN2}, state


@torch.no_grad()
def char_nll(model, ids, tracks=16):
    """-ln p(ids[t + 1] | ids[:t + 1]) for every t: each character scored after all before it.

    The text is cut into ``tracks`` contiguous pieces read side by side (one batch), each
    from a zero state: only the first few characters of each piece see less than their full
    history, and the pass costs one forward run of N / tracks steps instead of N.

    Args:
        model: a ``CharLM`` (put in eval mode here, then restored).
        ids: (N,) int64 ids, N >= 2.
        tracks: pieces read in parallel, >= 1.
    Returns:
        (N - 1,) float64 tensor of nats; entry t scores ids[t + 1].
    """
    ids = check_ids("ids", ids).long()
    tracks = check_int("tracks", tracks, minimum=1)
    if ids.shape[0] < 2:
        raise ValueError(
            f"ids must hold at least 2 ids (one to read, one to score), got {ids.shape[0]}"
        )
    n = ids.shape[0] - 1  # characters to score
    L = -(-n // tracks)  # steps per track (ceil)
    x = torch.zeros(tracks * L, dtype=torch.long)
    y = torch.full((tracks * L,), -100, dtype=torch.long)  # -100: cross_entropy's ignore_index
    x[:n], y[:n] = ids[:-1], ids[1:]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        logits, _ = model(x.view(tracks, L).t().contiguous().to(device))  # (L, tracks, V)
    finally:
        model.train(was_training)
    nll = functional.cross_entropy(
        logits.transpose(0, 1).reshape(-1, logits.shape[-1]).double(),
        y.to(device),
        reduction="none",
    )  # (tracks * L,) in the text's order
    return nll[:n].cpu()


def bits_per_char(model, ids, tracks=16):
    """The mean of ``char_nll`` / ln 2: cross-entropy in bits per character, eq. (6.9)."""
    return char_nll(model, ids, tracks).mean().item() / LN2


def _cosine(steps):
    """The learning-rate factor: from 1 down to 0 along half a cosine over ``steps`` steps."""
    return lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / steps))


def train_char_lm(config=None, data=None, progress=True):
    """Train a fresh, seeded ``CharLM`` with truncated BPTT on the training part.

    Args:
        config: a ``CharLMConfig`` (default: the lecture's).
        data: a ``CharData`` from ``load_char_data(config)`` (made here if None).
        progress: show ``fit``'s progress bar.
    Returns:
        a ``CharLMRun``; ``history.metrics["bpc"]`` is the training bpc of each window and
        ``history.evals["val_bpc"]`` the validation bpc every ``eval_every`` steps.
    """
    config = config or CharLMConfig()
    data = data or load_char_data(config)
    set_seed(config.seed)  # the same initial weights every run
    model = CharLM(len(data.vocab), config.embed_size, config.hidden_size)
    windows = list(stream_batches(data.ids.train, config.batch_size, config.seq_len))
    val = data.ids.val[: config.eval_chars + 1]
    # One thread: with B = 32 and H = 128 the matrices are too small for a second thread to
    # pay for its synchronisation, and on a busy machine it costs far more than it gains.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        history = fit(
            model,
            windows,
            lm_loss,
            steps=config.steps,
            lr=config.lr,
            scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, _cosine(config.steps)),
            clip_norm=config.clip_norm,
            stateful=True,
            device="cpu",
            eval_fn=lambda m: {"val_bpc": bits_per_char(m, val)},
            eval_every=config.eval_every,
            progress=progress,
        )
    finally:
        torch.set_num_threads(threads)
    model.eval()
    return CharLMRun(model, history, data, config)


def held_out_bpc(data, model=None, split="test", orders=(1, 2, 3), alpha=1.0, n_chars=None):
    """Bits per character on held-out text: the LSTM and add-alpha n-gram baselines (6.10).

    The n-gram models are fitted on the training part. Every model is scored on the same
    characters: ids[first:] with first = max(1, largest order - 1), so that each n-gram has its
    full context (the LSTM has all the text before each character, from a zero state).

    Args:
        data: a ``CharData``. model: a trained ``CharLM``, or None for the baselines only.
        split: "val" or "test". orders: the n-gram orders. alpha: their smoothing.
        n_chars: score only the first ``n_chars`` ids of the part (None: all of it).
    Returns:
        {"LSTM": ..., "unigram": ..., "bigram": ..., "trigram": ...} (names "n-gram" beyond
        3), in bits per character; "LSTM" only when a model is given.
    """
    if split not in ("val", "test"):
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")
    ids = getattr(data.ids, split)[:n_chars]
    first = max(1, max(orders) - 1)
    out = {}
    if model is not None:
        out["LSTM"] = char_nll(model, ids)[first - 1 :].mean().item() / LN2  # entry t: ids[t+1]
    names = {1: "unigram", 2: "bigram", 3: "trigram"}
    bpc = ngram_baselines(data.ids.train, ids, len(data.vocab), orders, alpha, first=first)
    out.update({names.get(n, f"{n}-gram"): value for n, value in bpc.items()})
    return out


class WipedMemory(NamedTuple):
    """What ``wiped_memory`` measures: the cost of reading text with a blank memory."""

    positions: np.ndarray  # (K - 1,) k = 1..K-1, characters read since the wipe
    excess_bits: np.ndarray  # (K - 1,) mean extra bits at position k, against a full memory
    full_bpc: float  # bpc of the same characters, read with the state carried through
    wiped_bpc: float  # bpc of the same characters, read in pieces of K from a zero state


@torch.no_grad()
def wiped_memory(model, ids, length=256, shifts=4, tracks=16):
    """How many characters of history the model still uses: wipe its memory, watch it recover.

    The text is cut into pieces of K = ``length`` characters and each piece is read from a
    zero state, so character k of a piece (k = 1..K-1) is predicted from the k characters
    before it only. Its loss is compared with the loss of the same character read with the
    state carried through the whole text (``char_nll``). The mean excess at position k is
    what the wiped memory cost there: as long as it stays above 0, text more than k
    characters back still helped. It has two sources: the lost information, and a zero state
    the model rarely saw in training (the state is carried, so it starts from zeros only at
    the beginning of each pass). The pieces are cut at ``shifts`` different offsets, to
    average over more of them.

    Args:
        model: a ``CharLM``. ids: (N,) int64 held-out ids, N >= length + shifts.
        length: K >= 2. shifts: offsets 0, K / shifts, 2 K / shifts, ... (>= 1).
        tracks: passed to ``char_nll`` for the full-memory reference.
    Returns:
        a ``WipedMemory``.
    """
    ids = check_ids("ids", ids).long()
    K = check_int("length", length, minimum=2, maximum=ids.shape[0] - 1)
    shifts = check_int("shifts", shifts, minimum=1, maximum=K)
    full = char_nll(model, ids, tracks)  # (N - 1,); entry t scores ids[t + 1]
    was_training = model.training
    model.eval()
    wiped, carried = [], []
    try:
        for s in range(shifts):
            offset = s * K // shifts
            n = (ids.shape[0] - offset) // K
            pieces = ids[offset : offset + n * K].view(n, K).t()  # (K, n), piece j in column j
            logits, _ = model(pieces[:-1])  # (K - 1, n, V)
            nll = functional.cross_entropy(
                logits.flatten(0, 1).double(), pieces[1:].flatten(), reduction="none"
            ).view(K - 1, n)  # nll[k - 1, j] scores ids[offset + j K + k]
            where = offset + torch.arange(n) * K + torch.arange(1, K)[:, None] - 1  # (K - 1, n)
            wiped.append(nll)
            carried.append(full[where])
    finally:
        model.train(was_training)
    wiped, carried = torch.cat(wiped, dim=1), torch.cat(carried, dim=1)  # (K - 1, pieces)
    return WipedMemory(
        positions=np.arange(1, K),
        excess_bits=((wiped - carried).mean(dim=1) / LN2).numpy(),
        full_bpc=carried.mean().item() / LN2,
        wiped_bpc=wiped.mean().item() / LN2,
    )


def plot_wiped_memory(ax, wiped, seq_len=None):
    """The extra bits at each position after a memory wipe, on log-log-like axes.

    The y axis is linear within +-0.01 bits and logarithmic beyond (symlog), so the cost of
    the first characters (bits) and the tail (hundredths of a bit) both show. A vertical
    line marks the training window T = ``seq_len``, the furthest a gradient reached back.
    """
    ax.plot(wiped.positions, wiped.excess_bits, lw=1, color="tab:blue")
    ax.axhline(0.0, color="black", lw=0.8)
    if seq_len is not None:
        ax.axvline(seq_len, color="tab:red", ls="--", label=f"training window T = {seq_len}")
        ax.legend(fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set(
        xlabel="characters read since the memory was wiped, k",
        ylabel="extra bits at position k",
        title="what a blank memory costs",
    )
    return ax


def plot_char_bits(ax, text, bits):
    """Bars of -log2 p for each character of ``text`` after the first, eq. (6.6) term by term.

    Args:
        text: str of n characters. bits: (n - 1,) bits of characters 2..n.
    """
    bits = np.asarray(bits, dtype=np.float64)
    if bits.shape != (len(text) - 1,):
        raise ValueError(
            f"bits must have shape (len(text) - 1,) = ({len(text) - 1},), got {bits.shape}"
        )
    labels = [{"\n": "\\n", " ": "\u2423"}.get(ch, ch) for ch in text[1:]]  # space shown as a box
    ax.bar(range(len(bits)), bits, color="tab:blue")
    ax.set_xticks(range(len(bits)), labels, family="monospace")
    ax.set(ylabel="-log2 p (bits)", xlim=(-0.6, len(bits) - 0.4))
    return ax


def moving_average(values, n):
    """The mean of each run of ``n`` consecutive values: len(values) - n + 1 of them."""
    values = torch.as_tensor(values, dtype=torch.float64)
    n = max(1, min(int(n), len(values)))
    return torch.nn.functional.avg_pool1d(values.view(1, 1, -1), n, stride=1).flatten()


def plot_bpc(ax, history, baselines, smooth=25):
    """Training bpc (moving average over ``smooth`` windows), validation bpc, and baselines.

    Args:
        ax: a matplotlib axes. history: from ``train_char_lm``.
        baselines: {name: bpc} drawn as dashed horizontal lines, e.g. from ``baseline_bpc``.
    Returns:
        ax.
    """
    steps, bpc = history.series("bpc")
    smoothed = moving_average(bpc, smooth)
    ax.plot(steps[len(steps) - len(smoothed) :], smoothed, lw=1.2, label="LSTM, training windows")
    ax.plot(*history.series("val_bpc"), "o-", ms=4, label="LSTM, validation text")
    styles = ("--", "-.", ":", (0, (5, 5)))
    for (name, value), ls in zip(baselines.items(), styles * 3, strict=False):
        ax.axhline(value, color="gray", ls=ls, lw=1.2, label=f"{name}: {value:.2f}")
    ax.set(
        xlabel="optimizer step",
        ylabel="bits per character",
        title="character LM on stdlib docstrings",
    )
    ax.legend(fontsize=8, loc="upper right")
    return ax
