"""Lecture 3's training experiments: LSTM vs RNN at long range, gradient clipping, the remedies.

Three recipes, each seeded and sized for two CPU cores:

* ``lstm_vs_rnn``: the adding problem at T = 100 (a dependency about 50 to 100 steps long).
  The LSTM trains until the validation MSE falls below a target; a tanh RNN of the same size
  then trains for exactly as many steps, and stays at the baseline MSE of 1/6.
* ``clipping_runs``: one tanh RNN and seed trained by SGD on sine waves with and without
  gradient-norm clipping (Pascanu et al. 2013): the unclipped gradient explodes and the run
  dies; the clipped one trains.
* ``gradient_flow_at_init``: ||dh_t/dh_0|| at initialisation for each remedy: careful
  initialisation (orthogonal W_h; IRNN, ReLU with W_h = I), and gating (LSTM, GRU).

Every model reads time-major inputs (T, B, D).
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from lstm_course import modules, set_seed
from lstm_course.analysis.gradients import state_jacobian_norms
from lstm_course.data import AddingProblem, SineWaves, make_loader
from lstm_course.models import SequenceModel
from lstm_course.train import fit

# One colour per model in every figure of the lecture.
COLORS = {
    "RNN": "tab:red",
    "LSTM": "tab:blue",
    "GRU": "tab:green",
    "tanh RNN (default init)": "tab:red",
    "tanh RNN, orthogonal W_h": "tab:orange",
    "IRNN: ReLU, W_h = I": "tab:purple",
    "LSTM (forget bias 1)": "tab:blue",
}


def color_of(name):
    """The lecture's colour for a model name ("LSTM after training" is an LSTM), or None."""
    return COLORS.get(name, COLORS.get(name.split()[0]))


class Run(NamedTuple):
    """A trained model and the ``History`` of its ``fit``."""

    model: nn.Module
    history: object


# ----- the adding problem: LSTM vs RNN -----


@dataclass(frozen=True)
class AddingSetup:
    """The adding-problem recipe (sizes, optimiser, budget).

    Attributes:
        T: sequence length. hidden_size: H. batch_size: B. lr: Adam's learning rate.
        clip_norm: gradient clipping threshold (both models). max_steps: the LSTM's budget.
        target_mse: the LSTM stops once its validation MSE is below this.
        eval_every: steps between evaluations on the fixed validation set.
        n_train, n_val: sizes of the training and validation sets. seed: model and data seed.
    """

    T: int = 100
    hidden_size: int = 32
    batch_size: int = 64
    lr: float = 1e-2
    clip_norm: float = 1.0
    max_steps: int = 2500
    target_mse: float = 0.01
    eval_every: int = 50
    n_train: int = 20_000
    n_val: int = 1_000
    seed: int = 0


def adding_data(setup):
    """The seeded training loader (shuffled) and the fixed validation batch.

    Returns:
        train: a DataLoader of ``Sample(x (T, B, 2), y (B, 1), ...)``.
        val: one ``Sample`` with x (T, n_val, 2), y (n_val, 1); drawn from its own seed.
    """
    train_set = AddingProblem(setup.n_train, T=setup.T, seed=setup.seed)
    train = make_loader(train_set, setup.batch_size, seed=setup.seed, drop_last=True)
    val = next(iter(make_loader(validation_set(setup), setup.n_val, shuffle=False)))
    return train, val


def validation_set(setup):
    """The fixed validation AddingProblem (its own seed, apart from the training data)."""
    return AddingProblem(setup.n_val, T=setup.T, seed=setup.seed + 10_000)


def mse_loss(model, batch):
    """fit's loss_fn: the squared error of the answer read after the last step."""
    y_hat, _ = model(batch.x)  # (B, 1)
    return nn.functional.mse_loss(y_hat, batch.y)


def val_mse_fn(val):
    """fit's eval_fn: {"val_mse": MSE on the fixed validation batch ``val``}."""

    def evaluate(model):
        y_hat, _ = model(val.x)
        return {"val_mse": nn.functional.mse_loss(y_hat, val.y)}

    return evaluate


def adding_model(kind, hidden_size):
    """SequenceModel(kind, 2, H, 1): a recurrent layer read out after the last step.

    ``kind`` is "RNN" (tanh), "LSTM", "GRU" or one of the ``REMEDIES`` names, whose recurrent
    layer replaces the default one.
    """
    if kind in REMEDIES:
        model = SequenceModel("RNN", 2, hidden_size, 1)
        model.rnn = make_remedy(kind, 2, hidden_size)
        return model
    return SequenceModel(kind, 2, hidden_size, 1)


def train_adding(kind, setup, steps=None, stop_at_target=True, progress=True, data=None):
    """Train ``adding_model(kind, H)`` on the adding problem, seeded by ``setup.seed``.

    Args:
        kind: "RNN" (tanh), "LSTM", "GRU" or a REMEDIES name. setup: AddingSetup.
        steps: the step budget; None: ``setup.max_steps``.
        stop_at_target: stop once val_mse < setup.target_mse.
        data: (train, val) from ``adding_data``, to build them once for several runs.
    Returns:
        Run(model, history); history.evals["val_mse"] every ``setup.eval_every`` steps.
    """
    train, val = adding_data(setup) if data is None else data
    set_seed(setup.seed)
    model = adding_model(kind, setup.hidden_size)
    history = fit(
        model,
        train,
        mse_loss,
        steps=setup.max_steps if steps is None else steps,
        lr=setup.lr,
        clip_norm=setup.clip_norm,
        device="cpu",
        eval_fn=val_mse_fn(val),
        eval_every=setup.eval_every,
        target=("val_mse", "<", setup.target_mse) if stop_at_target else None,
        progress=progress,
    )
    return Run(model, history)


def lstm_vs_rnn(setup=AddingSetup(), progress=True):
    """The LSTM until it meets the target (or max_steps), then a tanh RNN for as many steps.

    Returns:
        {"LSTM": Run, "RNN": Run}; both histories have the same number of steps.
    """
    data = adding_data(setup)
    lstm = train_adding("LSTM", setup, progress=progress, data=data)
    rnn = train_adding(
        "RNN", setup, steps=lstm.history.steps, stop_at_target=False, progress=progress, data=data
    )
    return {"LSTM": lstm, "RNN": rnn}


def remedies_on_adding(names, steps, setup=AddingSetup(), progress=True, data=None):
    """Train each remedy on the adding problem for at most ``steps`` steps, stopping at the
    target like the LSTM: {name: Run}."""
    data = adding_data(setup) if data is None else data
    return {
        name: train_adding(name, setup, steps=steps, progress=progress, data=data) for name in names
    }


def final_val_mse(run):
    """The validation MSE of the final model (fit always evaluates after the last step)."""
    return run.history.evals["val_mse"][-1]


def smooth(values, window=50):
    """Trailing moving average (shorter at the start), to read a noisy per-step loss."""
    values = np.asarray(values, dtype=float)
    csum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    return (csum[idx] - csum[start]) / (idx - start)


def plot_learning_curves(ax, runs, setup=AddingSetup(), train_curves=True):
    """Validation MSE (and the smoothed training loss) of each run on a log axis, with the
    baseline 1/6 (always answer 1) and the target."""
    for name, run in runs.items():
        color = color_of(name)
        if train_curves:
            steps, loss = run.history.series("loss")
            ax.plot(steps, smooth(loss, 20), color=color, alpha=0.4, lw=1, label=f"{name} train")
        steps, val = run.history.series("val_mse")
        label = f"{name} validation" if train_curves else name
        ax.plot(steps, val, "o-", color=color, ms=3, label=label)
    ax.axhline(AddingProblem.baseline_mse, color="gray", ls="--", label="baseline 1/6")
    ax.axhline(setup.target_mse, color="gray", ls=":", label=f"target {setup.target_mse:g}")
    ax.set(yscale="log", xlabel="training step", ylabel="mean squared error")
    if train_curves:
        ax.text(0.01, 0.02, "train: mean of the last 20 steps", transform=ax.transAxes, fontsize=8)
    ax.set_title(f"adding problem, T = {setup.T}, H = {setup.hidden_size}")
    ax.legend(fontsize=8)
    return ax


def first_marker_at(val_set, step=0):
    """Index of the first validation sequence whose first marked number is at ``step``."""
    hits = torch.nonzero(val_set.positions[:, 0] == step).flatten()
    if len(hits) == 0:
        raise ValueError(f"no sequence has its first marker at step {step}")
    return int(hits[0])


def plot_sensitivity(axes, maps, marks=(), vmin=-12.0):
    """Graves-style sensitivity maps: log10 ||dh_{t,j}/dx_1|| per unit j (rows) and step t.

    Args:
        axes: one axis per map and one more for the norm over units against t.
        maps: {name: (T, H) sensitivities} from ``analysis.gradients.input_sensitivity``.
        marks: 0-based steps to mark with vertical lines (the adding problem's markers).
        vmin: the darkest shade's log10; smaller values are drawn as it.
    Returns:
        the last image (for a colorbar).
    """
    image = None
    for ax, (name, S) in zip(axes, maps.items(), strict=False):
        T, H = S.shape
        with np.errstate(divide="ignore"):
            logS = np.log10(S.T)  # (H, T): units as rows, like Graves's figure
        image = ax.imshow(
            np.maximum(logS, vmin),
            aspect="auto",
            cmap="Greys",
            vmin=vmin,
            vmax=0.5,
            extent=(0.5, T + 0.5, H - 0.5, -0.5),
            interpolation="nearest",
        )
        ax.set(xlabel="t", ylabel="hidden unit j", title=f"{name}: dh_t / dx_1")
        for step in marks:
            ax.axvline(step + 1, color="tab:orange", lw=1, ls=":")
    ax = axes[len(maps)]
    for name, S in maps.items():
        t = np.arange(1, S.shape[0] + 1)
        ax.plot(t, np.linalg.norm(S, axis=1), color=color_of(name), label=name)
    for step in marks:
        ax.axvline(step + 1, color="tab:orange", lw=1, ls=":")
    ax.set(yscale="log", xlabel="t", ylabel="||dh_t / dx_1|| (all units)")
    ax.legend(fontsize=8)
    return image


# ----- exploding gradients and clipping -----


@dataclass(frozen=True)
class ClipSetup:
    """The clipping recipe: a tanh RNN predicting sine waves, trained by SGD with momentum.

    The learning rate is on purpose a little too large for the few steps where the loss
    surface is steep (Pascanu et al.'s cliffs): that is where an unclipped step throws the
    weights far enough for the gradient to explode.
    """

    T: int = 50
    hidden_size: int = 32
    batch_size: int = 64
    lr: float = 0.5
    momentum: float = 0.9
    steps: int = 300
    n_train: int = 6_400
    seed: int = 0


def clipping_run(clip_norm, setup=ClipSetup(), progress=True):
    """Train one seeded tanh RNN on next-step sine prediction, with or without clipping.

    Args:
        clip_norm: the threshold tau of ||g|| (None: no clipping; the norm is still recorded).
    Returns:
        Run(model, history); history.grad_norm is the norm before clipping. A run whose loss
        or gradient becomes inf or NaN stops there (history.stop_reason says so).
    """
    data = SineWaves(setup.n_train, T=setup.T, seed=setup.seed + 1)
    train = make_loader(data, setup.batch_size, seed=setup.seed, drop_last=True)
    set_seed(setup.seed)
    model = SequenceModel("RNN", 1, setup.hidden_size, 1, readout="all")
    optimizer = torch.optim.SGD(model.parameters(), lr=setup.lr, momentum=setup.momentum)
    history = fit(
        model,
        train,
        mse_loss,
        steps=setup.steps,
        optimizer=optimizer,
        clip_norm=clip_norm,
        device="cpu",
        progress=progress,
    )
    return Run(model, history)


def clipping_runs(clip_norm=0.5, setup=ClipSetup(), progress=True):
    """{"no clipping": Run, "clip_norm = ...": Run}: the same model and seed, both ways."""
    return {
        "no clipping": clipping_run(None, setup, progress),
        f"clip_norm = {clip_norm:g}": clipping_run(clip_norm, setup, progress),
    }


def plot_clipping(axes, runs):
    """Loss (left) and pre-clip gradient norm (right) of each run, log scales.

    The loss axis stops at 100 times the largest starting loss, so that the runs that train
    stay readable; a run that diverged leaves the top of the panel and is marked where its
    loss stopped being finite."""
    diverged = []
    for (name, run), color in zip(runs.items(), ("tab:red", "tab:blue"), strict=False):
        h = run.history
        steps = np.arange(1, h.steps + 1)
        loss, norm = np.array(h.loss), np.array(h.grad_norm)
        axes[0].plot(steps, loss, color=color, lw=1, label=name)
        axes[1].plot(steps, norm, color=color, lw=1, label=name)
        if not (np.isfinite(loss[-1]) and np.isfinite(norm[-1])):
            diverged.append((h.steps, color))
        if h.clip_norm is not None:
            axes[1].axhline(h.clip_norm, color=color, ls="--", lw=1, label="threshold tau")
    axes[0].set_yscale("log")
    top = 100 * max(run.history.loss[0] for run in runs.values())
    axes[0].set_ylim(top=top)
    for step, color in diverged:
        axes[0].plot(step, top, "x", color=color, ms=10, mew=2, clip_on=False)
        axes[0].annotate(
            f"loss -> inf at step {step}",
            (step, top),
            xytext=(8, -14),
            textcoords="offset points",
            color=color,
            fontsize=8,
        )
    axes[0].set(yscale="log", xlabel="training step", ylabel="training MSE", title="loss")
    axes[1].set(
        yscale="log",
        xlabel="training step",
        ylabel="||g|| before clipping",
        title="gradient norm",
    )
    for ax in axes:
        ax.legend(fontsize=8)
    return axes


# ----- the remedies at initialisation -----


def _irnn(D, H):
    """Le et al. (2015): ReLU units, W_h = I, zero biases: h_t = relu(h_{t-1} + x_t W_x)."""
    rnn = modules.RNN(D, H, nonlinearity="relu")
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.eye(H))
        rnn.bias_ih_l0.zero_()
        rnn.bias_hh_l0.zero_()
    return rnn


def _orthogonal_rnn(D, H):
    """A tanh RNN whose W_h is a random orthogonal matrix: every singular value is 1."""
    rnn = modules.RNN(D, H)
    with torch.no_grad():
        nn.init.orthogonal_(rnn.weight_hh_l0)
    return rnn


REMEDIES = {
    "tanh RNN (default init)": lambda D, H: modules.RNN(D, H),
    "tanh RNN, orthogonal W_h": _orthogonal_rnn,
    "IRNN: ReLU, W_h = I": _irnn,
    "LSTM (forget bias 1)": lambda D, H: modules.LSTM(D, H),
    "GRU": lambda D, H: modules.GRU(D, H),
}


def make_remedy(name, input_size, hidden_size):
    """A freshly initialised recurrent layer of one of the ``REMEDIES``."""
    if name not in REMEDIES:
        raise ValueError(f"name must be one of {list(REMEDIES)}, got {name!r}")
    return REMEDIES[name](input_size, hidden_size)


def gradient_flow_at_init(X, hidden_size=32, seed=0, names=tuple(REMEDIES)):
    """||dh_t/dh_0|| for t = 1..T through each remedy, freshly initialised with ``seed``.

    Args:
        X: (T, B, D) input sequences (the same for every remedy).
        hidden_size: H. names: which REMEDIES to measure.
    Returns:
        {name: (T, B) NumPy array}, from ``analysis.gradients.state_jacobian_norms``.
    """
    out = {}
    for name in names:
        set_seed(seed)
        out[name] = state_jacobian_norms(make_remedy(name, X.shape[-1], hidden_size), X)
    return out


def plot_gradient_flow(ax, flows, extra=None):
    """Median over sequences of ||dh_t/dh_0|| against t, one line per remedy, log scale.

    Args:
        flows: {name: (T, B)} from gradient_flow_at_init. extra: more {name: (T, B)} drawn
            dashed (e.g. "LSTM after training", coloured like the LSTM).
    """
    for style, group in (("-", flows), ("--", extra or {})):
        for name, norms in group.items():
            t = np.arange(1, norms.shape[0] + 1)
            ax.plot(t, np.median(norms, axis=1), style, color=color_of(name), lw=1.5, label=name)
    ax.set(yscale="log", xlabel="t (steps after h_0)", ylabel="median ||dh_t / dh_0||")
    ax.legend(fontsize=8)
    return ax
