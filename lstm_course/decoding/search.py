"""Greedy and beam search over a step function, eqs. (6.3)-(6.5); states follow the beams."""

from typing import NamedTuple

import numpy as np

from lstm_course.decoding._checks import check_int, check_positive, to_numpy

# A step's rows must be log-probabilities: exp sums to 1 within this (float32 models pass).
_NORMALISED_ATOL = 1e-3


class Hypothesis(NamedTuple):
    """A decoded sequence, as ``beam_search`` returns it.

    Attributes:
        ids: tuple of n ints, the generated tokens (without the start token; with the final
            ``eos_id`` when the hypothesis ended there).
        log_prob: log P(y), eq. (6.3), the sum of the log-probabilities of ``ids``.
        score: what hypotheses are ranked by at the end, eq. (6.5); equals ``log_prob`` when
            the length penalty alpha is 0.
        finished: True if it ended with ``eos_id``; False if ``max_len`` cut it off.
    """

    ids: tuple
    log_prob: float
    score: float
    finished: bool


class GreedyResult(NamedTuple):
    """What ``greedy_decode`` returns for a batch of B sequences.

    Attributes:
        ids: (B, L) int64, the tokens; L <= max_len is the number of steps taken, and a row
            that reached ``eos_id`` early is padded with ``eos_id``.
        log_prob: (B,) float64, log P of each row's first ``lengths[b]`` tokens, eq. (6.3).
        lengths: (B,) int64, tokens up to and including the first ``eos_id`` (else L).
    """

    ids: np.ndarray
    log_prob: np.ndarray
    lengths: np.ndarray


def normalised_score(log_prob, length, alpha):
    """The length-normalised score of a hypothesis, eq. (6.5) (Wu et al. 2016, eq. 14).

        score = log P(y) / lp(n),   lp(n) = ((5 + n) / 6) ** alpha

    Why: every token multiplies P(y) by a probability < 1, so the plain sum (alpha = 0)
    prefers short hypotheses, e.g. one that ends at once with EOS. Dividing the (negative) sum
    by a penalty that grows with the length n removes part of that bias: alpha = 0 keeps the
    sum, and alpha = 1 is close to the average log-probability per token (for n >> 5). Wu et
    al. found alpha in [0.6, 0.7] best for translation.

    Args:
        log_prob: log P(y), a float <= 0. length: n >= 1 tokens (counting EOS). alpha: >= 0.
    """
    return float(log_prob) / ((5.0 + length) / 6.0) ** alpha


def reorder_state(state, index, axis=0):
    """Pick rows of a recurrent state: row k of the result is row ``index[k]`` of ``state``.

    Beam search calls it after each step: the surviving hypotheses come from some beams
    (some twice, some not at all), and each must carry on with its own parent's memory.

    Args:
        state: None, a NumPy array, a torch tensor, or tuples / lists / named tuples / dicts of
            them (e.g. an LSTM's (h, c)); the hypotheses are along ``axis``.
        index: (K',) ints, the rows to keep, in order, repeats allowed.
        axis: the hypothesis (batch) axis of every array in ``state``.
    Returns:
        the same structure with K' rows along ``axis``.
    """
    index = np.asarray(index, dtype=np.int64)
    if state is None:
        return None
    if isinstance(state, np.ndarray):
        return np.take(state, index, axis=axis)
    if hasattr(state, "index_select"):  # a torch tensor: stay on its device, keep its dtype
        import torch

        return state.index_select(axis, torch.as_tensor(index, device=state.device))
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # a named tuple
        return type(state)(*(reorder_state(part, index, axis) for part in state))
    if isinstance(state, (tuple, list)):
        return type(state)(reorder_state(part, index, axis) for part in state)
    if isinstance(state, dict):
        return {key: reorder_state(part, index, axis) for key, part in state.items()}
    raise TypeError(
        "state must be None, an array, a tensor, or tuples/lists/dicts of them, "
        f"got {type(state).__name__}"
    )


def _check_step(step):
    if not callable(step):
        raise TypeError(f"step must be a function step(ids, state), got {type(step).__name__}")


def _log_probs(log_probs, K, V=None):
    """What a step returned, checked: (K, V) float64 rows of normalised log-probabilities."""
    log_p = to_numpy("step's log_probs", log_probs)
    if log_p.ndim != 2 or log_p.shape[0] != K or (V is not None and log_p.shape[1] != V):
        want = f"({K}, {V})" if V is not None else f"({K}, V)"
        raise ValueError(
            f"step must return log_probs of shape (K, V) = {want}, one row per hypothesis, "
            f"got shape {log_p.shape}"
        )
    if np.isnan(log_p).any() or np.isposinf(log_p).any():
        raise ValueError("step returned log_probs containing nan or +inf")
    with np.errstate(under="ignore"):
        sums = np.exp(log_p).sum(axis=1)  # (K,)
    bad = np.flatnonzero(np.abs(sums - 1.0) > _NORMALISED_ATOL)
    if bad.size:
        k = int(bad[0])
        raise ValueError(
            f"step must return log-probabilities (exp of each row sums to 1), but row {k} "
            f"sums to {sums[k]:.6g}: apply log_softmax to the logits"
        )
    return log_p


def _check_eos(eos_id, V):
    if eos_id is not None and eos_id >= V:
        raise ValueError(f"eos_id must be a token id in [0, V) = [0, {V}), got {eos_id}")


def greedy_decode(step, state, start_ids, max_len, eos_id=None):
    """Decode a batch by always taking the most likely next token (argmax of each row).

    Fast and deterministic, but short-sighted: a likely first token can lead into a poor
    continuation (beam search looks further). Ties go to the smallest token id.

    Args:
        step: ``step(ids (B,), state) -> (log_probs (B, V), new_state)``.
        state: the initial state for the B rows (None if the model starts from zeros).
        start_ids: (B,) ints, each row's first input token (e.g. the prompt's last character).
        max_len: L >= 1, the most tokens to generate per row.
        eos_id: a token that ends a row (its later positions are padded with it), or None.
    Returns:
        ``GreedyResult(ids (B, L), log_prob (B,), lengths (B,))``.
    """
    _check_step(step)
    max_len = check_int("max_len", max_len, 1)
    if eos_id is not None:
        eos_id = check_int("eos_id", eos_id, 0)
    prev = np.asarray(start_ids)
    if prev.ndim != 1 or prev.size == 0 or not np.issubdtype(prev.dtype, np.integer):
        raise ValueError(
            f"start_ids must be a non-empty 1-D sequence of int ids (B,), got {prev.dtype} "
            f"of shape {prev.shape}"
        )
    prev = prev.astype(np.int64)
    B = prev.shape[0]
    rows = np.arange(B)
    done = np.zeros(B, dtype=bool)  # rows that already produced eos_id
    columns, log_prob, lengths, V = [], np.zeros(B), np.zeros(B, dtype=np.int64), None
    for _ in range(max_len):
        log_p, state = step(prev, state)
        log_p = _log_probs(log_p, B, V)  # (B, V)
        if V is None:
            V = log_p.shape[1]
            _check_eos(eos_id, V)
        nxt = log_p.argmax(axis=1)  # (B,)
        nxt = np.where(done, eos_id if eos_id is not None else 0, nxt)
        log_prob += np.where(done, 0.0, log_p[rows, nxt])  # an ended row adds nothing
        lengths += ~done
        columns.append(nxt)
        if eos_id is not None:
            done |= nxt == eos_id
        if done.all():
            break
        prev = nxt
    return GreedyResult(np.stack(columns, axis=1), log_prob, lengths)


def beam_search(
    step, state, start_id, beam_width, max_len, eos_id=None, length_penalty=0.0, return_all=False
):
    """The most likely continuation, searched with a beam of ``beam_width`` hypotheses.

    Each step extends every live hypothesis by every token, and keeps the ``beam_width``
    best of these K * V candidates by summed log-probability, eqs. (6.3)-(6.4); ties go to the
    earlier beam, then the smaller token id. A kept candidate that ends with ``eos_id`` is
    *finished*: it leaves the beam and is never extended. After ``max_len`` tokens the
    remaining hypotheses are cut (``finished=False``). Finished and cut hypotheses are ranked
    by the length-normalised score (6.5) with alpha = ``length_penalty``.

    The search stops early when no live hypothesis can still beat the best finished one: a
    live log P can only fall, so with alpha >= 0 its final score is at most
    log P / lp(max_len). The stop is exact: the best hypothesis is the one a run to
    ``max_len`` would return. With ``beam_width`` = 1 this is ``greedy_decode``; with
    ``beam_width`` >= V ** max_len it is an exhaustive search.

    Args:
        step: ``step(ids (K,), state) -> (log_probs (K, V), new_state)``, see the module doc.
        state: the initial state of the single start hypothesis (batch axis 0 of size 1), or
            None. Reordered with ``reorder_state`` as the beams move.
        start_id: the first input token (e.g. the last character of the prompt).
        beam_width: W >= 1. max_len: the most tokens to generate (>= 1).
        eos_id: the end-of-sequence token, or None (every hypothesis then has max_len tokens).
        length_penalty: alpha >= 0 of eq. (6.5); 0 (default) ranks by the plain sum log P.
        return_all: also return the other finished (and cut) hypotheses.
    Returns:
        the best ``Hypothesis``; with ``return_all``, a list of every hypothesis that left
        the beam, best first (ties: the one found first).
    """
    _check_step(step)
    start_id = check_int("start_id", start_id, 0)
    W = check_int("beam_width", beam_width, 1)
    max_len = check_int("max_len", max_len, 1)
    if eos_id is not None:
        eos_id = check_int("eos_id", eos_id, 0)
    alpha = check_positive("length_penalty", length_penalty, allow_zero=True)
    if not isinstance(return_all, bool):
        raise TypeError(f"return_all must be True or False, got {return_all!r}")

    tokens = np.zeros((1, 0), dtype=np.int64)  # (K, t) the live hypotheses' tokens
    log_prob = np.zeros(1)  # (K,) their log P, eq. (6.3)
    last = np.array([start_id], dtype=np.int64)  # (K,) the input of the next step
    finished, V = [], None
    for t in range(1, max_len + 1):
        log_p, state = step(last, state)
        log_p = _log_probs(log_p, len(last), V)  # (K, V)
        if V is None:
            V = log_p.shape[1]
            _check_eos(eos_id, V)
        candidates = (log_prob[:, None] + log_p).ravel()  # (K * V,) eq. (6.4)
        best = np.argsort(-candidates, kind="stable")[:W]  # stable: ties in (beam, token) order
        best = best[np.isfinite(candidates[best])]  # log P = -inf: impossible, never kept
        origin, token = np.divmod(best, V)  # which beam each came from, which token it added
        tokens = np.concatenate([tokens[origin], token[:, None]], axis=1)  # (W', t)
        log_prob = candidates[best]
        ended = token == eos_id if eos_id is not None else np.zeros(len(best), dtype=bool)
        for k in np.flatnonzero(ended | (t == max_len)):
            finished.append(_hypothesis(tokens[k], log_prob[k], alpha, bool(ended[k])))
        live = ~ended
        if t == max_len or not live.any():
            break
        tokens, log_prob, last = tokens[live], log_prob[live], token[live]
        state = reorder_state(state, origin[live])  # each survivor takes its parent's memory
        if finished and _cannot_improve(finished, log_prob, alpha, max_len):
            break
    finished.sort(key=lambda h: -h.score)  # stable: equal scores stay in the order found
    return finished if return_all else finished[0]


def _hypothesis(ids, log_prob, alpha, ended):
    ids = tuple(int(i) for i in ids)
    score = normalised_score(log_prob, len(ids), alpha)
    return Hypothesis(ids, float(log_prob), score, ended)


def _cannot_improve(finished, log_prob, alpha, max_len):
    """True when no live hypothesis can end with a better score than the best finished one.

    A live log P <= 0 only falls as tokens are added, and lp(n) grows with n (alpha >= 0), so
    its best possible final score is log P / lp(max_len).
    """
    best_finished = max(h.score for h in finished)
    best_live = normalised_score(log_prob.max(), max_len, alpha)
    return best_finished >= best_live
