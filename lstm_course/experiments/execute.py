"""Lecture 11's learning-to-execute experiment: a character-level encoder-decoder reads a tiny
program and writes what it prints, trained with and without a curriculum.

Zaremba and Sutskever (2014) compared ways to order the training examples by difficulty
(length L, nesting n; ``lstm_course.data.programs``) when the goal is programs of difficulty
(a, b). Each strategy is a rule for drawing the difficulty of every training example:

* ``"baseline"`` (no curriculum): always (a, b);
* ``"naive"``: start at (1, 1); each time the model has mastered the current level, move to
  the next: L = 1, 2, ..., a, then n + 1 with L back to 1 (a * b stages in all);
* ``"mix"``: L uniform in 1..a and n uniform in 1..b, independently, for every example;
* ``"combined"``: every example from "naive" or from "mix" with probability 1/2 each
  (their best strategy).

Every strategy gets the same model, optimiser, seed and number of steps. Scores are measured
on held-out programs of the target difficulty, never seen in training:

* per-character accuracy with teacher forcing, the paper's measure: the fraction of output
  characters predicted right when the decoder is fed the true previous characters;
* exact match with greedy decoding: the whole printed number right, from the model's own
  outputs.
"""

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import torch

from lstm_course import set_seed
from lstm_course.data.pairs import PairDataset, PairVocab, pair_collate
from lstm_course.data.programs import (
    OPERATIONS,
    OUTPUT_CHARS,
    PROGRAM_CHARS,
    generate_programs,
    program_pairs,
)
from lstm_course.seq2seq import Seq2Seq, seq2seq_loss, translate
from lstm_course.train import fit

STRATEGIES = ("baseline", "naive", "mix", "combined")


@dataclass(frozen=True)
class ExecuteSetup:
    """A learning-to-execute recipe: target difficulty, data, model, optimiser and budget.

    Attributes:
        length, nesting: the target difficulty (a, b).
        n_per_level: training programs drawn for every level (L, n), L <= a, n <= b.
        n_test: held-out programs at the target difficulty. n_dev: held-out programs per level,
            on which the naive curriculum decides when to move on.
        embed_size, hidden_size: E and H of ``Seq2Seq`` (one LSTM layer each side, no
            attention: the paper's model).
        batch_size: B. lr: Adam's rate. lr_decay: the rate falls to lr * lr_decay by the end.
        steps: the budget, the same for every strategy. eval_every: steps between evaluations.
        advance_at, patience: the naive curriculum moves on when its level's per-character
            accuracy reaches ``advance_at``, when it has not improved for ``patience``
            evaluations, or when the level has had its share of the budget
            (``Curriculum.update``).
        max_small: the largest multiplier and loop count in programs.
        operations: the operations programs are built from (of ``programs.OPERATIONS``).
        seed: data, model and batch order.

    The defaults are lecture 11's recipe (``LECTURE``): one-digit literals, three nested
    operations, and the four operations a small model learns on a CPU budget (multiplication
    and loops need far more training than the lecture has).
    """

    length: int = 1
    nesting: int = 3
    n_per_level: int = 4000
    n_test: int = 500
    n_dev: int = 200
    embed_size: int = 32
    hidden_size: int = 64
    batch_size: int = 64
    lr: float = 1e-2
    lr_decay: float = 0.1
    steps: int = 800
    eval_every: int = 100
    advance_at: float = 0.9
    patience: int = 2
    max_small: int = 9
    operations: tuple = ("+", "-", "if", "assign")
    seed: int = 0

    def __post_init__(self):
        for name in ("length", "nesting", "n_per_level", "n_test", "n_dev", "steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        bad = [op for op in self.operations if op not in OPERATIONS]
        if isinstance(self.operations, str) or not self.operations or bad:
            raise ValueError(f"operations must be a non-empty tuple from {OPERATIONS}, got {bad!r}")
        if not 0.0 < self.advance_at <= 1.0:
            raise ValueError(f"advance_at must lie in (0, 1], got {self.advance_at}")


LECTURE = ExecuteSetup()


def levels(setup):
    """Every level (L, n) up to the target, in the naive curriculum's order."""
    return [(L, n) for n in range(1, setup.nesting + 1) for L in range(1, setup.length + 1)]


class ProgramData(NamedTuple):
    """The programs of one setup.

    Attributes:
        train: {(L, n): list of ``Program``}. dev: {(L, n): list of ``Program``}, held out.
        test: list of ``Program`` at the target difficulty, held out.
        src_vocab, tgt_vocab: the fixed character vocabularies (``PairVocab``).
    """

    train: dict
    dev: dict
    test: list
    src_vocab: PairVocab
    tgt_vocab: PairVocab


def make_data(setup):
    """Seeded training pools, dev sets and the test set.

    No test program occurs in training. The dev programs, on which the naive curriculum
    measures progress at each level, are fresh draws that may repeat training programs: at
    level (1, 1) there are only a few hundred distinct programs besides the ifs and loops,
    and holding them out would keep facts such as 6*9 = 54 from the model altogether.
    """
    held_out, dev = set(), {}
    kw = {"max_small": setup.max_small, "operations": setup.operations}
    a, b = setup.length, setup.nesting
    test = generate_programs(setup.n_test, a, b, seed=setup.seed + 1, **kw)
    held_out.update(p.text for p in test)
    for k, (L, n) in enumerate(levels(setup)):
        dev[L, n] = generate_programs(setup.n_dev, L, n, seed=setup.seed + 1000 + k, **kw)
    train = {}
    for k, (L, n) in enumerate(levels(setup)):
        drawn = generate_programs(setup.n_per_level, L, n, seed=setup.seed + 2000 + k, **kw)
        train[L, n] = [p for p in drawn if p.text not in held_out]
    return ProgramData(train, dev, test, PairVocab(PROGRAM_CHARS), PairVocab(OUTPUT_CHARS))


class Curriculum:
    """Draws the difficulty (L, n) of each training example for one strategy.

    Args:
        strategy: one of ``STRATEGIES``. setup: the ``ExecuteSetup`` (target a, b).
        rng: a ``numpy.random.Generator``.
    Attributes:
        stage: index into ``levels(setup)`` of the naive curriculum's current level.
    """

    def __init__(self, strategy, setup, rng):
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
        self.strategy, self.setup, self.rng = strategy, setup, rng
        self.levels = levels(setup)
        self.stage = 0
        self.best, self.waited, self.evals_here = -1.0, 0, 0

    @property
    def uses_stages(self):
        return self.strategy in ("naive", "combined")

    def level(self):
        """The naive curriculum's current level (L, n)."""
        return self.levels[self.stage]

    def draw(self):
        """(L, n) for one training example."""
        strategy = self.strategy
        if strategy == "combined":
            strategy = "naive" if self.rng.random() < 0.5 else "mix"
        if strategy == "baseline":
            return self.setup.length, self.setup.nesting
        if strategy == "naive":
            return self.level()
        L = int(self.rng.integers(1, self.setup.length + 1))
        return L, int(self.rng.integers(1, self.setup.nesting + 1))

    def update(self, accuracy):
        """Tell the curriculum its current level's accuracy, measured after an evaluation.

        It moves on when the level is mastered (accuracy >= ``advance_at``), when learning has
        stopped making progress (no gain of 0.005 for ``patience`` evaluations), or when the
        level has used its share of the budget (``steps / eval_every / len(levels)``
        evaluations): on a budget the naive curriculum must reach the target in time.

        Returns:
            True if it moved to the next level.
        """
        if not self.uses_stages or self.stage == len(self.levels) - 1:
            return False
        setup = self.setup
        improved = accuracy > self.best + 0.005
        self.best, self.waited = max(self.best, accuracy), 0 if improved else self.waited + 1
        self.evals_here += 1
        share = max(1, setup.steps // setup.eval_every // len(self.levels))
        if (
            accuracy >= setup.advance_at
            or self.waited >= setup.patience
            or self.evals_here >= share
        ):
            self.stage += 1
            self.best, self.waited, self.evals_here = -1.0, 0, 0
            return True
        return False


class ProgramBatches:
    """An endless stream of ``PairBatch``es whose difficulties a ``Curriculum`` draws.

    Iterating never ends (``fit`` stops after its ``steps``); every example is a random program
    of the drawn level's training pool. Examples are drawn ``pool`` batches at a time, sorted
    by program length and cut into batches served in random order: a padded batch costs as
    much as B copies of its longest program, so batching similar lengths together about
    halves the work. The naive curriculum therefore takes effect up to ``pool`` steps late.

    Args:
        datasets: {(L, n): ``PairDataset``}. curriculum: a ``Curriculum``. batch_size: B.
        rng: a ``numpy.random.Generator`` for picking programs. pool: batches sorted together.
    """

    def __init__(self, datasets, curriculum, batch_size, rng, pool=10):
        self.datasets, self.curriculum = datasets, curriculum
        self.batch_size, self.rng, self.pool = batch_size, rng, pool

    def __iter__(self):
        while True:
            items = []
            for _ in range(self.batch_size * self.pool):
                dataset = self.datasets[self.curriculum.draw()]
                items.append(dataset[int(self.rng.integers(len(dataset)))])
            items.sort(key=lambda item: len(item[0]))
            B = self.batch_size
            batches = [items[k : k + B] for k in range(0, len(items), B)]
            for k in self.rng.permutation(len(batches)):
                yield pair_collate(batches[k])


@torch.no_grad()
def char_accuracy(model, pairs, dataset, batch_size=500):
    """Teacher-forced per-character accuracy of the outputs (the paper's measure).

    Each output character y_i is predicted from the program and the *true* y_<i; <eos> is not
    counted.

    Args:
        model: a ``Seq2Seq``. pairs: a list of (program, output) str. dataset: a ``PairDataset``
            with the vocabularies and the source direction.
    Returns:
        float in [0, 1].
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    right = total = 0
    probe = PairDataset(pairs, dataset.src_vocab, dataset.tgt_vocab, dataset.reverse_source)
    for start in range(0, len(pairs), batch_size):
        batch = pair_collate([probe[k] for k in range(start, min(start + batch_size, len(pairs)))])
        batch = batch.to(device)
        logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)  # (T, B, V)
        counted = batch.tgt_mask & (batch.tgt_out != PairVocab.eos_id)
        right += int(((logits.argmax(-1) == batch.tgt_out) & counted).sum())
        total += int(counted.sum())
    model.train(was_training)
    return right / total


def exact_match(model, pairs, dataset):
    """Greedy exact match: the fraction of programs whose whole output is right."""
    predicted = translate(model, [s for s, _ in pairs], dataset, decode_len(pairs))
    return float(np.mean([p == t for p, (_, t) in zip(predicted, pairs, strict=True)]))


def decode_len(pairs):
    """max_len for greedy decoding: the longest output + <eos> + 2 characters of slack."""
    return max(len(t) for _, t in pairs) + 3


class ExecuteRun(NamedTuple):
    """One trained strategy.

    Attributes:
        strategy: its name. model: the trained ``Seq2Seq``. history: ``fit``'s ``History``
            (evals: val_char, val_exact on the first n_dev test programs; for the curricula
            also stage, the naive level's index, and level_char, the per-character accuracy
            on that level's dev programs). dataset: a ``PairDataset`` holding the
            vocabularies. data: the ``ProgramData``. setup: the ``ExecuteSetup``.
            stages: (step, level) each time the naive curriculum moved on.
    """

    strategy: str
    model: Seq2Seq
    history: object
    dataset: PairDataset
    data: ProgramData
    setup: ExecuteSetup
    stages: list


def _schedule(setup):
    if setup.lr_decay == 1.0:
        return None
    return lambda opt: torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: setup.lr_decay ** (k / setup.steps)
    )


def train_strategy(strategy, setup, data=None, progress=True, device="cpu"):
    """Train a fresh ``Seq2Seq`` on programs drawn by one strategy.

    Args:
        strategy: one of ``STRATEGIES``. setup: an ``ExecuteSetup``.
        data: ``make_data(setup)``, to share it between strategies. progress: fit's bar.
        device: where to train (the default CPU: these models are small).
    Returns:
        an ``ExecuteRun``.
    """
    data = make_data(setup) if data is None else data
    rng = np.random.default_rng(setup.seed)
    curriculum = Curriculum(strategy, setup, rng)
    datasets = {
        level: PairDataset(program_pairs(programs), data.src_vocab, data.tgt_vocab)
        for level, programs in data.train.items()
    }
    probe = next(iter(datasets.values()))
    test_pairs = program_pairs(data.test[: setup.n_dev])
    dev_pairs = {level: program_pairs(programs) for level, programs in data.dev.items()}
    stages, steps_done = [], [0]

    def evaluate(model):
        steps_done[0] += setup.eval_every
        out = {
            "val_char": char_accuracy(model, test_pairs, probe),
            "val_exact": exact_match(model, test_pairs, probe),
        }
        if curriculum.uses_stages:
            out["stage"] = curriculum.stage
            out["level_char"] = char_accuracy(model, dev_pairs[curriculum.level()], probe)
            if curriculum.update(out["level_char"]):
                stages.append((steps_done[0], curriculum.level()))
        return out

    set_seed(setup.seed)
    model = Seq2Seq(
        len(data.src_vocab),
        len(data.tgt_vocab),
        setup.embed_size,
        setup.hidden_size,
        device=device,
    )
    history = fit(
        model,
        ProgramBatches(datasets, curriculum, setup.batch_size, rng),
        seq2seq_loss,
        steps=setup.steps,
        lr=setup.lr,
        scheduler=_schedule(setup),
        device=device,
        eval_fn=evaluate,
        eval_every=setup.eval_every,
        progress=progress,
    )
    return ExecuteRun(strategy, model, history, probe, data, setup, stages)


def compare_strategies(setup, strategies=STRATEGIES, progress=True, device="cpu"):
    """One run per strategy on the same data, seed and budget: {strategy: ExecuteRun}."""
    bad = [s for s in strategies if s not in STRATEGIES]
    if bad or not strategies:
        raise ValueError(f"strategies must be a non-empty subset of {STRATEGIES}, got {bad!r}")
    data = make_data(setup)
    return {s: train_strategy(s, setup, data, progress, device) for s in strategies}


class Scores(NamedTuple):
    """Held-out scores at the target difficulty: char (teacher forced) and exact (greedy)."""

    char: float
    exact: float


def final_scores(run, programs=None):
    """``Scores`` of a run on ``programs`` (default: the whole test set)."""
    programs = run.data.test if programs is None else programs
    pairs = program_pairs(programs)
    return Scores(
        char_accuracy(run.model, pairs, run.dataset), exact_match(run.model, pairs, run.dataset)
    )


def scores_by_level(run, level_sets):
    """{(L, n): Scores} on held-out programs of each level (e.g. ``run.data.dev``)."""
    return {level: final_scores(run, programs) for level, programs in level_sets.items()}


def predictions(run, programs):
    """Greedy outputs of a run for a list of ``Program``: a list of str."""
    return translate(
        run.model, [p.text for p in programs], run.dataset, decode_len(program_pairs(programs))
    )


def with_budget(setup, **changes):
    """``dataclasses.replace`` for a setup."""
    return replace(setup, **changes)


# ----- plots -----

COLORS = {"baseline": "tab:gray", "naive": "tab:red", "mix": "tab:blue", "combined": "tab:green"}


def plot_curves(ax, runs, metric="val_char", ls="-", labels=True):
    """A held-out score against training step, one line per strategy; curricula mark their
    moves to the next level with a triangle. ``labels=False`` leaves the lines out of the
    legend (for a second seed drawn on the same axes)."""
    for name, run in runs.items():
        steps, values = run.history.series(metric)
        color = COLORS.get(name)
        label = name if labels else None
        ax.plot(steps, values, ls, marker="o", ms=3, color=color, label=label)
        for step, _ in run.stages:
            if step in steps:
                ax.plot(step, values[steps.index(step)], "v", ms=8, color=color, alpha=0.6)
    ylabel = {"val_char": "per-character accuracy", "val_exact": "exact match"}.get(metric, metric)
    ax.set(xlabel="training step", ylabel=f"{ylabel} (target, held out)")
    ax.grid(alpha=0.3)
    return ax


def plot_scores(ax, scores, metric="exact"):
    """Grouped bars: one group per strategy, one bar per seed. scores: {seed: {name: Scores}}."""
    seeds = list(scores)
    names = list(next(iter(scores.values())))
    width = 0.8 / len(seeds)
    for k, seed in enumerate(seeds):
        values = [getattr(scores[seed][name], metric) for name in names]
        x = np.arange(len(names)) + (k - (len(seeds) - 1) / 2) * width
        bars = ax.bar(
            x,
            values,
            width,
            color=[COLORS.get(n) for n in names],
            alpha=1.0 - 0.35 * k,
            edgecolor="black",
            label=f"seed {seed}",
        )
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(np.arange(len(names)), names)
    label = "exact match (greedy)" if metric == "exact" else "per-character accuracy"
    ax.set(ylabel=f"{label}, {len(scores)} seeds", ylim=(0, 1))
    ax.legend(fontsize=8)
    return ax


def plot_losses(ax, runs, smooth=50):
    """The training loss of each strategy, a running mean over ``smooth`` steps.

    The curricula train on easier programs, so a lower loss here does not mean a better
    model at the target difficulty.
    """
    for name, run in runs.items():
        loss = np.asarray(run.history.loss)
        kernel = np.ones(smooth) / smooth
        smoothed = np.convolve(loss, kernel, mode="valid")
        ax.plot(np.arange(smooth, len(loss) + 1), smoothed, color=COLORS.get(name), label=name)
    ax.set(xlabel="training step", ylabel="training loss (7.3)", yscale="log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def format_predictions(runs, programs):
    """Each program, its true output and every strategy's greedy answer, as text."""
    answers = {name: predictions(run, programs) for name, run in runs.items()}
    lines = []
    for k, p in enumerate(programs):
        lines.append(p.text.replace("\n", "; ") + f"   -> {p.output}")
        row = [
            f"{name} {answers[name][k]}{'' if answers[name][k] == p.output else ' x'}"
            for name in runs
        ]
        lines.append("    " + ",  ".join(row))
    return "\n".join(lines)
