"""Lecture 7's experiments: train an encoder-decoder on a synthetic translation task, with and
without a reversed source; compare greedy and beam search; look at what <eos> does.

Tasks (``lstm_course.data.translation``), each split into a training set and a test set of
unseen sources:

* ``"dates"``: "Tuesday, 3 March 1998" -> "1998-03-03" (reordering: the year comes last in the
  source and first in the target);
* ``"copy"``: "40271" -> "40271" (monotone: target symbol i comes from source symbol i);
* ``"reversal"``: "40271" -> "17204" (lecture 8).

Every recipe is a frozen ``TaskSetup``, seeded, sized for a CPU. Lecture 8's recipes
(``lstm_course.experiments.attention``) use the same setup with attention on.
"""

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import torch

from lstm_course import set_seed
from lstm_course.data.pairs import PairDataset, PairVocab, make_pair_loader, pair_collate
from lstm_course.data.translation import copy_pairs, date_pairs, reversal_pairs
from lstm_course.seq2seq import (
    Seq2Seq,
    beam,
    encode_sources,
    eval_fn,
    exact_match,
    greedy,
    log_prob,
    seq2seq_loss,
    translate,
)
from lstm_course.train import fit

TASKS = ("dates", "copy", "reversal")
DIGITS = "0123456789"


@dataclass(frozen=True)
class TaskSetup:
    """A seq2seq recipe: the task, the model, the optimiser and the budget.

    Attributes:
        task: "dates", "copy" or "reversal". n_train, n_test: pairs in each set.
        min_len, max_len: source lengths of "copy" and "reversal" (dates set their own).
        embed_size, hidden_size: E and H of ``Seq2Seq``. attention, form: as ``Seq2Seq``.
        batch_size: B. lr: Adam's learning rate. lr_decay: the learning rate falls
            exponentially to lr * lr_decay at the last step (1: constant).
        steps: training steps. eval_every: steps between exact-match evaluations on the
            first ``n_val`` test pairs. bucket: batch pairs of similar length together.
        seed: data, model and batch order.
    """

    task: str = "dates"
    n_train: int = 20_000
    n_test: int = 500
    min_len: int = 5
    max_len: int = 15
    embed_size: int = 32
    hidden_size: int = 64
    attention: str | None = None
    form: str = "bahdanau"
    batch_size: int = 64
    lr: float = 1e-2
    lr_decay: float = 1.0
    steps: int = 600
    eval_every: int = 50
    n_val: int = 200
    bucket: bool = False
    seed: int = 0

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if not 1 <= self.n_val <= self.n_test:
            raise ValueError(f"n_val must lie in [1, n_test = {self.n_test}], got {self.n_val}")


# Lecture 7's two recipes: H = 64, Adam at 1e-2, batch 64, the same budget with and without a
# reversed source. Dates are solved within the budget; copying is not, so the runs differ.
DATES = TaskSetup(task="dates", steps=400)
COPY = TaskSetup(task="copy", min_len=5, max_len=15, steps=600)


class Run(NamedTuple):
    """A trained model, its ``fit`` history, its training ``PairDataset``, the test pairs and
    the ``TaskSetup`` it was trained with."""

    model: Seq2Seq
    history: object
    dataset: PairDataset
    test: list
    setup: TaskSetup


def _make_pairs(setup, n, seed):
    if setup.task == "dates":
        return date_pairs(n, seed=seed)
    make = copy_pairs if setup.task == "copy" else reversal_pairs
    return make(n, setup.min_len, setup.max_len, seed=seed)


def task_pairs(setup):
    """(train, test): seeded lists of (source, target); no test source occurs in training."""
    train = _make_pairs(setup, setup.n_train, setup.seed)
    seen = {source for source, _ in train}
    candidates = _make_pairs(setup, 2 * setup.n_test + 100, setup.seed + 10_000)
    test = [pair for pair in candidates if pair[0] not in seen][: setup.n_test]
    if len(test) < setup.n_test:
        raise ValueError(f"the {setup.task} task has too few unseen sources for n_test")
    return train, test


def decode_len(setup):
    """``max_len`` for decoding: the longest target plus <eos> plus one step of slack."""
    longest = 10 if setup.task == "dates" else setup.max_len  # ISO dates are 10 characters
    return longest + 2


def vocabularies(setup):
    """Fixed source and target vocabularies, so every run of a task numbers symbols alike."""
    if setup.task == "dates":
        pairs = date_pairs(2_000, seed=0)  # every month, weekday and digit appears
        return PairVocab.from_texts(s for s, _ in pairs), PairVocab(DIGITS + "-")
    return PairVocab(DIGITS), PairVocab(DIGITS)


def decay(setup):
    """``fit``'s scheduler: lr * lr_decay ** (step / steps), or None for a constant rate."""
    if setup.lr_decay == 1.0:
        return None
    return lambda opt: torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: setup.lr_decay ** (k / setup.steps)
    )


def make_model(setup, dataset):
    """A freshly seeded ``Seq2Seq`` for the setup."""
    set_seed(setup.seed)
    return Seq2Seq(
        len(dataset.src_vocab),
        len(dataset.tgt_vocab),
        setup.embed_size,
        setup.hidden_size,
        attention=setup.attention,
        form=setup.form,
        attn_size=setup.hidden_size // 2,
    )


def train_task(setup, reverse_source=False, progress=True, pairs=None):
    """Train ``make_model(setup)`` on the task, evaluating exact match as it goes.

    Args:
        setup: a ``TaskSetup``. reverse_source: feed sources backwards (Sutskever et al.).
        progress: show fit's bar. pairs: (train, test) from ``task_pairs``, to reuse them.
    Returns:
        ``Run``; ``history.evals["val_exact"]`` every ``eval_every`` steps (greedy).
    """
    train, test = task_pairs(setup) if pairs is None else pairs
    src_vocab, tgt_vocab = vocabularies(setup)
    dataset = PairDataset(train, src_vocab, tgt_vocab, reverse_source=reverse_source)
    model = make_model(setup, dataset)
    history = fit(
        model,
        make_pair_loader(dataset, setup.batch_size, seed=setup.seed, bucket=setup.bucket),
        seq2seq_loss,
        steps=setup.steps,
        lr=setup.lr,
        scheduler=decay(setup),
        device="cpu",
        eval_fn=eval_fn(test[: setup.n_val], dataset, decode_len(setup)),
        eval_every=setup.eval_every,
        progress=progress,
    )
    return Run(model, history, dataset, test, setup)


def reversal_trick(setup, progress=True):
    """Two runs with the same data, seed and budget: sources as written, and reversed.

    Returns:
        {"as written": Run, "reversed": Run}.
    """
    pairs = task_pairs(setup)
    return {
        "as written": train_task(setup, False, progress, pairs),
        "reversed": train_task(setup, True, progress, pairs),
    }


def minimal_lag(source, target, alignment, reverse_source=False):
    """Eq. (7.4): steps from the encoder reading a source symbol to the decoder writing its
    target symbol.

    The encoder reads x_1..x_S at steps 1..S, and the decoder writes y_i at step S + i, so
    target i aligned with source j (read at step j, or S + 1 - j reversed) is S + i - j steps
    away (S + i - (S + 1 - j) reversed). Sutskever et al.'s argument: the *average* lag does
    not change when the source is reversed, but the smallest one does, and short lags are
    what gradient descent picks up first.

    Args:
        source, target: strings. alignment: list of (i, j) 1-based aligned positions.
    Returns:
        (minimal lag, mean lag) over the alignment.
    """
    S = len(source)
    lags = [S + i - ((S + 1 - j) if reverse_source else j) for i, j in alignment]
    if not lags or any(not (1 <= j <= S and 1 <= i <= len(target)) for i, j in alignment):
        raise ValueError(
            f"alignment must hold (i, j) pairs with 1 <= i <= {len(target)} "
            f"and 1 <= j <= {S}, got {alignment!r}"
        )
    return min(lags), float(np.mean(lags))


def final_exact(run, beam_width=1, length_penalty=0.0, n=None):
    """Exact match of the trained model on the first ``n`` test pairs (default: all)."""
    pairs = run.test if n is None else run.test[:n]
    max_len = decode_len(run.setup)
    return exact_match(run.model, pairs, run.dataset, max_len, beam_width, length_penalty)


# ----- greedy vs beam -----


class Change(NamedTuple):
    """A test example that beam search decodes differently from greedy search.

    Attributes:
        source, target: the pair. greedy, beamed: the two outputs.
        greedy_log_prob, beam_log_prob, target_log_prob: log P(output <eos> | source), eq. (7.5).
    """

    source: str
    target: str
    greedy: str
    beamed: str
    greedy_log_prob: float
    beam_log_prob: float
    target_log_prob: float


def beam_outputs(run, widths=(1, 3, 5), n=None, length_penalty=0.0):
    """{width: list of decoded strings} for the first ``n`` test sources (1: batched greedy)."""
    sources = [s for s, _ in (run.test if n is None else run.test[:n])]
    max_len = decode_len(run.setup)
    return {
        W: translate(run.model, sources, run.dataset, max_len, W, length_penalty) for W in widths
    }


def exact_by_width(run, outputs):
    """{width: exact match} from ``beam_outputs``."""
    targets = [t for _, t in run.test]
    return {
        W: float(np.mean([p == t for p, t in zip(out, targets, strict=False)]))
        for W, out in outputs.items()
    }


def beam_changes(run, outputs, width):
    """Every test example whose width-``width`` output differs from the greedy one, scored."""
    changed = [
        (k, g, b) for k, (g, b) in enumerate(zip(outputs[1], outputs[width], strict=True)) if g != b
    ]
    rows = []
    for k, g, b in changed:
        source, target = run.test[k]
        lp = log_prob(run.model, [(source, g), (source, b), (source, target)], run.dataset)
        rows.append(Change(source, target, g, b, *lp))
    return rows


def print_changes(changes, limit=8):
    """A table of ``Change``s: which output is right, and the log-probabilities."""
    print(f"{'source':>18s}  {'greedy':>16s} {'log P':>8s}  {'beam':>16s} {'log P':>8s}  right?")
    for c in changes[:limit]:
        right = "beam" if c.beamed == c.target else "greedy" if c.greedy == c.target else "none"
        print(
            f"{c.source:>18s}  {c.greedy:>16s} {c.greedy_log_prob:8.4f}  {c.beamed:>16s} "
            f"{c.beam_log_prob:8.4f}  {right}"
        )


class ErrorKinds(NamedTuple):
    """Wrong outputs split by whose fault they are (Stahlberg and Byrne, 2019).

    Attributes:
        search: the right answer has the higher log P (7.5): the model prefers it, the search
            missed it; a wider beam could find it.
        model: the wrong output has the higher log P: no search can fix it, the model itself
            prefers the wrong answer.
        right: outputs that were right.
    """

    search: int
    model: int
    right: int


def error_kinds(run, outputs):
    """Classify each decoded test output (a list aligned with ``run.test``) as right, a
    search error or a model error, by comparing log P(output) with log P(right answer)."""
    pairs = run.test[: len(outputs)]
    wrong = [(s, t, o) for (s, t), o in zip(pairs, outputs, strict=True) if o != t]
    if not wrong:
        return ErrorKinds(0, 0, len(pairs))
    lp_out = log_prob(run.model, [(s, o) for s, _, o in wrong], run.dataset)
    lp_right = log_prob(run.model, [(s, t) for s, t, _ in wrong], run.dataset)
    search = sum(r > o for r, o in zip(lp_right, lp_out, strict=True))
    return ErrorKinds(int(search), len(wrong) - int(search), len(pairs) - len(wrong))


# ----- <eos> -----


def eos_probabilities(run, source, max_len=None, force_len=None):
    """Greedy decoding of one source, with p(<eos>) at every step.

    Args:
        run: a ``Run``. source: str. max_len: steps (default: the task's decode length).
        force_len: if given, never stop: decode exactly this many steps, taking the best
            token other than <eos>, to see what the model writes past its end.
    Returns:
        (chars, p_eos): the token written at each step ("<eos>" for the end) and
        p(<eos> | y_<i, x) at each step, a float64 array.
    """
    model, dataset = run.model, run.dataset
    steps = force_len or max_len or decode_len(run.setup)
    (src,) = encode_sources([source], dataset)
    chars, p_eos = [], []
    with torch.no_grad():
        model.eval()
        memory = model.encode(src[:, None], torch.tensor([len(src)]))
        state, y = memory.state, torch.tensor([PairVocab.bos_id])
        for _ in range(steps):
            logits, state, _ = model.decode_step(y, state, memory)
            p = torch.softmax(logits[0].double(), -1)
            p_eos.append(float(p[PairVocab.eos_id]))
            if force_len:
                p = p.clone()
                p[PairVocab.eos_id] = -1.0
            y = p.argmax()[None]
            chars.append(dataset.tgt_vocab.itos[int(y)])
            if int(y) == PairVocab.eos_id:
                break
        model.train()
    return chars, np.array(p_eos)


def cut_by_max_len(run, sources, max_len):
    """Greedy outputs with at most ``max_len`` tokens: (outputs, finished flags)."""
    encoded = encode_sources(sources, run.dataset)
    collated = pair_collate([(ids, torch.tensor([0])) for ids in encoded])  # targets unused
    ids, _ = greedy(run.model, collated.src, collated.src_lengths, max_len)
    finished = (ids == PairVocab.eos_id).any(0).tolist()
    outputs = [run.dataset.tgt_vocab.decode(ids[:, b]) for b in range(ids.shape[1])]
    return outputs, finished


def beam_hypotheses(run, source, width, max_len=None, length_penalty=0.0):
    """Every hypothesis that leaves the beam for one source, best first:
    a list of (text, log P, length n with <eos>, score, finished)."""
    (src,) = encode_sources([source], run.dataset)
    hyps = beam(run.model, src, width, max_len or decode_len(run.setup), length_penalty, True)
    return [
        (run.dataset.tgt_vocab.decode(h.ids), h.log_prob, len(h.ids), h.score, h.finished)
        for h in hyps
    ]


def length_penalty_effect(run, width, alphas, n=None):
    """What the length penalty alpha of eq. (7.8) does to beam search on the test pairs.

    Returns:
        {alpha: (exact match, mean output length minus target length, outputs that differ
        from those of the first alpha)}.
    """
    pairs = run.test if n is None else run.test[:n]
    sources = [s for s, _ in pairs]
    result, first = {}, None
    for alpha in alphas:
        out = translate(run.model, sources, run.dataset, decode_len(run.setup), width, alpha)
        first = out if first is None else first
        right = np.mean([p == t for p, (_, t) in zip(out, pairs, strict=True)])
        longer = np.mean([len(p) - len(t) for p, (_, t) in zip(out, pairs, strict=True)])
        changed = sum(a != b for a, b in zip(out, first, strict=True))
        result[alpha] = (float(right), float(longer), int(changed))
    return result


def several_lengths(run, width, n=None):
    """The first test source whose beam ends with hypotheses of different lengths, or None."""
    for source, _ in run.test if n is None else run.test[:n]:
        if len({length for _, _, length, _, _ in beam_hypotheses(run, source, width)}) > 1:
            return source
    return None


# ----- plots -----

COLORS = {"as written": "tab:blue", "reversed": "tab:orange"}


def plot_exact_match(ax, runs, title=""):
    """Exact match on the validation pairs against training step, one line per run."""
    for name, run in runs.items():
        steps, exact = run.history.series("val_exact")
        ax.plot(steps, 100 * np.asarray(exact), "o-", ms=3, label=name, color=COLORS.get(name))
    ax.set(xlabel="training step", ylabel="exact match (%)", ylim=(-3, 103), title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def exact_at(run, step):
    """val_exact recorded after ``step`` (an evaluation step)."""
    steps, values = run.history.series("val_exact")
    if step not in steps:
        raise ValueError(f"no evaluation after step {step}; evaluations ran after {steps}")
    return values[steps.index(step)]


def steps_to(run, level):
    """The first evaluation step with val_exact >= level, or math.inf if never."""
    for step, value in zip(*run.history.series("val_exact"), strict=True):
        if value >= level:
            return step
    return math.inf


def with_budget(setup, **changes):
    """``dataclasses.replace`` for a setup (the notebooks change one field at a time)."""
    return replace(setup, **changes)
