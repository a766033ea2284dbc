"""Losses with their gradients: softmax cross-entropy (per token, maskable) and mean squared error.

Cross-entropy of one position with scores s (V,) and target class y (lecture 3):

    L = -log softmax(s)_y = -s_y + log sum_k exp(s_k),      dL/ds = softmax(s) - one_hot(y)

Averaged over the kept positions, it equals torch.nn.functional.cross_entropy with
reduction="mean" (masked positions play the role of torch's ignore_index).
"""

import numpy as np

from lstm_course.scratch._checks import check_float_array, check_int_array, check_shape
from lstm_course.scratch.activations import log_softmax


def _check_labels(y, keep, V):
    """Labels at kept positions must be class indices in [0, V)."""
    bad = keep & ((y < 0) | (y >= V))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"y must hold class indices in [0, V) with V = {V}, "
            f"got {int(y[where])} at y[{', '.join(map(str, where))}]"
        )


def _cross_entropy(scores, y, keep):
    """Mean cross-entropy over the kept rows of (N, V) scores; the arrays are already checked.

    Args:
        scores: (N, V) unnormalised log-probabilities.
        y: (N,) target classes, valid where keep is True.
        keep: (N,) bool, which rows count.
    Returns:
        loss (float), dscores (N, V).
    """
    n_kept = int(keep.sum())
    y_safe = np.where(keep, y, 0)  # dropped rows may hold padding labels such as -1
    rows = np.arange(scores.shape[0])
    logp = log_softmax(scores, axis=1)  # (N, V), finite even for |s| = 1e4
    loss = -np.sum(logp[rows, y_safe] * keep) / n_kept
    dscores = np.exp(logp)  # softmax, reusing the stable log-probabilities
    dscores[rows, y_safe] -= 1.0
    dscores *= keep[:, None] / n_kept  # dropped rows get exactly zero gradient
    return float(loss), dscores


def temporal_softmax_cross_entropy(scores, y, mask=None):
    """Per-token softmax cross-entropy of a sequence, averaged over the unmasked positions.

        L = (1 / K) sum_{t, b: mask[t, b]} -log softmax(scores[t, b])_{y[t, b]},   K = sum(mask)
        dscores[t, b] = mask[t, b] (softmax(scores[t, b]) - one_hot(y[t, b])) / K

    Args:
        scores: (T, B, V) unnormalised scores (logits), e.g. from temporal_affine_forward.
        y: (T, B) integer target classes in [0, V); masked positions may hold anything.
        mask: (T, B) bool, True where the position counts (False for padding); None keeps all.
    Returns:
        loss: float, the mean per-token loss; dscores: (T, B, V).
    """
    check_float_array("scores", scores, ndim=3)
    T, B, V = scores.shape
    check_int_array("y", y, ndim=2)
    if y.shape != (T, B):
        raise ValueError(f"y must have shape (T, B) = {(T, B)}, got {y.shape}")
    if mask is None:
        mask = np.ones((T, B), dtype=bool)
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        kind = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise TypeError(f"mask must be a boolean array or None, got {kind}")
    if mask.shape != (T, B):
        raise ValueError(f"mask must have shape (T, B) = {(T, B)}, got {mask.shape}")
    if not mask.any():
        raise ValueError("mask keeps no position: the mean loss over zero tokens is undefined")
    _check_labels(y, mask, V)
    loss, dscores = _cross_entropy(scores.reshape(T * B, V), y.reshape(-1), mask.reshape(-1))
    return loss, dscores.reshape(T, B, V)


def softmax_cross_entropy(scores, y):
    """Softmax cross-entropy of N independent examples, averaged over N.

        L = (1 / N) sum_n -log softmax(scores[n])_{y[n]}
        dscores = (softmax(scores) - one_hot(y)) / N

    Args:
        scores: (N, V) unnormalised scores (logits).
        y: (N,) integer target classes in [0, V).
    Returns:
        loss: float; dscores: (N, V).
    """
    check_float_array("scores", scores, ndim=2)
    N, V = scores.shape
    check_int_array("y", y, ndim=1)
    if y.shape != (N,):
        raise ValueError(f"y must have shape (N,) = {(N,)}, got {y.shape}")
    if N == 0:
        raise ValueError("scores has no rows: the mean loss over zero examples is undefined")
    keep = np.ones(N, dtype=bool)
    _check_labels(y, keep, V)
    return _cross_entropy(scores, y, keep)


def mse_loss(pred, target):
    """Mean squared error over every entry (the adding problem's loss), as torch's F.mse_loss.

        L = (1 / n) sum (pred - target)^2,   dpred = 2 (pred - target) / n,   n = pred.size

    Args:
        pred: float array of any shape, e.g. (B, 1).
        target: float array of pred's shape.
    Returns:
        loss: float; dpred: pred's shape.
    """
    check_float_array("pred", pred)
    check_shape("target", target, pred.shape)  # no broadcasting: (B,) vs (B, 1) is a bug
    if pred.size == 0:
        raise ValueError("pred is empty: the mean over zero entries is undefined")
    diff = pred - target
    return float(np.mean(diff * diff)), 2.0 * diff / diff.size
