"""Checks for exercise 6: softmax with temperature, sampling the next token, beam search.

The reference is ``lstm_course.decoding``. Sampling is checked statistically: a student may
draw random numbers differently from the reference, so the ids cannot be compared one by
one. Each check draws many tokens and asks every count to lie within 5 binomial standard
errors of what the distribution predicts; a correct sampler fails that with probability
about 1e-5 (and never, for a fixed seed, once it has passed), while an argmax or a wrong
temperature misses by dozens of standard errors.
"""

import warnings

import numpy as np

from lstm_course import decoding as ref
from lstm_course.checks._common import CheckError, as_array, call, compare, passed, rng
from lstm_course.checks._decoding_models import EOS_CHAIN, TRAP, Markov, ToyLM

# Sampling tolerance: |count - N p| <= _SIGMAS * sqrt(N p (1 - p)) + _SLACK (slack for tiny p).
_SIGMAS, _SLACK = 5.0, 3.0
# A second temperature the softmax check always tries (the sampling check tries 0.25 and 4),
# so that an ignored or multiplied temperature is caught even when the test's own is 1.
_OTHER_TEMPERATURE = 2.5


def _softmax(z, temperature):
    return ref.softmax_with_temperature(z, temperature)


# ----- softmax_with_temperature -----


def check_softmax_with_temperature(softmax_with_temperature, B=3, V=5, temperature=0.7, seed=0):
    """softmax_with_temperature on seeded (B, V) logits, at ``temperature`` and at 2.5.

    Also checks that each row sums to 1 and that logits of +-1000 give no nan or inf.
    """
    name = "softmax_with_temperature"
    z = rng(seed).normal(size=(B, V)) * 2.0  # (B, V)
    for tau in dict.fromkeys((temperature, _OTHER_TEMPERATURE)):
        _check_softmax_at(softmax_with_temperature, name, z, tau)
    tau = min(temperature, 1.0)  # (z + 1000) / tau >= 1000: exp overflows unless shifted
    for shift in (1000.0, -1000.0):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the nan below is the feedback
            p = np.asarray(call(softmax_with_temperature, name, z + shift, tau), dtype=float)
        if p.shape == z.shape and not np.all(np.isfinite(p)):
            raise CheckError(
                f"{name} is not numerically stable: logits of {shift:g} give nan or inf at "
                f"temperature {tau:g} (exp({shift / tau:g}) "
                f"{'overflows to inf' if shift > 0 else 'underflows to 0'}). Subtract each row's "
                "maximum before exp: softmax does not change when the same number is "
                "subtracted from a whole row"
            )
        compare(f"p for logits shifted by {shift:g}", p, _softmax(z, tau), axes=("b", "v"))
    passed(
        f"{name} matches the reference for B={B}, V={V} at temperatures {temperature:g} and "
        f"{_OTHER_TEMPERATURE:g}, rows sum to 1, stable for logits of +-1000"
    )


def _check_softmax_at(fn, name, z, temperature):
    expected = _softmax(z, temperature)
    what = f"p (the probabilities at temperature {temperature:g})"
    p = as_array(what, call(fn, name, z.copy(), temperature), expected, axes=("b", "v"))
    sums = p.sum(axis=1)  # (B,)
    bad = np.flatnonzero(~np.isclose(sums, 1.0, atol=1e-6))
    if bad.size:
        b = int(bad[0])
        hint = "divide each row by its own sum (axis=-1, keepdims=True)"
        if np.allclose(p.sum(axis=0), 1.0):
            hint = "you normalised the columns (over the batch); " + hint
        raise CheckError(
            f"probabilities do not sum to 1 in row {b}: the row sums to {sums[b]:.6g}; {hint}"
        )
    if temperature != 1.0 and not np.allclose(p, expected, atol=1e-6, rtol=1e-5):
        if np.allclose(p, _softmax(z * temperature, 1.0), atol=1e-6, rtol=1e-5):
            raise CheckError(
                f"{name}: temperature applied as multiplication instead of division: "
                f"p = softmax(z / temperature), eq. (6.1), so temperature {temperature:g} "
                f"{'sharpens' if temperature < 1 else 'flattens'} the distribution"
            )
        if np.allclose(p, _softmax(z, 1.0), atol=1e-6, rtol=1e-5):
            raise CheckError(
                f"{name} ignores the temperature: at temperature {temperature:g} it returns "
                "the plain softmax; divide the logits by the temperature, eq. (6.1)"
            )
    compare(what, p, expected, axes=("b", "v"), hint="p = softmax(z / temperature), eq. (6.1)")


# ----- sample_next -----


def check_sample_next(sample_next, B=4, V=6, temperature=0.8, seed=0, draws=10_000):
    """sample_next on seeded (B, V) logits: shape, seeding, and the frequencies of ``draws``
    tokens per row at ``temperature``, then at 0.25 and 4 (peaked and flat)."""
    name = "sample_next"
    z = rng(seed).normal(size=(B, V)) * 1.5  # (B, V)
    ids = _ids(call(sample_next, name, z.copy(), temperature, np.random.default_rng(seed)), B, V)
    again = _ids(call(sample_next, name, z.copy(), temperature, np.random.default_rng(seed)), B, V)
    if not np.array_equal(ids, again):
        raise CheckError(
            f"{name} gives different ids for two generators with the same seed: draw your "
            "random numbers from the rng argument (rng.random, rng.choice), not from "
            "np.random or the random module, so that a seed fixes the text"
        )
    _check_frequencies(sample_next, z, temperature, draws, seed)
    # logits 0, 1, 2, 3: the last token has p = 0.98 at temperature 0.25 and 0.35 at 4.
    ramp = np.arange(4.0)[None, :]  # (1, 4)
    for tau in (0.25, 4.0):
        _check_frequencies(sample_next, ramp, tau, 2_000, seed + 1)
    passed(
        f"{name} draws each token of softmax(logits / {temperature:g}) as often as it should "
        f"({draws} draws for each of B={B} rows, V={V}), and follows the temperature"
    )


def _ids(result, B, V, rows=None):
    """The student's ids as an int64 array (rows,), or CheckError naming what is wrong."""
    rows = B if rows is None else rows
    if result is None:
        raise CheckError("sample_next returned None: did you forget to return the ids?")
    ids = np.asarray(result)
    if ids.shape != (rows,):
        raise CheckError(
            f"sample_next returned shape {ids.shape}, expected ({rows},): one token id per row "
            "of logits (B, V)"
        )
    if not (np.issubdtype(ids.dtype, np.integer) or np.all(ids == np.round(ids))):
        raise CheckError(f"sample_next must return integer token ids, got {ids.dtype} {ids[:3]}")
    ids = ids.astype(np.int64)
    outside = np.flatnonzero((ids < 0) | (ids >= V))
    if outside.size:
        b = int(outside[0])
        raise CheckError(f"sample_next returned id {ids[b]} in row {b}, outside [0, V) = [0, {V})")
    return ids


def _check_frequencies(sample_next, z, temperature, N, seed):
    """Draw N tokens for each row of z; every count must be within the tolerance."""
    B, V = z.shape
    batch = np.repeat(z, N, axis=0)  # (B * N, V): rows b * N ... (b + 1) * N - 1 are row b
    result = call(sample_next, "sample_next", batch, temperature, np.random.default_rng(seed))
    ids = _ids(result, B, V, rows=B * N).reshape(B, N)
    counts = np.stack([np.bincount(row, minlength=V) for row in ids])  # (B, V)
    p = _softmax(z, temperature)  # (B, V)
    if _fits(counts, p, N):
        return
    t = f"{temperature:g}"
    if np.all(ids == z.argmax(axis=1)[:, None]):
        raise CheckError(
            f"sample_next always returns the most likely token (the argmax) at temperature {t}: "
            "it must draw at random, token v with probability p_v, eq. (6.2)"
        )
    if temperature != 1.0 and _fits(counts, _softmax(z, 1.0), N):
        raise CheckError(
            f"sample_next ignores the temperature: at temperature {t} it draws from the plain "
            "softmax; draw from softmax(logits / temperature), eq. (6.1)"
        )
    if temperature != 1.0 and _fits(counts, _softmax(z * temperature, 1.0), N):
        raise CheckError(
            "sample_next: temperature applied as multiplication instead of division "
            f"(at temperature {t}); draw from softmax(logits / temperature), eq. (6.1)"
        )
    se = np.sqrt(N * p * (1 - p))
    b, v = np.unravel_index(np.argmax(np.abs(counts - N * p) / (se + 1)), p.shape)
    raise CheckError(
        f"sampled frequencies are off in row {b} at temperature {t}: token {v} was drawn "
        f"{counts[b, v]} times in {N} draws, expected {N * p[b, v]:.1f} +- "
        f"{_SIGMAS * se[b, v] + _SLACK:.1f} (p = {p[b, v]:.4f}); all counts of row {b}: "
        f"{counts[b].tolist()}, expected {np.round(N * p[b], 1).tolist()}"
    )


def _fits(counts, p, N):
    return bool(np.all(np.abs(counts - N * p) <= _SIGMAS * np.sqrt(N * p * (1 - p)) + _SLACK))


# ----- beam_search -----


def _show(h):
    return f"{tuple(h.ids)} with log-prob {h.log_prob:.4f} (score {h.score:.4f})"


def _hypothesis(result, what="beam_search"):
    """The student's result as a Hypothesis, or CheckError."""
    if result is None:
        raise CheckError(f"{what} returned None: did you forget to return the best hypothesis?")
    if not isinstance(result, tuple) or len(result) != 4:
        raise CheckError(
            f"{what} must return a Hypothesis(ids, log_prob, score, finished), got "
            f"{type(result).__name__}"
            + (" (a list only when return_all=True)" if isinstance(result, list) else "")
        )
    ids, log_prob, score, finished = result
    try:
        ids = tuple(int(i) for i in ids)
        log_prob, score = float(log_prob), float(score)
    except (TypeError, ValueError):
        raise CheckError(
            f"{what} returned {result!r:.120}: ids must be a sequence of ints, log_prob and "
            "score numbers"
        ) from None
    return ref.Hypothesis(ids, log_prob, score, bool(finished))


def check_beam_search(
    beam_search, V=5, max_len=6, beam_width=3, eos_id=0, length_penalty=0.0, seed=0
):
    """beam_search on a greedy trap, on an EOS chain, at width 1, on a seeded toy model at the
    test's settings (best and return_all), and at full width (the exhaustive search).

    Args:
        V, max_len, beam_width, eos_id, length_penalty: the search on the toy model (start
            token 1, or 0 when eos_id is 1). seed: the toy model's distributions.
    """
    name = "beam_search"
    # 1. The trap: a beam of 2 must find (2, 2), which greedy misses.
    trap = Markov(TRAP, max_width=2)
    best = _hypothesis(call(beam_search, name, trap.step, None, 0, 2, 2))
    _check_one(best, trap, 0, 2, None, 0.0, "a 3-token Markov chain, beam_width=2, max_len=2")
    want = ref.beam_search(trap.step, None, 0, 2, 2)
    if best.ids != want.ids:
        greedy = " (that is the greedy choice)" if best.ids == (1, 0) else ""
        raise CheckError(
            f"beam_search returns a worse sequence than the best on a 3-token Markov chain "
            f"with beam_width=2: got {_show(best)}{greedy}, the best is {_show(want)}. Keep the "
            "beam_width best candidates over all beams and tokens, eq. (6.4)"
        )
    # 2. EOS ends a hypothesis: here EOS at once (p = 0.6) beats everything longer.
    chain = Markov(EOS_CHAIN, max_width=2)
    args = (chain.step, None, 1, 2, 4, 0)
    where = "a 3-token Markov chain, beam_width=2, max_len=4, eos_id=0"
    best = _hypothesis(call(beam_search, name, *args))
    _check_one(best, chain, 1, 4, 0, 0.0, where)
    _compare_best(best, ref.beam_search(*args, return_all=True), 0, where, 0.0)
    # 3. Width 1 is greedy decoding.
    start = 0 if eos_id == 1 else 1
    toy = ToyLM(V, seed, max_width=1, rare=eos_id)
    best = _hypothesis(call(beam_search, name, toy.step, toy.state0, start, 1, max_len, eos_id))
    _check_one(best, toy, start, max_len, eos_id, 0.0, f"V={V}, beam_width=1, max_len={max_len}")
    greedy = ref.greedy_decode(toy.step, toy.state0, [start], max_len, eos_id)
    ids = tuple(greedy.ids[0, : greedy.lengths[0]].tolist())
    if best.ids != ids:
        raise CheckError(
            f"beam_search with beam_width=1 differs from greedy decoding: got ids {best.ids} "
            f"with log-prob {best.log_prob:.4f}, greedy gives {ids} with log-prob "
            f"{greedy.log_prob[0]:.4f}"
        )
    # 4. The toy model at the test's settings: every returned hypothesis, then the best.
    toy = ToyLM(V, seed, max_width=beam_width, rare=eos_id)
    args = (toy.step, toy.state0, start, beam_width, max_len, eos_id, length_penalty)
    where = f"V={V}, beam_width={beam_width}, max_len={max_len}, eos_id={eos_id}"
    best = _hypothesis(call(beam_search, name, *args))
    _check_one(best, toy, start, max_len, eos_id, length_penalty, where)
    everything = call(beam_search, name, *args, return_all=True)
    hyps = _hypotheses(everything, toy, start, max_len, eos_id, length_penalty, where)
    _compare_best(best, ref.beam_search(*args, return_all=True), eos_id, where, length_penalty)
    _check_order(hyps, best)
    # 5. Wide enough to hold every sequence: the exact best.
    eos = 0 if eos_id is not None else None
    tiny = ToyLM(3, seed + 1, max_width=27, rare=eos)
    args = (tiny.step, tiny.state0, 1, 27, 3, eos, length_penalty)
    exhaustive = f"V=3, beam_width=27 = V ** max_len, max_len=3, eos_id={eos}"
    best = _hypothesis(call(beam_search, name, *args))
    _check_one(best, tiny, 1, 3, eos, length_penalty, exhaustive)
    _compare_best(best, ref.beam_search(*args, return_all=True), eos, exhaustive, length_penalty)
    passed(
        f"{name} finds the best of a beam of width {beam_width} ({where}, length_penalty="
        f"{length_penalty:g}), stops at EOS, equals greedy at width 1 and the exhaustive "
        "search at width 27"
    )


def _compare_best(best, everything, eos_id, where, alpha):
    """The student's best against the reference's, with a hint at the likely mistake."""
    want = everything[0]
    if np.isclose(best.score, want.score, atol=1e-9):
        return
    hint = "keep the beam_width best candidates over all beams and tokens, eq. (6.4)"
    if best.score > want.score:
        hint = "does it keep more than beam_width hypotheses?"
    elif want.finished and eos_id not in best.ids:
        hint = (
            f"the best ends with eos_id={eos_id}: a candidate that picks eos_id is finished "
            "(kept aside, out of the beam), not extended like the others"
        )
    elif alpha > 0 and best.log_prob > want.log_prob:
        hint = "rank the finished hypotheses by their score, eq. (6.5), not by log_prob"
    elif best.ids in {h.ids for h in everything}:
        hint = (
            "that one is a finished hypothesis, but not the best: sort the finished "
            "hypotheses by score, best first, and return the first"
        )
    better = "worse" if best.score < want.score else "better"
    raise CheckError(
        f"beam_search returns a {better} sequence than the reference's ({where}, "
        f"length_penalty={alpha:g}): got {_show(best)}, expected {_show(want)}; {hint}"
    )


def _check_one(h, toy, start, max_len, eos_id, alpha, where):
    """One returned hypothesis: EOS only at the end, length, log_prob, score, finished."""
    if eos_id is not None and eos_id in h.ids[:-1]:
        position = h.ids.index(eos_id)
        raise CheckError(
            f"hypotheses continued after EOS ({where}): the sequence {h.ids} has eos_id="
            f"{eos_id} at position {position} and goes on. A candidate ending with eos_id is "
            "finished: take it out of the beam and never extend it"
        )
    if not 1 <= len(h.ids) <= max_len:
        raise CheckError(
            f"beam_search returned {len(h.ids)} tokens {h.ids} ({where}): a hypothesis has 1 to "
            f"max_len = {max_len} tokens (without the start token)"
        )
    true = toy.log_prob(start, h.ids)
    if not np.isclose(h.log_prob, true, atol=1e-9, rtol=1e-9):
        raise CheckError(
            f"the log_prob of the returned sequence {h.ids} is {h.log_prob:.6f}, but the model "
            f"gives its tokens log-probability {true:.6f} ({where}), eq. (6.3). Add each step's "
            "log-probability to the running total of the beam it extends, and let every "
            "survivor continue from its parent's state: state = reorder_state(state, origin)"
        )
    lp = ((5 + len(h.ids)) / 6) ** alpha
    if not np.isclose(h.score, h.log_prob / lp, atol=1e-9, rtol=1e-9):
        raise CheckError(
            f"the score of {h.ids} is {h.score:.6f}, expected log_prob / lp(n) = "
            f"{h.log_prob:.6f} / {lp:.6f} = {h.log_prob / lp:.6f} with n = {len(h.ids)} and "
            f"length_penalty = {alpha:g}, eq. (6.5)"
        )
    ends = eos_id is not None and h.ids[-1] == eos_id
    if h.finished != ends:
        raise CheckError(
            f"finished is {h.finished} for {h.ids} ({where}): it must be True exactly when the "
            "hypothesis ends with eos_id (False when max_len cut it off)"
        )


def _hypotheses(everything, toy, start, max_len, eos_id, alpha, where):
    """return_all=True: a non-empty list of Hypothesis, each one consistent (_check_one)."""
    if not isinstance(everything, (list, tuple)) or isinstance(everything, ref.Hypothesis):
        raise CheckError(
            "beam_search with return_all=True must return a list of Hypothesis, best first, "
            f"got {type(everything).__name__}"
        )
    if not everything:
        raise CheckError("beam_search with return_all=True returned an empty list")
    hyps = [_hypothesis(h, "beam_search(return_all=True)") for h in everything]
    for h in hyps:
        _check_one(h, toy, start, max_len, eos_id, alpha, where + ", return_all=True")
    return hyps


def _check_order(hyps, best):
    """return_all=True lists the hypotheses best first, the first being the one returned alone."""
    for k in range(1, len(hyps)):
        if hyps[k].score > hyps[k - 1].score + 1e-12:
            raise CheckError(
                f"beam_search with return_all=True must list the hypotheses best first, but "
                f"item {k} has score {hyps[k].score:.4f} > item {k - 1}'s {hyps[k - 1].score:.4f}"
            )
    if hyps[0].ids != best.ids:
        raise CheckError(
            f"beam_search with return_all=True lists {_show(hyps[0])} first, but returns "
            f"{_show(best)} as the best without it"
        )
