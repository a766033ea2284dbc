"""Lecture 1's experiments: a feed-forward net on a window against an RNN, and the four patterns.

The patterns are the ways to wire inputs and outputs to the recurrence (1.2)-(1.3),

    h_t = tanh(x_t W_x + h_{t-1} W_h + b),    y_t = h_t W_y + b_y,

with a loss that reads y_t only at the steps that have a target (1.6): one-to-one (T = 1),
one-to-many (x_1 only, every y_t), many-to-one (y_T only), many-to-many (every x_t and y_t).
Each recipe builds its data and model, trains with ``lstm_course.train.fit`` and returns a
``Trained`` (model, history, the measured numbers, the arrays the lecture plots). Seeded and
CPU-sized: seconds each on one core. Time-major: inputs (T, B, D). matplotlib is imported
inside the plot functions.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (PyTorch's own convention)

from lstm_course.data import AddingProblem, BinaryAddition, SampleDataset, make_loader
from lstm_course.data.tasks import bits_to_int
from lstm_course.models import SequenceModel
from lstm_course.runtime import set_seed
from lstm_course.train import fit


@dataclass
class Trained:
    """One recipe's outcome: the model, its ``History``, measured numbers, arrays to plot."""

    model: nn.Module
    history: object
    numbers: dict = field(default_factory=dict)  # name -> float (or list of floats)
    curves: dict = field(default_factory=dict)  # name -> array, for the plot


def _train(model, data, loss_fn, steps, lr, seed, progress, device):
    """``fit`` on seeded, shuffled batches of 64 time-major samples."""
    loader = make_loader(data, 64, seed=seed)
    return fit(model, loader, loss_fn, steps=steps, lr=lr, device=device, progress=progress)


def _output(model, x, **kwargs):
    """A model's prediction: SequenceModel returns (y, state), an MLP only y."""
    out = model(x, **kwargs)
    return out[0] if isinstance(out, tuple) else out


@torch.no_grad()
def _evaluate(model, x, lengths=None):
    """The model's output on one big time-major batch x (T, N, D), in eval mode, on CPU."""
    model.eval()
    kwargs = {} if lengths is None else {"lengths": lengths}
    out = _output(model, x.to(next(model.parameters()).device), **kwargs).cpu()
    model.train()
    return out


def _mse_loss(crop=None):
    """loss_fn for fit: MSE of the prediction from x, or from its last ``crop`` steps."""

    def loss_fn(model, batch):
        loss = F.mse_loss(_output(model, batch.x if crop is None else batch.x[-crop:]), batch.y)
        return loss, {"mse": loss}

    return loss_fn


def _dataset(x, y, mask, length=None):
    """A SampleDataset from NumPy arrays: x (N, T, D), y (N, ...), mask (N, T) bool."""
    N, T = mask.shape
    length = np.full(N, T) if length is None else length
    as_float = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    return SampleDataset(as_float(x), as_float(y), torch.as_tensor(mask), torch.as_tensor(length))


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


# ----- why not a feed-forward net: the adding problem seen through a window -----


class WindowMLP(nn.Module):
    """A feed-forward net that reads exactly ``window`` steps, flattened into one vector.

        z = [x_1, ..., x_w]  (B, w D);   y = relu(relu(z W_1 + b_1) W_2 + b_2) W_3 + b_3

    Its first layer has w D inputs: it cannot see further back than w steps, and it cannot
    take a sequence of any other length.

    Args:
        window: w, the number of steps it reads.  input_size: D.
        hidden_size: width of both hidden layers.  output_size: O.
    forward(x): x (w, B, D) -> (B, O).
    """

    def __init__(self, window, input_size, hidden_size=64, output_size=1):
        super().__init__()
        self.window = window
        self.net = nn.Sequential(
            nn.Linear(window * input_size, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, output_size),
        )

    def forward(self, x):
        T, B, D = x.shape
        if T != self.window:
            raise ValueError(
                f"this MLP reads exactly {self.window} steps ({self.window * D} numbers), "
                f"got a sequence of T = {T} steps; crop it to x[-{self.window}:] or build "
                f"another MLP, with new weights, for length {T}"
            )
        return self.net(x.transpose(0, 1).reshape(B, T * D))  # (B, w D), step after step


def adding_window_floor(T, window):
    """The lowest MSE any model reaches on the adding problem from its last ``window`` steps.

    A marked number outside the window is unknowable; the best guess is its mean 1/2, which
    costs its variance 1/12. With the first marker uniform on steps 0..T//2-1, the second on
    T//2..T-1 (``AddingProblem``'s layout, 0-based) and the window on steps T-w..T-1:

        MSE_min(w) = (P(first marker outside) + P(second marker outside)) / 12

    w = 0 gives the baseline 1/6 (always answer the mean, 1); w = T gives 0.
    """
    if T < 2 or not 0 <= window <= T:
        raise ValueError(f"need T >= 2 and 0 <= window <= T, got T={T}, window={window}")
    half, start = T // 2, T - window  # start: the first step inside the window
    return (min(half, start) / half + max(0, start - half) / (T - half)) / 12


def window_experiment(
    T=20,
    windows=(1, 5, 10, 15, 20),
    hidden_size=32,
    mlp_hidden=64,
    n_train=4096,
    steps=1500,
    lr=1e-2,
    mlp_lr=3e-3,
    seed=0,
    progress=True,
    device="cpu",
):
    """Train MLPs on the last w steps, and an RNN on all T steps, of the adding problem.

    Same data, same number of steps. No MLP can beat ``adding_window_floor(T, w)``; the RNN
    reads the whole sequence with one set of weights for every step.

    Returns:
        ``Trained`` of the RNN; numbers: rnn_mse, rnn_params, baseline, and per window
        mlp_mse, floor, mlp_params (lists aligned with numbers["windows"]); curves: mlps, the
        trained MLPs.
    """
    train, test = AddingProblem(n_train, T, seed=seed + 1), AddingProblem(1000, T, seed=seed + 2)
    X_test = test.x.transpose(0, 1)  # (T, N, 2) time-major
    set_seed(seed)
    rnn = SequenceModel("RNN", 2, hidden_size, 1)
    history = _train(rnn, train, _mse_loss(), steps, lr, seed, progress, device)
    numbers = {"rnn_mse": F.mse_loss(_evaluate(rnn, X_test), test.y).item()}
    numbers.update(T=T, rnn_params=_n_params(rnn), baseline=AddingProblem.baseline_mse)
    mlps, mlp_mse = [], []
    for w in windows:
        set_seed(seed)
        mlps.append(WindowMLP(w, 2, mlp_hidden))
        _train(mlps[-1], train, _mse_loss(crop=w), steps, mlp_lr, seed, progress, device)
        mlp_mse.append(F.mse_loss(_evaluate(mlps[-1], X_test[T - w :]), test.y).item())
    numbers.update(windows=list(windows), mlp_mse=mlp_mse)
    numbers["floor"] = [adding_window_floor(T, w) for w in windows]
    numbers["mlp_params"] = [_n_params(m) for m in mlps]
    return Trained(rnn, history, numbers, {"mlps": mlps})


# ----- one-to-one: T = 1, a feed-forward net in disguise -----


def one_to_one(
    hidden_size=16, n_train=512, steps=600, lr=3e-2, seed=0, progress=True, device="cpu"
):
    """Regress y = sin(x) on [-pi, pi] with an RNN fed sequences of length T = 1.

    With T = 1 and h_0 = 0, (1.2) is h_1 = tanh(x_1 W_x + b): a one-hidden-layer MLP. W_h only
    ever multiplies h_0 = 0, so its gradient h_0^T da_1 is 0 and training leaves it as it was.

    Returns:
        ``Trained``; numbers: grid_mse, W_h_change (max |W_h after - W_h before|); curves:
        x_train, y_train (N,), x_grid, y_true, y_pred (G,).
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-math.pi, math.pi, n_train)
    data = _dataset(x[:, None, None], np.sin(x)[:, None, None], np.ones((n_train, 1), bool))
    set_seed(seed)
    model = SequenceModel("RNN", 1, hidden_size, 1, readout="all")  # y_1 of the only step
    W_h_before = model.rnn.weight_hh_l0.detach().clone()
    history = _train(model, data, _mse_loss(), steps, lr, seed, progress, device)
    grid = np.linspace(-math.pi, math.pi, 201)
    y_pred = _evaluate(model, torch.tensor(grid, dtype=torch.float32).view(1, -1, 1))[0, :, 0]
    numbers = {
        "grid_mse": float(np.mean((y_pred.numpy() - np.sin(grid)) ** 2)),
        "W_h_change": (model.rnn.weight_hh_l0.detach().cpu() - W_h_before).abs().max().item(),
    }
    curves = dict(x_train=x, y_train=np.sin(x), x_grid=grid, y_true=np.sin(grid))
    return Trained(model, history, numbers, {**curves, "y_pred": y_pred.numpy()})


# ----- one-to-many: one frequency in, a whole wave out -----


def sine_from_frequency(n_samples, T=30, freq_range=(0.03, 0.08), seed=0):
    """One-to-many data: a frequency f given once, at step 1; the wave sin(2 pi f t) out.

        x_1 = (f - f_mid) / f_half  (f scaled to [-1, 1]),  x_t = 0 for t > 1
        y_t = sin(2 pi f t),  t = 1..T

    The state must turn one number into an oscillation of that frequency and keep it going.

    Returns:
        a SampleDataset: x (N, T, 1), y (N, T, 1), mask all True; attribute ``freq`` (N,).
    """
    lo, hi = freq_range
    f = np.random.default_rng(seed).uniform(lo, hi, n_samples)
    x = np.zeros((n_samples, T, 1))
    x[:, 0, 0] = (f - (lo + hi) / 2) / ((hi - lo) / 2)
    y = np.sin(2 * np.pi * f[:, None] * np.arange(1, T + 1))[..., None]  # (N, T, 1)
    data = _dataset(x, y, np.ones((n_samples, T), bool))
    data.freq = f
    return data


def one_to_many(
    T=30,
    hidden_size=64,
    n_train=2048,
    steps=1200,
    lr=5e-3,
    seed=0,
    progress=True,
    device="cpu",
    freq_range=(0.03, 0.08),
):
    """Train an RNN to generate sin(2 pi f t), t = 1..T, from f given at step 1 only.

    Returns:
        ``Trained``; numbers: test_mse on held-out frequencies, silent_mse (answering 0 at
        every step, about 1/2); curves: freqs (3,) lowest, middle, highest frequency and their
        y_true, y_pred (T, 3).
    """
    train = sine_from_frequency(n_train, T, freq_range, seed=seed + 1)
    test = sine_from_frequency(500, T, freq_range, seed=seed + 2)
    set_seed(seed)
    model = SequenceModel("RNN", 1, hidden_size, 1, readout="all")  # y_t at every step
    history = _train(model, train, _mse_loss(), steps, lr, seed, progress, device)
    y_test = test.y.transpose(0, 1)  # (T, N, 1)
    numbers = {
        "test_mse": F.mse_loss(_evaluate(model, test.x.transpose(0, 1)), y_test).item(),
        "silent_mse": (y_test**2).mean().item(),
    }
    lo, hi = freq_range
    freqs = np.array([lo, (lo + hi) / 2, hi])
    x = torch.zeros(T, 3, 1)
    x[0, :, 0] = torch.tensor([-1.0, 0.0, 1.0])  # lo, mid, hi, scaled as in training
    curves = {
        "freqs": freqs,
        "y_true": np.sin(2 * np.pi * freqs * np.arange(1, T + 1)[:, None]),  # (T, 3)
        "y_pred": _evaluate(model, x)[..., 0].numpy(),
    }
    return Trained(model, history, numbers, curves)


# ----- many-to-one: is a "review" positive? at any length -----

WORDS = ("good", "great", "fun", "bad", "dull", "awful")
WORDS += ("the", "film", "plot", "was", "and", "acting")
SCORES = (1, 1, 1, -1, -1, -1, 0, 0, 0, 0, 0, 0)


def review_data(n_samples, min_len=4, max_len=20, seed=0):
    """Many-to-one data: "reviews" of min_len..max_len random words, positive or not.

    Words are uniform over ``WORDS``; the label is 1 when a review has more positive words
    (good, great, fun) than negative ones (bad, dull, awful); ties are drawn again. The answer
    needs the whole review: a running count that the state has to keep.

    Returns:
        a SampleDataset: x (N, max_len, V) one-hot, zero after the review's end; y (N, 1);
        mask (N, max_len) True at the last word; length (N,). Attribute ``ids``
        (N, max_len), word indices, -1 after the end.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, n_samples)
    real = np.arange(max_len) < lengths[:, None]  # (N, max_len)
    ids = rng.integers(0, len(WORDS), (n_samples, max_len))
    score = (np.array(SCORES)[ids] * real).sum(1)
    while (tied := score == 0).any():
        ids[tied] = rng.integers(0, len(WORDS), (tied.sum(), max_len))
        score = (np.array(SCORES)[ids] * real).sum(1)
    x = np.eye(len(WORDS))[ids] * real[..., None]  # (N, max_len, V), zero after the end
    mask = np.arange(max_len) == lengths[:, None] - 1
    data = _dataset(x, (score > 0)[:, None], mask, lengths)
    data.ids = np.where(real, ids, -1)
    return data


def review_text(ids):
    """The words of one review, from its row of ``review_data(...).ids``."""
    return " ".join(WORDS[i] for i in ids if i >= 0)


def _bce_loss(model, batch):
    """Binary cross-entropy of the logit read at each sequence's own last step."""
    logit = _output(model, batch.x, lengths=batch.length.cpu())  # (B, 1)
    loss = F.binary_cross_entropy_with_logits(logit, batch.y)
    return loss, {"accuracy": ((logit > 0).float() == batch.y).float().mean()}


def many_to_one(
    hidden_size=16,
    n_train=4096,
    steps=600,
    lr=1e-2,
    seed=0,
    progress=True,
    device="cpu",
    test_ranges=((4, 20), (21, 40), (41, 80)),
):
    """Train an RNN on reviews of the first length range, then test it on every range.

    Lengths differ within a batch: ``lengths=`` stops each sequence's updates at its end, and
    the readout takes h at that step (``SequenceModel``).

    Returns:
        ``Trained``; numbers: ranges, accuracy (one per range); curves: examples, a list of
        (review, label, predicted probability of "positive") from the first range.
    """
    train = review_data(n_train, *test_ranges[0], seed=seed + 1)
    set_seed(seed)
    model = SequenceModel("RNN", len(WORDS), hidden_size, 1)
    history = _train(model, train, _bce_loss, steps, lr, seed, progress, device)
    accuracy = []
    for k, (lo, hi) in enumerate(test_ranges):
        test = review_data(1000, lo, hi, seed=seed + 2 + k)
        logit = _evaluate(model, test.x.transpose(0, 1), lengths=test.length)  # (N, 1)
        accuracy.append(((logit > 0).float() == test.y).float().mean().item())
        if k == 0:
            prob = torch.sigmoid(logit[:, 0]).tolist()
            examples = [(review_text(test.ids[i]), int(test.y[i]), prob[i]) for i in range(4)]
    numbers = {"ranges": [tuple(r) for r in test_ranges], "accuracy": accuracy}
    return Trained(model, history, numbers, {"examples": examples})


# ----- many-to-many: binary addition, one bit per step -----


def _bit_loss(model, batch):
    """Binary cross-entropy of every output bit (many-to-many: a target at every step)."""
    logit = _output(model, batch.x)[..., 0]  # (T, B)
    loss = F.binary_cross_entropy_with_logits(logit, batch.y)
    return loss, {"bit_accuracy": ((logit > 0).float() == batch.y).float().mean()}


def many_to_many(
    hidden_size=16,
    n_bits=8,
    n_train=2048,
    steps=600,
    lr=1e-2,
    seed=0,
    progress=True,
    device="cpu",
    test_bits=(8, 16, 32, 60),
    example_bits=16,
):
    """Train an RNN to add two n_bits numbers bit by bit, then test it on longer numbers.

    ``BinaryAddition``: at step t the inputs are bit t of a and of b, the target is bit t of
    a + b, least significant first; the state has to hold the carry.

    Returns:
        ``Trained``; numbers: n_bits (the tested sizes), accuracy (fraction of sums with every
        bit right, per size); curves: one ``example_bits`` addition: a, b, x (T, 2) and y (T,)
        its bits, p (T,) the predicted probability of each 1, predicted (the decoded sum).
    """
    train = BinaryAddition(n_train, n_bits, seed=seed + 1)
    set_seed(seed)
    model = SequenceModel("RNN", 2, hidden_size, 1, readout="all")
    history = _train(model, train, _bit_loss, steps, lr, seed, progress, device)
    accuracy = []
    for k, bits in enumerate(test_bits):
        test = BinaryAddition(1000, bits, seed=seed + 2 + k)
        logit = _evaluate(model, test.x.transpose(0, 1))[..., 0]  # (T, N)
        accuracy.append((bits_to_int(logit > 0, dim=0) == test.a + test.b).float().mean().item())
    one = BinaryAddition(1, example_bits, seed=seed)
    p = torch.sigmoid(_evaluate(model, one.x.transpose(0, 1))[:, 0, 0])  # (T,)
    curves = dict(a=one.a.item(), b=one.b.item(), x=one.x[0].numpy(), y=one.y[0].numpy())
    curves.update(p=p.numpy(), predicted=bits_to_int(p).item())
    return Trained(model, history, {"n_bits": list(test_bits), "accuracy": accuracy}, curves)


# ----- plots -----


def _two_panels(result, loss_name, figsize):
    """A figure with the training loss on the left; returns (fig, right axes)."""
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax) = plt.subplots(1, 2, figsize=figsize)
    ax_loss.plot(*result.history.series("loss"), lw=1)
    ax_loss.set(xlabel="training step", ylabel=loss_name, yscale="log", title="training loss")
    return fig, ax


def _accuracy_bars(ax, names, accuracy):
    """Bars of accuracy, the first (the training setting) in blue, the others grey."""
    bars = ax.bar(names, accuracy, color=["tab:blue"] + ["tab:gray"] * (len(names) - 1))
    ax.bar_label(bars, fmt="%.3f")
    ax.set_ylim(0, 1.12)


def plot_window_experiment(result, figsize=(10, 3.6)):
    """Test MSE against the window w (MLPs, the floor, the RNN, the baseline); model sizes."""
    import matplotlib.pyplot as plt

    n = result.numbers
    fig, (ax, ax_p) = plt.subplots(1, 2, figsize=figsize, width_ratios=[1.6, 1])
    w = np.arange(n["T"] + 1)
    floor = [adding_window_floor(n["T"], k) for k in w]
    ax.step(w, floor, where="mid", color="0.5", label="best possible from w steps")
    ax.plot(n["windows"], n["mlp_mse"], "o", color="tab:orange", label="MLP on the last w steps")
    ax.axhline(n["rnn_mse"], color="tab:red", ls="--", label="RNN on all steps")
    ax.axhline(n["baseline"], color="black", ls=":", lw=1, label="always answer 1 (1/6)")
    ax.set(
        xlabel="window w (steps the MLP sees)",
        ylabel="test MSE",
        title=f"adding problem, T = {n['T']}",
    )
    ax.legend(fontsize=8)
    ax_p.plot(n["windows"], n["mlp_params"], "o-", color="tab:orange", label="MLP")
    ax_p.axhline(n["rnn_params"], color="tab:red", ls="--", label="RNN (any T)")
    ax_p.set(xlabel="window w", ylabel="parameters", title="model size")
    ax_p.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_one_to_one(result, figsize=(10, 3.2)):
    """The training loss, and the learnt function against sin(x)."""
    c = result.curves
    fig, ax = _two_panels(result, "MSE", figsize)
    ax.plot(c["x_train"], c["y_train"], ".", ms=2, color="0.7", label="training pairs")
    ax.plot(c["x_grid"], c["y_true"], color="black", lw=1, label="sin(x)")
    ax.plot(c["x_grid"], c["y_pred"], color="tab:red", ls="--", label="RNN, T = 1")
    ax.set(xlabel="input x", ylabel="output y", title="one-to-one")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_one_to_many(result, figsize=(10, 3.2)):
    """The training loss, and three generated waves against the true ones."""
    c = result.curves
    fig, ax = _two_panels(result, "MSE", figsize)
    t = np.arange(1, c["y_true"].shape[0] + 1)
    for k, f in enumerate(c["freqs"]):
        line = ax.plot(t, c["y_true"][:, k], lw=1, label=f"f = {f:.3f}")[0]
        ax.plot(t, c["y_pred"][:, k], "o", ms=3, color=line.get_color())
    ax.set(xlabel="time step t", ylabel="$y_t$", title="one-to-many: lines true, dots generated")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def plot_many_to_one(result, figsize=(10, 3.2)):
    """The training loss, and test accuracy by review length."""
    fig, ax = _two_panels(result, "cross-entropy", figsize)
    ranges = result.numbers["ranges"]
    names = [f"{a}-{b}" + (" (trained)" if k == 0 else "") for k, (a, b) in enumerate(ranges)]
    _accuracy_bars(ax, names, result.numbers["accuracy"])
    ax.axhline(0.5, color="black", ls=":", lw=1, label="chance")
    ax.set(xlabel="review length (words)", ylabel="test accuracy", title="many-to-one")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_many_to_many(result, figsize=(10, 3.2)):
    """The training loss, and the fraction of exact sums by operand length."""
    fig, ax = _two_panels(result, "cross-entropy per bit", figsize)
    bits = result.numbers["n_bits"]
    names = [f"{n}" + (" (trained)" if k == 0 else "") for k, n in enumerate(bits)]
    _accuracy_bars(ax, names, result.numbers["accuracy"])
    ax.set(xlabel="bits per operand", ylabel="sums exactly right", title="many-to-many")
    fig.tight_layout()
    return fig
