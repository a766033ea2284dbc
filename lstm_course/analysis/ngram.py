"""Character n-gram baselines (unigram, bigram, trigram) with add-alpha smoothing (lecture 6).

An n-gram model predicts the next character from the n - 1 characters before it and nothing
else. Its probabilities are counts from the training text, smoothed so that a pair never seen
in training still gets some probability (Laplace's add-one for alpha = 1):

    p(v | u) = (count(u v) + alpha) / (count(u) + alpha V)                        (6.10)

u is the context (the n - 1 previous ids; empty for the unigram), v the next id, V the
vocabulary size. A character LSTM that does not beat these on held-out text has learned
nothing an n-gram table could not hold: the unigram knows letter frequencies only, the bigram
also which letter tends to follow which.
"""

import math

import numpy as np
import torch

# Tables of V**order float64 entries: 97**3 is 7 MB; 97**4 would be 700 MB.
_MAX_TABLE = 20_000_000


def _ids_array(name, ids):
    """(N,) int64 NumPy array from a 1-D tensor, array or list of integer ids."""
    if isinstance(ids, torch.Tensor):
        if ids.dtype.is_floating_point or ids.dtype == torch.bool:
            raise TypeError(f"{name} must hold integer ids, got dtype {ids.dtype}")
        ids = ids.detach().cpu().numpy()
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer ids, got dtype {ids.dtype}")
    if ids.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one stream of ids), got shape {ids.shape}")
    return ids.astype(np.int64)


class NGramLM:
    """An order-n character model with add-alpha smoothing, eq. (6.10).

    Args:
        order: n >= 1; 1 is the unigram (no context), 2 the bigram (one character of context).
        vocab_size: V, ids lie in [0, V).
        alpha: the pseudo-count added to every (context, next) pair, > 0; 1 is add-one.
    Attributes (after ``fit``):
        counts: (V**(n-1), V) int64, count(u v); row u is the context in base V
            (u = x_{t-n+1} V^(n-2) + ... + x_{t-1}), column v the next id.
        log_probs: (V**(n-1), V) float64, ln p(v | u) of eq. (6.10); every row sums to 1 in p.
    """

    def __init__(self, order, vocab_size, alpha=1.0):
        for name, value, low in (("order", order, 1), ("vocab_size", vocab_size, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
            raise ValueError(f"alpha must be a number > 0 (add-alpha smoothing), got {alpha!r}")
        if vocab_size**order > _MAX_TABLE:
            raise ValueError(
                f"order {order} with vocab_size {vocab_size} needs a table of "
                f"{vocab_size**order:,} entries (> {_MAX_TABLE:,}); use a lower order"
            )
        self.order, self.V, self.alpha = order, vocab_size, float(alpha)
        self.counts = None
        self.log_probs = None

    def _contexts_and_targets(self, ids, first):
        """Context rows (M,) and next ids (M,) for the targets ids[first:], M = N - first."""
        n, V = self.order, self.V
        if ids.size and (ids.min() < 0 or ids.max() >= V):
            raise ValueError(
                f"ids must lie in [0, V) = [0, {V}), got min {ids.min()}, max {ids.max()}"
            )
        targets = ids[first:]  # (M,)
        context = np.zeros(len(targets), dtype=np.int64)
        for k in range(1, n):  # x_{t-k} for k = n-1 .. 1, most significant digit first
            context = context * V + ids[first - (n - k) : len(ids) - (n - k)]
        return context, targets

    def fit(self, ids):
        """Count every (context, next) pair in the training ids and smooth, eq. (6.10).

        Args:
            ids: (N,) integer ids, N >= n (a tensor, array or list).
        Returns:
            self.
        """
        ids = _ids_array("ids", ids)
        if len(ids) < self.order:
            raise ValueError(f"ids must hold at least order = {self.order} ids, got {len(ids)}")
        context, target = self._contexts_and_targets(ids, self.order - 1)
        rows = self.V ** (self.order - 1)
        flat = np.bincount(context * self.V + target, minlength=rows * self.V)
        self.counts = flat.reshape(rows, self.V)
        smoothed = self.counts + self.alpha  # (rows, V), every entry > 0
        self.log_probs = np.log(smoothed) - np.log(smoothed.sum(axis=1, keepdims=True))
        return self

    def nll_bits(self, ids, first=None):
        """-log2 p(x_t | the n - 1 ids before it) for every target t >= ``first``.

        Args:
            ids: (N,) integer ids of held-out text.
            first: index of the first target scored, >= n - 1 (default n - 1). Give every
                model the same ``first`` (1 for a comparison with a recurrent model, which
                scores ids[1:]) so that all are measured on the same characters.
        Returns:
            (N - first,) float64, bits per scored character.
        """
        if self.log_probs is None:
            raise RuntimeError("call fit(train_ids) before scoring text")
        ids = _ids_array("ids", ids)
        first = self.order - 1 if first is None else first
        if isinstance(first, bool) or not isinstance(first, int) or first < self.order - 1:
            raise ValueError(
                f"first must be an int >= order - 1 = {self.order - 1} (the model needs "
                f"{self.order - 1} ids of context), got {first!r}"
            )
        if first >= len(ids):
            raise ValueError(f"first = {first} leaves no target in {len(ids)} ids")
        context, target = self._contexts_and_targets(ids, first)
        return -self.log_probs[context, target] / math.log(2)

    def bits_per_char(self, ids, first=None):
        """The mean of ``nll_bits``: the cross-entropy in bits per character, eq. (6.9)."""
        return float(self.nll_bits(ids, first).mean())

    def __repr__(self):
        return f"NGramLM(order={self.order}, vocab_size={self.V}, alpha={self.alpha:g})"


def ngram_baselines(train_ids, held_out_ids, vocab_size, orders=(1, 2), alpha=1.0, first=1):
    """Fit an n-gram model of each order on the training ids and score the held-out ids.

    Args:
        train_ids, held_out_ids: 1-D integer ids. vocab_size: V.
        orders: the n of each model. alpha: add-alpha smoothing, eq. (6.10).
        first: the first held-out target scored, the same for every order (>= max order - 1).
    Returns:
        {n: bits per character on held_out_ids[first:]}.
    """
    return {
        n: NGramLM(n, vocab_size, alpha).fit(train_ids).bits_per_char(held_out_ids, first)
        for n in orders
    }
