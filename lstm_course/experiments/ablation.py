"""Lecture 5's experiments: which LSTM parts matter (an ablation) and what reading ahead buys.

The ablation, after Greff et al. (2016) and Jozefowicz et al. (2015): the same task, data,
optimiser and initial seeds for every cell in MODELS (modules/variants.py and modules.GRU); the
result is the validation MSE at the end of a fixed budget, over a few seeds.

The task is a latch (eq. 5.13), the continuous cousin of the flip-flop task of Sussillo & Barak
(2013): a stream of random values u_t with a marker bit m_t; the target at every step is the
value seen at the last marker,

    y_t = u_tau(t),   tau(t) = max{s <= t : m_s = 1}    (y_t = 0 before the first marker).

It needs every part of the LSTM cell: write only when marked (input gate), erase the old value
then (forget gate), hold it for about 1 / p_mark steps in between (forget gate near 1).

The bidirectional experiment tags each step of a random series as a peak or not (eq. 5.9),
which depends on the next value: a left-to-right model can at best reach 7/8 (UNI_BEST).
Shapes are time-major: x (T, B, D), y (T, B, 1).
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch.nn.functional import binary_cross_entropy_with_logits, mse_loss

from lstm_course.data.batching import make_loader
from lstm_course.data.samples import SampleDataset
from lstm_course.models import SequenceModel
from lstm_course.modules.variants import LSTMVariant
from lstm_course.runtime import set_seed
from lstm_course.train import fit

# name -> (variant, forget_bias); the GRU has no forget gate to bias.
MODELS = {
    "vanilla": ("vanilla", 1.0),
    "vanilla, b_f = 0": ("vanilla", 0.0),
    "NIG": ("NIG", 1.0),
    "NFG": ("NFG", 1.0),
    "NOG": ("NOG", 1.0),
    "CIFG": ("CIFG", 1.0),
    "NOAF": ("NOAF", 1.0),
    "GRU": ("GRU", None),
}
# One colour per model in every figure (the widget's too).
COLOURS = {name: f"C{k}" for k, name in enumerate(MODELS)} | {"NOAF": "C8", "GRU": "C6"}


@dataclass
class AblationConfig:
    """The ablation's settings; the defaults are what the lecture runs (about 4 s of CPU a run)."""

    names: tuple = ("vanilla", "vanilla, b_f = 0", "NIG", "NFG", "NOG", "CIFG", "NOAF", "GRU")
    seeds: tuple = (0, 1, 2)
    T: int = 40  # steps per sequence
    p_mark: float = 0.05  # a new value to latch every 20 steps on average
    hidden_size: int = 32
    batch_size: int = 64
    steps: int = 300  # one pass over fresh data; Adam, lr cosine-annealed to 0
    lr: float = 1e-2
    eval_every: int = 25
    n_val: int = 1000


class LatchTask(SampleDataset):
    """Hold the value seen at the last marker (module docstring, eq. 5.13).

    Each sample is ``Sample(x, y, mask, length)``: x (T, 2) float32, channel 0 the values
    u_t ~ U(-1, 1), channel 1 the markers m_t ~ Bernoulli(p_mark); y (T, 1) the latched value;
    mask (T,) all True; length T. ``baseline_mse`` is the MSE of always answering 0, E[y^2].
    """

    def __init__(self, n_samples, T=40, p_mark=0.05, seed=0):
        rng = np.random.default_rng(seed)
        u = rng.uniform(-1, 1, size=(n_samples, T)).astype(np.float32)  # (N, T)
        m = rng.random((n_samples, T)) < p_mark  # (N, T) bool
        y = np.zeros_like(u)
        held = np.zeros(n_samples, dtype=np.float32)
        for t in range(T):
            held = np.where(m[:, t], u[:, t], held)  # a marker overwrites what was held
            y[:, t] = held
        super().__init__(
            x=torch.from_numpy(np.stack([u, m.astype(np.float32)], axis=-1)),  # (N, T, 2)
            y=torch.from_numpy(y[..., None]),  # (N, T, 1)
            mask=torch.ones(n_samples, T, dtype=torch.bool),
            length=torch.full((n_samples,), T, dtype=torch.int64),
        )
        self.baseline_mse = float((self.y**2).mean())


def build_model(name, input_size, hidden_size, output_size, readout="all", **rnn_kwargs):
    """A SequenceModel whose recurrent layer is the cell MODELS[name] names.

    Every LSTM variant, vanilla included, runs the same step loop (fused=False), so the only
    difference between two runs is the cell equations.
    """
    variant, forget_bias = MODELS[name]
    model = SequenceModel("GRU", input_size, hidden_size, output_size, readout, **rnn_kwargs)
    if variant != "GRU":
        model.rnn = LSTMVariant(
            input_size, hidden_size, variant, forget_bias=forget_bias, fused=False, **rnn_kwargs
        )
    return model


def initial_model(name, seed, config=None):
    """The untrained model that ``train_run(name, seed)`` starts from (seeded, repeatable)."""
    config = config or AblationConfig()
    set_seed(seed)
    return build_model(name, 2, config.hidden_size, 1)


def latch_loss(model, batch):
    """Per-step MSE over the whole sequence: the latch loss for ``fit``."""
    y_hat, _ = model(batch.x)  # (T, B, 1)
    return mse_loss(y_hat, batch.y)


class RunResult(NamedTuple):
    """One training run of the ablation."""

    name: str
    seed: int
    eval_steps: list
    val_mse: list  # validation MSE at each of eval_steps
    final_mse: float
    n_params: int  # recurrent layer only
    model: torch.nn.Module


def train_run(name, seed, config=None, progress=False):
    """Train MODELS[name] on the latch task from ``seed``; the data depend on the seed only."""
    config = config or AblationConfig()
    train = LatchTask(config.steps * config.batch_size, config.T, config.p_mark, seed=1000 + seed)
    val = LatchTask(config.n_val, config.T, config.p_mark, seed=999)
    x_val, y_val = val.x.transpose(0, 1), val.y.transpose(0, 1)  # (T, N, 2), (T, N, 1)
    model = initial_model(name, seed, config)
    history = fit(
        model,
        make_loader(train, config.batch_size, seed=seed, drop_last=True),
        latch_loss,
        steps=config.steps,
        lr=config.lr,
        scheduler=lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.steps),
        device="cpu",
        eval_fn=lambda m: {"val_mse": mse_loss(m(x_val)[0], y_val)},
        eval_every=config.eval_every,
        progress=progress,
    )
    n_params = sum(p.numel() for p in model.rnn.parameters())
    mse = history.evals["val_mse"]
    return RunResult(name, seed, history.eval_steps, mse, mse[-1], n_params, model)


def run_ablation(config=None, progress=True):
    """``train_run`` for every name and seed of the config: {(name, seed): RunResult}."""
    from tqdm.auto import tqdm

    config = config or AblationConfig()
    runs = [(name, seed) for name in config.names for seed in config.seeds]
    results = {}
    for name, seed in tqdm(runs, desc="ablation runs", disable=not progress):
        results[name, seed] = train_run(name, seed, config)
    return results


class Summary(NamedTuple):
    """One row of the results table: a model's final validation MSE over the seeds."""

    name: str
    n_params: int
    mean: float
    std: float  # sample standard deviation (ddof = 1) over the seeds
    finals: tuple  # one final MSE per seed


def summarize(results):
    """[Summary] in the order the names were run."""
    names = list(dict.fromkeys(name for name, _ in results))
    rows = []
    for name in names:
        runs = [r for (n, _), r in results.items() if n == name]
        finals = np.array([r.final_mse for r in runs])
        std = float(finals.std(ddof=1)) if len(finals) > 1 else 0.0
        rows.append(Summary(name, runs[0].n_params, float(finals.mean()), std, tuple(finals)))
    return rows


def format_table(rows, reference="vanilla"):
    """The results as a text table, 4 decimals: mean +- std, the mean relative to
    ``reference``'s, and the final MSE of each seed."""
    ref = {r.name: r.mean for r in rows}.get(reference, math.nan)
    lines = [
        f"{'model':<18}{'params':>7}  {'val MSE (mean +- std)':>22}  {'x ' + reference:>10}"
        "   each seed"
    ]
    for r in rows:
        seeds = " ".join(f"{v:.4f}" for v in r.finals)
        lines.append(
            f"{r.name:<18}{r.n_params:>7}  {r.mean:>12.4f} +- {r.std:.4f}  {r.mean / ref:>10.2f}"
            f"   {seeds}"
        )
    return "\n".join(lines)


def plot_curves(results, names=None, seeds=None, ax=None, baseline=None):
    """Validation MSE against training steps: the seed mean of each model, seeds thin behind."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.subplots(figsize=(7, 4))[1]
    names = names or list(dict.fromkeys(name for name, _ in results))
    for k, name in enumerate(names):
        runs = [r for (n, s), r in results.items() if n == name and (seeds is None or s in seeds)]
        color = COLOURS.get(name, f"C{k}")
        for r in runs:
            ax.plot(r.eval_steps, r.val_mse, color=color, lw=0.8, alpha=0.35)
        mean = np.mean([r.val_mse for r in runs], axis=0)
        ax.plot(runs[0].eval_steps, mean, color=color, lw=2, label=name)
    if baseline is not None:
        ax.axhline(baseline, color="gray", ls="--", label="answer 0")
    ax.set(xlabel="training step", ylabel="validation MSE", yscale="log")
    ax.legend(fontsize=8, ncol=2)
    return ax


def forget_gate_means(model, x):
    """Mean forget gate of a latch model on inputs x (T, B, 2): (at marker steps, elsewhere).

    The means run over steps, sequences and units; a marker step is one with x[t, b, 1] = 1.
    """
    with torch.no_grad(), model.rnn.record_gates() as gates:
        model(x)
    f, marked = gates[0, 0]["f"], x[..., 1] > 0  # (T, B, H), (T, B)
    return f[marked].mean().item(), f[~marked].mean().item()


def predict(model, sample):
    """A trained latch model's output on one sample: (T,) array."""
    with torch.no_grad():
        y_hat, _ = model(sample.x[:, None])  # (T, 1, 1)
    return y_hat[:, 0, 0].numpy()


def plot_predictions(sample, predictions, ax=None):
    """One latch sequence: the inputs, the markers, the target and each model's output.

    Args:
        sample: a LatchTask Sample. predictions: {label: (T,) array}, e.g. from ``predict``.
    """
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.subplots(figsize=(7, 3))[1]
    t = np.arange(sample.x.shape[0])
    for s in t[sample.x[:, 1].numpy() > 0]:
        ax.axvline(s, color="k", lw=0.8, ls=":")
    ax.plot(t, sample.x[:, 0].numpy(), ".", color="gray", label="input $u_t$")
    ax.step(t, sample.y[:, 0].numpy(), where="mid", color="k", lw=2.5, label="target $y_t$")
    for k, (label, y_hat) in enumerate(predictions.items()):
        ax.step(t, y_hat, where="mid", color=COLOURS.get(label, f"C{k}"), lw=1.5, label=label)
    ax.set(xlabel="time step t (dotted: markers)", ylabel="value", ylim=(-1.15, 1.15))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def compare(results, val, a, b, seed, index, fig=None):
    """The widget's picture: learning curves of models a and b for one seed (left) and their
    outputs on validation sequence ``index`` (right). Trained models only; nothing is trained."""
    import matplotlib.pyplot as plt

    fig = fig if fig is not None else plt.figure(figsize=(11, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.4])
    ran = [name for name, _ in results]
    plot_curves(
        {k: r for k, r in results.items() if k[1] == seed and k[0] in (a, b)},
        names=[n for n in dict.fromkeys(ran) if n in (a, b)],
        ax=left,
        baseline=val.baseline_mse,
    )
    left.set_title(f"seed {seed}")
    sample = val[index]
    plot_predictions(sample, {n: predict(results[n, seed].model, sample) for n in (a, b)}, right)
    right.set_title(f"validation sequence {index}")
    return fig


# -- bidirectional ----------------------------------------------------------------------------

UNI_BEST = 7 / 8  # the best accuracy of any model that has not seen x_{t+1} (see PeakTask)


class PeakTask(SampleDataset):
    """Tag each step as a peak, y_t = [x_t > x_{t-1} and x_t > x_{t+1}] (eq. 5.9).

    x_t ~ U(0, 1). The loss and accuracy count steps 1..T-2 (mask), which have both neighbours.
    Knowing x_{t-1} and x_t only, the best guess is "peak" iff x_t > x_{t-1} and x_t > 1/2,
    wrong with probability  int_0^1 u min(u, 1 - u) du = 1/8: accuracy 7/8 = UNI_BEST.

    Sample(x (T, 1), y (T, 1) float in {0, 1}, mask (T,), length).
    """

    def __init__(self, n_samples, T=20, seed=0):
        x = torch.from_numpy(np.random.default_rng(seed).random((n_samples, T), np.float32))
        y = torch.zeros_like(x)
        y[:, 1:-1] = ((x[:, 1:-1] > x[:, :-2]) & (x[:, 1:-1] > x[:, 2:])).float()
        mask = torch.zeros(n_samples, T, dtype=torch.bool)
        mask[:, 1:-1] = True
        length = torch.full((n_samples,), T, dtype=torch.int64)
        super().__init__(x[..., None], y[..., None], mask, length)


def peak_loss(model, batch):
    """Masked binary cross-entropy of the per-step peak logits, and the accuracy."""
    logits, _ = model(batch.x)  # (T, B, 1)
    keep = batch.mask[..., None]
    loss = binary_cross_entropy_with_logits(logits[keep], batch.y[keep])
    return loss, {"acc": ((logits[keep] > 0).float() == batch.y[keep]).float().mean()}


def train_peak(bidirectional, hidden_size=16, steps=300, lr=1e-2, seed=0, progress=True):
    """An LSTM tagger (one layer, forward only or bidirectional) on PeakTask; returns History."""
    train, val = PeakTask(steps * 64, seed=1), PeakTask(2000, seed=2)
    val_batch = next(iter(make_loader(val, len(val), shuffle=False)))
    set_seed(seed)
    model = SequenceModel("LSTM", 1, hidden_size, 1, readout="all", bidirectional=bidirectional)
    return fit(
        model,
        make_loader(train, 64, seed=seed),
        peak_loss,
        steps=steps,
        lr=lr,
        device="cpu",
        eval_fn=lambda m: {"val_acc": peak_loss(m, val_batch)[1]["acc"]},
        eval_every=25,
        progress=progress,
    )


def uni_rule_accuracy(n_samples=20000, T=20, seed=3):
    """Accuracy on PeakTask of the best left-to-right rule, "peak iff x_t > x_{t-1} and
    x_t > 1/2": a Monte Carlo check of UNI_BEST = 7/8."""
    task = PeakTask(n_samples, T, seed)
    x, y, mask = task.x[..., 0], task.y[..., 0], task.mask
    guess = torch.zeros_like(x)
    guess[:, 1:] = ((x[:, 1:] > x[:, :-1]) & (x[:, 1:] > 0.5)).float()
    return (guess == y)[mask].float().mean().item()


def plot_peak(histories, ax=None):
    """Validation accuracy against training step for {label: History}, with the 7/8 ceiling."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.subplots(figsize=(7, 3.5))[1]
    for label, history in histories.items():
        ax.plot(*history.series("val_acc"), marker="o", ms=3, label=label)
    ax.axhline(UNI_BEST, color="k", ls="--", lw=1, label="best possible left to right (7/8)")
    ax.set(xlabel="training step", ylabel="validation accuracy (peak or not)", ylim=(0.6, 1.0))
    ax.legend(loc="lower right", fontsize=9)
    return ax
