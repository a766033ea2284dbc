"""Where a recurrent adder keeps its carry: true carries, carry units, a carry direction, PCA,
and patching the state to flip the carry (lecture 11).

Binary addition, least significant bit first, is the ripple-carry rule

    total_t = a_t + b_t + c_{t-1},   s_t = total_t mod 2,   c_t = floor(total_t / 2),   c_0 = 0
                                                                                   (11.1)

A network that adds must hold c_t in its state h_t (B, H) from one step to the next. We look
for it three ways, on the states of many test additions:

* a **carry unit**: the unit j whose activation h_tj correlates most with c_t (Pearson's r,
  eq. 6.12 of lecture 6);
* a **carry direction**: the difference of the class means,

      w_c = mean(h_t | c_t = 1) - mean(h_t | c_t = 0),   m = (mean_1 + mean_0) / 2,
      predict c_t = 1 when (h_t - m) . w_c > 0                                     (11.5)

  a linear probe that needs no training; its accuracy says how linearly the carry is coded;
* **patching**: move h_t towards the other carry and let the network run on,

      h'_t = h_t + (1 - 2 c_t) w_c                                                  (11.6)

  If the direction *is* the carry the network uses, the rest of the answer changes by
  exactly +-2^(t+1): the value a carry out of bit t is worth.

Shapes: x (T, B, 2) bits, time-major; states (T, B, H).
"""

from typing import NamedTuple

import numpy as np
import torch

from lstm_course.analysis.units import unit_correlations


def _check_bits(x):
    x = torch.as_tensor(x)
    if x.dim() != 3 or x.shape[-1] != 2:
        raise ValueError(f"x must be (T, B, 2) bits of a and b, got shape {tuple(x.shape)}")
    if not bool(((x == 0) | (x == 1)).all()):
        raise ValueError("x must hold only 0s and 1s")
    return x


def carries(x):
    """Eq. (11.1): the sum bits s_t and the carries c_t of a batch of additions.

    Args:
        x: (T, B, 2) bits, x[t, :, 0] bit t of a and x[t, :, 1] bit t of b (LSB first).
    Returns:
        (s, c): each a (T, B) int64 NumPy array; c[t] is the carry *out of* step t, the one
        the state h_t has to hold for step t + 1.
    """
    bits = _check_bits(x).to(torch.int64).cpu().numpy()
    T, B, _ = bits.shape
    s, c = np.zeros((T, B), np.int64), np.zeros((T, B), np.int64)
    carry = np.zeros(B, np.int64)
    for t in range(T):
        total = bits[t, :, 0] + bits[t, :, 1] + carry
        s[t], carry = total % 2, total // 2
        c[t] = carry
    return s, c


def _check_model(model):
    rnn = getattr(model, "rnn", None)
    if rnn is None or getattr(rnn, "num_layers", 1) != 1 or rnn.num_directions != 1:
        raise ValueError("model must be a SequenceModel with one forward recurrent layer (.rnn)")


@torch.no_grad()
def hidden_states(model, x, state=None):
    """Run a many-to-many ``SequenceModel`` over x and keep every h_t.

    Args:
        model: a ``SequenceModel`` (one layer; for an LSTM, h_t is its output, not c_t).
        x: (T, B, 2) bits. state: the initial state (None: the model's default).
    Returns:
        (states, p): states (T, B, H) and p (T, B) the predicted P(s_t = 1), NumPy float64.
    """
    _check_model(model)
    x = _check_bits(x).float()
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        x = x.to(device)
        if state is None and hasattr(model, "initial_state"):
            state = model.initial_state(x.shape[1])
        states, _ = model.rnn(x, state)  # (T, B, H)
        p = torch.sigmoid(model.out(states)[..., 0])
    finally:
        model.train(was_training)
    return states.double().cpu().numpy(), p.double().cpu().numpy()


def _flatten(states, labels):
    states = np.asarray(states, dtype=np.float64)
    labels = np.asarray(labels)
    if states.ndim != 3 or labels.shape != states.shape[:2]:
        raise ValueError(
            f"states must be (T, B, H) and labels (T, B), got {states.shape} and {labels.shape}"
        )
    return states.reshape(-1, states.shape[-1]), labels.reshape(-1)


def carry_correlations(states, c):
    """Pearson's r between each unit and the carry c_t over every step of every addition.

    Args:
        states: (T, B, H). c: (T, B) carries from ``carries``.
    Returns:
        (H,) float64, r_j in [-1, 1].
    """
    flat, labels = _flatten(states, c)
    return unit_correlations(flat, labels.astype(np.float64))


class CarryDirection(NamedTuple):
    """The linear carry code of eq. (11.5).

    Attributes:
        w: (H,) mean(h | c = 1) - mean(h | c = 0). m: (H,) the midpoint of the two means.
        accuracy: fraction of states whose carry the probe (h - m) . w > 0 gets right.
        separation: the gap between the classes along w in units of their spread,
            (mean_1 - mean_0) . u / std within classes, u = w / |w| (large: well apart).
    """

    w: np.ndarray
    m: np.ndarray
    accuracy: float
    separation: float


def carry_direction(states, c):
    """Eq. (11.5): the difference-of-means direction of the carry and its probe accuracy."""
    flat, labels = _flatten(states, c)
    if not (labels == 0).any() or not (labels == 1).any():
        raise ValueError("c must contain both carries, 0 and 1, to compare their states")
    mean1, mean0 = flat[labels == 1].mean(0), flat[labels == 0].mean(0)
    w, m = mean1 - mean0, (mean1 + mean0) / 2
    z = (flat - m) @ w  # (N,) the probe's score
    accuracy = float(((z > 0) == (labels == 1)).mean())
    u = w / max(np.linalg.norm(w), 1e-12)
    along = flat @ u
    spread = np.sqrt((along[labels == 1].var() + along[labels == 0].var()) / 2)
    separation = float((mean1 - mean0) @ u / max(spread, 1e-12))
    return CarryDirection(w, m, accuracy, separation)


def principal_components(states, k=2):
    """Project states onto their k principal components.

    Args:
        states: (T, B, H) or (N, H).
    Returns:
        (projected (N, k), components (k, H), explained (k,) fractions of the variance).
    """
    flat = np.asarray(states, dtype=np.float64).reshape(-1, np.shape(states)[-1])
    if not 1 <= k <= flat.shape[1]:
        raise ValueError(f"k must lie in [1, H = {flat.shape[1]}], got {k}")
    centred = flat - flat.mean(0)
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    explained = sing**2 / max((sing**2).sum(), 1e-12)
    return centred @ vt[:k].T, vt[:k], explained[:k]


@torch.no_grad()
def patch_carry(model, x, t, shift, state=None):
    """Run the model over x, but add ``shift`` to h_t after step t, then let it run on.

    Args:
        model: a ``SequenceModel`` (RNN or GRU: the state is h alone). x: (T, B, 2) bits.
        t: the step (0-based) after which the state is patched. shift: (H,) or (B, H).
        state: the initial state (None: the model's default).
    Returns:
        p (T, B) NumPy: P(s = 1) at every step; steps up to t are unchanged.
    """
    _check_model(model)
    x = _check_bits(x).float()
    T = x.shape[0]
    if not 0 <= t < T - 1:
        raise ValueError(f"t must lie in [0, T - 2] = [0, {T - 2}] (steps must follow), got {t}")
    if isinstance(getattr(model.rnn, "gates", None), int) and model.rnn.gates == 4:
        raise ValueError("patch_carry needs an RNN or GRU (its state is h alone), got an LSTM")
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        x = x.to(device)
        if state is None and hasattr(model, "initial_state"):
            state = model.initial_state(x.shape[1])
        before, h = model.rnn(x[: t + 1], state)  # h (1, B, H)
        h = h + torch.as_tensor(shift, dtype=h.dtype, device=device)
        after, _ = model.rnn(x[t + 1 :], h)
        p = torch.sigmoid(model.out(torch.cat([before, after]))[..., 0])
    finally:
        model.train(was_training)
    return p.double().cpu().numpy()


def flip_success(model, x, t, direction, state=None):
    """Eq. (11.6): patch h_t towards the other carry; does the answer move by -+2^(t+1)?

    Each addition whose carry out of step t is c gets h_t + (1 - 2c) w_c: states with a carry
    are pushed towards "no carry" and the rest the other way. The bits after t must then spell
    the sum with that carry flipped: a + b + (1 - 2c) 2^(t+1).

    Args:
        model, x, t, state: as ``patch_carry``. direction: a ``CarryDirection``.
    Returns:
        float: the fraction of additions whose bits after step t all match the flipped sum.
    """
    _, c = carries(x)
    sign = 1.0 - 2.0 * c[t]  # (B,) +1: push towards a carry, -1: away from it
    shift = sign[:, None] * direction.w[None, :]  # (B, H)
    p = patch_carry(model, x, t, shift, state)  # (T, B)
    bits = _check_bits(x).to(torch.int64).cpu().numpy()
    T = bits.shape[0]
    weights = 2 ** np.arange(T, dtype=np.int64)[:, None]
    total = ((bits[..., 0] + bits[..., 1]) * weights).sum(0)  # (B,) a + b
    flipped = total + sign.astype(np.int64) * 2 ** (t + 1)
    want = (flipped[None, :] >> np.arange(T)[:, None]) & 1  # (T, B) bits of the flipped sum
    got = (p > 0.5).astype(np.int64)
    return float((got[t + 1 :] == want[t + 1 :]).all(0).mean())
