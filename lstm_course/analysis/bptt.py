"""Backpropagation through time term by term: where each piece of a tanh RNN's gradient comes from.

Lecture 2. The slides' RNN in our row-vector form (the slides' column-vector U, W, V are the
transposes of W_x, W_h, W_y; with b = 0 it is the slides' network exactly):

    s_t = tanh(x_t W_x + s_{t-1} W_h + b)                                  (2.1)
    yhat_t = softmax(s_t W_y),   E_t = -log yhat_t[y_t],   E = sum_t E_t

Steps are numbered t = 1..T as on the slides; arrays are 0-based, so s_t is ``H_all[t - 1]`` and
s_0 is the initial state (zeros). Shapes: X (T, B, D), y (T, B) int, s_t (B, H), W_x (D, H),
W_h (H, H), b (H,), W_y (H, V). Everything is built on ``lstm_course.scratch`` (rnn, layers,
losses, tbptt); the one torch function is the autograd reference the lecture compares with.
"""

from typing import NamedTuple

import numpy as np

from lstm_course.scratch.activations import log_softmax
from lstm_course.scratch.gradcheck import rel_error
from lstm_course.scratch.layers import temporal_affine_backward, temporal_affine_forward
from lstm_course.scratch.losses import temporal_softmax_cross_entropy
from lstm_course.scratch.rnn import RNNStepCache, rnn_backward, rnn_forward, rnn_step_backward
from lstm_course.scratch.tbptt import truncated_bptt


class Problem(NamedTuple):
    """A sequence, its targets and the weights of the slides' RNN."""

    X: np.ndarray  # (T, B, D) inputs (one-hot characters)
    y: np.ndarray  # (T, B) target ids
    p: dict  # {"W_x": (D, H), "W_h": (H, H), "b": (H,)}, as scratch.rnn takes them
    W_y: np.ndarray  # (H, V) output weights
    vocab: str  # the characters behind the ids, in id order


class Forward(NamedTuple):
    """What ``forward`` computes: the losses and everything backward needs."""

    E: float  # sum of E_t over the counted steps
    E_t: np.ndarray  # (T, B) every step's loss, counted or not
    H_all: np.ndarray  # (T, B, H) s_1..s_T
    dscores: np.ndarray  # (T, B, V) dE/d(s_t W_y), zero at the steps that do not count
    rnn_cache: tuple  # from scratch.rnn.rnn_forward
    out_cache: tuple  # from scratch.layers.temporal_affine_forward


class Trace(NamedTuple):
    """The hand-written backward pass, recorded at every step (walked from t = T down to 1)."""

    dS: np.ndarray  # (T, B, H) dE/ds_t: from y_t and from s_{t+1}
    dA: np.ndarray  # (T, B, H) Graves' deltas dE/da_t, a_t = x_t W_x + s_{t-1} W_h + b
    dW_h_so_far: np.ndarray  # (T, H, H) [t - 1]: dW_h summed over steps T, T-1, ..., t
    grads: dict  # the final gradients, keys W_x, W_h, b, W_y


class Profile(NamedTuple):
    """Where dE_t/dW_h comes from, for the widget: one entry per earlier step k = 1..t."""

    k: np.ndarray  # (t,) the steps 1..t
    term_norms: np.ndarray  # (t,) Frobenius norm of step k's term of dE_t/dW_h, eq. (2.3)
    jacobian_norms: np.ndarray  # (t,) spectral norm of ds_t/ds_k, eq. (2.4)
    kept: np.ndarray  # (t,) bool, True if truncated BPTT with window K keeps the term


def char_problem(text, H=3, gain=1.0, seed=0):
    """Next-character prediction on one string, with random weights: the lecture's toy example.

    x_t is character t - 1 of ``text`` (one-hot) and the target y_t is character t, so
    T = len(text) - 1, B = 1 and D = V = the number of distinct characters.

    Args:
        text: at least two characters, e.g. "hello".
        H: hidden size.
        gain: W_h is ``gain`` times a random orthogonal matrix, so every singular value of W_h
            is ``gain``: above 1 the backward products can grow, below 1 they shrink.
        seed: seeds the weights (np.random.default_rng).
    Returns:
        a Problem; b = 0, the slides' form.
    """
    if not isinstance(text, str) or len(text) < 2:
        raise ValueError(f"text must be a string of at least 2 characters, got {text!r}")
    vocab = "".join(sorted(set(text)))
    ids = np.array([vocab.index(ch) for ch in text])
    V = len(vocab)
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.normal(size=(H, H)))
    Q = Q * np.sign(np.diag(R))  # a uniformly random orthogonal matrix
    p = {"W_x": rng.normal(size=(V, H)), "W_h": gain * Q, "b": np.zeros(H)}
    W_y = rng.normal(scale=1.0 / np.sqrt(H), size=(H, V))
    return Problem(np.eye(V)[ids[:-1]][:, None, :], ids[1:, None], p, W_y, vocab)


def _mask(y, steps):
    """(T, B) bool: True at the 1-based ``steps`` whose E_t count (all when steps is None)."""
    mask = np.zeros(y.shape, dtype=bool)
    if steps is None:
        mask[:] = True
        return mask
    for t in steps:
        if not 1 <= t <= y.shape[0]:
            raise ValueError(f"steps are numbered 1..T = 1..{y.shape[0]}, got {t}")
        mask[t - 1] = True
    return mask


def forward(problem, steps=None):
    """Eq. (2.1): states, per-step losses, and E summed over ``steps`` (1-based; None: all).

    dscores[t] = yhat_t - onehot(y_t) at the counted steps and 0 elsewhere: the loss summed,
    not averaged (the scratch loss averages over the K counted positions; we multiply by K).
    """
    X, y, p, W_y, _ = problem
    H_all, _, rnn_cache = rnn_forward(X, None, p)
    scores, out_cache = temporal_affine_forward(H_all, W_y, np.zeros(W_y.shape[1]))  # (T, B, V)
    mask = _mask(y, steps)
    mean, dscores = temporal_softmax_cross_entropy(scores, y, mask)
    K = mask.sum()
    E_t = -np.take_along_axis(log_softmax(scores), y[..., None], axis=-1)[..., 0]  # (T, B)
    return Forward(mean * K, E_t, H_all, dscores * K, rnn_cache, out_cache)


def gradients(problem, steps=None):
    """Full BPTT with scratch.rnn.rnn_backward: E and dE/d{W_x, W_h, b, W_y}.

    Returns:
        (E, grads) with grads shaped like the parameters.
    """
    fwd = forward(problem, steps)
    dH_all, dW_y, _ = temporal_affine_backward(fwd.dscores, fwd.out_cache)
    _, _, grads = rnn_backward(dH_all, fwd.rnn_cache)
    return fwd.E, {**grads, "W_y": dW_y}


def _step_cache(rnn_cache, k):
    """scratch.rnn's one-step cache of step k (1-based), cut out of the sequence cache."""
    X, h0, H_all, p, nonlinearity = rnn_cache
    h_prev = h0 if k == 1 else H_all[k - 2]
    return RNNStepCache(X[k - 1], h_prev, H_all[k - 1], p, nonlinearity)


def contributions(problem, t, key="W_h"):
    """The terms of eq. (2.3): what each step k = 1..t adds to dE_t/dW (W one of W_x, W_h, b).

        dE_t/dW_h = sum_{k=1}^{t} s_{k-1}^T [ (dE_t/ds_t  ds_t/ds_k) * (1 - s_k^2) ]

    Term k treats s_{k-1} as a constant: it is the gradient step k's own copy of W_h receives.
    Walking back from s_t with scratch.rnn.rnn_step_backward produces them one at a time.

    Args:
        problem: a Problem.
        t: the loss E_t whose gradient is split, 1 <= t <= T.
        key: "W_x", "W_h" or "b".
    Returns:
        (t, *shape of the parameter); row k - 1 is step k's term. The rows sum to dE_t/dW.
    """
    if key not in ("W_x", "W_h", "b"):
        raise ValueError(f"key must be 'W_x', 'W_h' or 'b', got {key!r}")
    fwd = forward(problem, steps=[t])
    dH_all, _, _ = temporal_affine_backward(fwd.dscores, fwd.out_cache)
    ds = dH_all[t - 1]  # (B, H) dE_t/ds_t = (yhat_t - onehot(y_t)) W_y^T
    terms = []
    for k in range(t, 0, -1):
        _, ds, step_grads = rnn_step_backward(
            ds, _step_cache(fwd.rnn_cache, k)
        )  # ds: dE_t/ds_{k-1}
        terms.append(step_grads[key])
    return np.stack(terms[::-1])


def backward_trace(problem):
    """Run eq. (2.5) by hand from t = T down to 1 and record dE/ds_t and dW_h at every step.

        dE/ds_t = (yhat_t - onehot(y_t)) W_y^T + dE/da_{t+1} W_h^T
        dE/da_t = dE/ds_t * (1 - s_t^2),       dW_h += s_{t-1}^T dE/da_t

    The same recursion as scratch.rnn.rnn_backward, one step at a time so every number can be
    printed; the final gradients are identical.
    """
    fwd = forward(problem)
    if fwd.rnn_cache.nonlinearity != "tanh":
        raise ValueError("backward_trace follows the slides' tanh RNN")
    dH_all, dW_y, _ = temporal_affine_backward(fwd.dscores, fwd.out_cache)
    T, _, H = fwd.H_all.shape
    dS = np.empty_like(fwd.H_all)
    dW_h_so_far = np.empty((T, H, H))
    grads = {key: np.zeros_like(value) for key, value in problem.p.items()}
    dh_next = np.zeros_like(fwd.H_all[0])  # nothing flows in from after step T
    for t in range(T, 0, -1):
        dS[t - 1] = dH_all[t - 1] + dh_next
        _, dh_next, step_grads = rnn_step_backward(dS[t - 1], _step_cache(fwd.rnn_cache, t))
        grads = {key: grads[key] + step_grads[key] for key in grads}
        dW_h_so_far[t - 1] = grads["W_h"]
    dA = dS * (1.0 - fwd.H_all**2)
    return Trace(dS, dA, dW_h_so_far, {**grads, "W_y": dW_y})


def torch_gradients(problem, steps=None):
    """The autograd reference: the same network in float64 with lstm_course.modules.RNNCell.

    Returns:
        (E, grads in our layout {"W_x", "W_h", "b", "W_y"}, dS (T, B, H) = dE/ds_t).
    """
    import torch

    from lstm_course.modules import RNNCell
    from lstm_course.scratch.torch_params import params_to_torch

    X, y, p, W_y, _ = problem
    cell = params_to_torch(p, RNNCell(X.shape[2], W_y.shape[0], dtype=torch.float64))
    W_y_t = torch.tensor(W_y, requires_grad=True)
    h, states = None, []
    for x_t in torch.from_numpy(X):
        h = cell(x_t, h)
        h.retain_grad()  # keep dE/ds_t: s_t feeds both y_t and s_{t+1}
        states.append(h)
    E_t = torch.nn.functional.cross_entropy(
        (torch.stack(states) @ W_y_t).flatten(0, 1), torch.from_numpy(y).flatten(), reduction="none"
    )
    E = (E_t * torch.from_numpy(_mask(y, steps)).flatten()).sum()
    E.backward()
    grads = {
        "W_x": cell.weight_ih.grad.T.numpy(),
        "W_h": cell.weight_hh.grad.T.numpy(),
        "b": cell.bias_ih.grad.numpy(),
        "W_y": W_y_t.grad.numpy(),
    }
    return E.item(), grads, np.stack([s.grad.numpy() for s in states])


def state_jacobian(H_all, W_h, t, k):
    """Eq. (2.4): ds_t/ds_k = J_t J_{t-1} ... J_{k+1},  J_j = ds_j/ds_{j-1} = diag(1 - s_j^2) W_h^T.

    Entry [b, n, m] is d s_t[b, n] / d s_k[b, m]; a row vector of gradients travels back as
    dE/ds_k = dE/ds_t @ ds_t/ds_k. For k = t it is the identity.

    Args:
        H_all: (T, B, H) s_1..s_T.  W_h: (H, H).  t, k: steps with 0 <= k <= t <= T.
    Returns:
        (B, H, H).
    """
    T, B, H = H_all.shape
    if not 0 <= k <= t <= T:
        raise ValueError(f"need 0 <= k <= t <= T = {T}, got t = {t}, k = {k}")
    J = np.broadcast_to(np.eye(H), (B, H, H)).copy()
    for j in range(k + 1, t + 1):
        J_j = (1.0 - H_all[j - 1] ** 2)[:, :, None] * W_h.T  # (B, H, H) diag(1 - s_j^2) W_h^T
        J = J_j @ J
    return J


def outer_product_terms(b, delta):
    """Graves' eq. (2.6) before the sum: the per-step terms b_t^T delta_t of dO/dW.

        dO/dw_ij = sum_t delta_j^t b_i^t   <=>   dW = sum_t b_t^T delta_t = B^T Delta

    Args:
        b: (T, B, I) what the weights multiply at each step (x_t for W_x, s_{t-1} for W_h).
        delta: (T, B, J) dO/da_t at each step.
    Returns:
        (T, I, J); summed over axis 0 it is the weight gradient (the batch is summed already).
    """
    return np.einsum("tbi,tbj->tij", b, delta)


def chunk_start(t, K):
    """The first step of the chunk that holds step t, when truncated BPTT cuts every K steps."""
    return (t - 1) // K * K + 1


def truncated_gradients(problem, K):
    """dE/d{W_x, W_h, b} by scratch.tbptt.truncated_bptt with chunks of K steps.

    Eq. (2.8): E_t's gradient keeps only the terms of steps k >= chunk_start(t, K).
    """
    X, y, p, W_y, _ = problem

    def loss_grad(H_chunk, start):
        scores, out_cache = temporal_affine_forward(H_chunk, W_y, np.zeros(W_y.shape[1]))
        mean, dscores = temporal_softmax_cross_entropy(scores, y[start : start + len(H_chunk)])
        n = dscores.shape[0] * dscores.shape[1]  # sum, not mean, as E = sum_t E_t
        dH_chunk, _, _ = temporal_affine_backward(dscores * n, out_cache)
        return mean * n, dH_chunk

    return truncated_bptt(rnn_forward, rnn_backward, X, None, p, K, loss_grad).grads


def truncation_errors(problem, Ks, key="W_h"):
    """rel_error between truncated and full BPTT gradients of ``key``, one per window K."""
    full = gradients(problem)[1][key]
    return np.array([rel_error(truncated_gradients(problem, K)[key], full) for K in Ks])


def contribution_profile(problem, t, K):
    """For the widget: the size of each step's term of dE_t/dW_h, of ds_t/ds_k, and what K keeps."""
    terms = contributions(problem, t, "W_h")  # (t, H, H)
    H_all = forward(problem, steps=[t]).H_all
    k = np.arange(1, t + 1)
    jac = [np.linalg.norm(state_jacobian(H_all, problem.p["W_h"], t, j)[0], 2) for j in k]
    return Profile(k, np.linalg.norm(terms, axis=(1, 2)), np.array(jac), k >= chunk_start(t, K))


def plot_contributions(terms, total, axes=None):
    """Bar charts of eq. (2.3)'s terms: their sizes, and entry by entry how they add up.

    Args:
        terms: (t, H, H) from ``contributions``.  total: (H, H) the full dE_t/dW_h.
        axes: two matplotlib axes, or None for a new figure.
    Returns:
        the two axes.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        axes = plt.subplots(1, 2, figsize=(11, 3.4), width_ratios=(1, 2.2))[1]
    t = len(terms)
    names = [f"k = {k}" for k in range(1, t + 1)]
    axes[0].bar(
        names + ["sum"],
        [*np.linalg.norm(terms, axis=(1, 2)), np.linalg.norm(total)],
        color=[f"C{k}" for k in range(t)] + ["k"],
    )
    axes[0].set(ylabel="Frobenius norm", title=f"terms of dE_{t}/dW_h")
    flat = terms.reshape(t, -1)
    n = flat.shape[1]
    width = 0.8 / t
    for k in range(t):
        axes[1].bar(np.arange(n) + (k - (t - 1) / 2) * width, flat[k], width, label=names[k])
    axes[1].plot(np.arange(n), total.ravel(), "k_", ms=22, mew=2.5, label="full gradient")
    H = total.shape[1]
    axes[1].set_xticks(
        np.arange(n), [f"({i},{j})" for i in range(H) for j in range(total.shape[1])]
    )
    axes[1].axhline(0, color="gray", lw=0.5)
    axes[1].set(xlabel="entry (i, j) of W_h", ylabel="gradient", title="entry by entry")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return axes


def term_table(problem):
    """Norms of all terms of eq. (2.3), every loss: [t - 1, k - 1] is ||term k of dE_t/dW_h||.

    Row t sums (as matrices) to dE_t/dW_h; column k sums to Graves' outer product of step k,
    eq. (2.6). Entries with k > t do not exist and are NaN.

    Returns:
        (T, T) float array.
    """
    T = len(problem.y)
    table = np.full((T, T), np.nan)
    for t in range(1, T + 1):
        table[t - 1, :t] = np.linalg.norm(contributions(problem, t, "W_h"), axis=(1, 2))
    return table


def plot_profile(problem, t, K, axes=None):
    """The widget's picture: every term of eq. (2.3), then row t: its terms and ||ds_t/ds_k||.

    Terms that truncated BPTT with window K drops are left of the red staircase (panel 1) and
    gray (panel 2). Returns the three axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    if axes is None:
        axes = plt.subplots(1, 3, figsize=(13, 3.8), width_ratios=(1.1, 1, 1))[1]
    T = len(problem.y)
    table = term_table(problem)
    image = axes[0].imshow(
        np.clip(table, 1e-8, None),
        norm=LogNorm(1e-8, table[~np.isnan(table)].max()),
        extent=(0.5, T + 0.5, T + 0.5, 0.5),
        cmap="viridis",
    )
    plt.colorbar(image, ax=axes[0], label="norm of term (t, k)")
    corners = []  # the staircase: for each chunk [c, e], the cut at k = c for rows c..e
    for c in range(1, T + 1, K):
        e = min(c + K - 1, T)
        corners += [(c - 0.5, c - 0.5), (c - 0.5, e + 0.5)]
    axes[0].plot(*zip(*corners, strict=True), color="tab:red", lw=1.5)
    axes[0].add_patch(plt.Rectangle((0.5, t - 0.5), T, 1, fill=False, ec="w", lw=1.5))
    axes[0].set(
        xlabel="step k (where W_h was used)",
        ylabel="loss E_t",
        title=f"all terms; K = {K} keeps right of red",
    )
    profile = contribution_profile(problem, t, K)
    axes[1].bar(
        profile.k, profile.term_norms, color=np.where(profile.kept, "tab:blue", "lightgray")
    )
    axes[1].set_yscale("log")
    error = truncation_errors(problem, [K])[0]
    axes[1].set(
        xlabel="step k",
        ylabel="norm of term k",
        title=f"row t = {t}: kept (blue), cut (gray)\nrel. error of truncated dE/dW_h: {error:.3f}",
    )
    axes[2].semilogy(profile.k, profile.jacobian_norms, "o-", ms=3)
    axes[2].axvline(chunk_start(t, K) - 0.5, color="tab:red", ls="--", label="truncation cut")
    axes[2].set(xlabel="step k", ylabel="spectral norm", title=f"|| ds_{t}/ds_k ||, eq. (2.4)")
    axes[2].legend(loc="upper left")
    for ax in axes[1:]:
        ax.set_xlim(0.3, T + 0.7)
    return axes
