"""Corpus BLEU (Papineni et al., 2002): how many of a caption's n-grams the references contain.

For a corpus of candidate sentences (token lists) c^(k), each with one or more references
r^(k,1), r^(k,2), ..., BLEU counts n-gram matches *clipped* by the references: an n-gram
that occurs 3 times in a candidate but at most twice in any one reference matches twice.

    p_n = sum_k sum_{g in ngrams_n(c^k)} min(count(g, c^k), max_j count(g, r^(k,j)))
          / sum_k |ngrams_n(c^k)|                                          (9.5) precision
    BP  = 1 if c > r else exp(1 - r / c)                                   (9.6) brevity penalty
    BLEU-N = BP * exp( sum_{n=1}^{N} (1/N) log p_n )                       (9.7)

c is the total candidate length and r the sum, over sentences, of the reference length
closest to the candidate's (ties: the shorter). Without BP, a candidate of one safe word
would score a perfect precision. Both sums run over the whole corpus before dividing
(corpus BLEU, not an average of sentence scores). If some p_n is 0 (no 4-gram matches at all),
BLEU-N is 0, as in the original definition (no smoothing). Scores lie in [0, 1].
"""

import math
from collections import Counter
from typing import NamedTuple


class BleuStats(NamedTuple):
    """The counts BLEU is made of, for n = 1..N.

    Attributes:
        matches: N ints, clipped n-gram matches (numerators of 9.5).
        totals: N ints, candidate n-grams (denominators of 9.5).
        candidate_length: c. reference_length: r (closest reference length, summed).
    """

    matches: list
    totals: list
    candidate_length: int
    reference_length: int


def ngrams(tokens, n):
    """Counter of the n-grams (tuples of n tokens) of a token list."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _check_tokens(name, tokens):
    if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)):
        raise TypeError(f"{name} must be a list of tokens (e.g. str.split()), got {tokens!r:.60}")


def closest_length(candidate_length, reference_lengths):
    """The reference length closest to the candidate's; ties go to the shorter reference."""
    return min(reference_lengths, key=lambda r: (abs(r - candidate_length), r))


def bleu_stats(candidates, references, max_n=4):
    """Clipped matches and totals for n = 1..max_n over a corpus.

    Args:
        candidates: K token lists. references: K lists of one or more token lists each.
        max_n: N, the longest n-gram.
    Returns:
        ``BleuStats``.
    """
    if isinstance(max_n, bool) or not isinstance(max_n, int) or max_n < 1:
        raise ValueError(f"max_n must be an int >= 1, got {max_n!r}")
    candidates, references = list(candidates), list(references)
    if len(candidates) != len(references):
        raise ValueError(
            f"candidates and references must have one entry per sentence, got "
            f"{len(candidates)} candidates and {len(references)} reference lists"
        )
    if not candidates:
        raise ValueError("candidates must hold at least one sentence")
    matches, totals = [0] * max_n, [0] * max_n
    c = r = 0
    for k, (cand, refs) in enumerate(zip(candidates, references, strict=True)):
        _check_tokens(f"candidates[{k}]", cand)
        if isinstance(refs, str) or not refs:
            raise ValueError(f"references[{k}] must be a non-empty list of token lists")
        for j, ref in enumerate(refs):
            _check_tokens(f"references[{k}][{j}]", ref)
        c += len(cand)
        r += closest_length(len(cand), [len(ref) for ref in refs])
        for n in range(1, max_n + 1):
            counts = ngrams(cand, n)
            most = Counter()
            for ref in refs:
                most |= ngrams(ref, n)  # | keeps the larger count: max over references
            matches[n - 1] += sum(min(count, most[g]) for g, count in counts.items())
            totals[n - 1] += max(len(cand) - n + 1, 0)
    return BleuStats(matches, totals, c, r)


def brevity_penalty(candidate_length, reference_length):
    """Eq. (9.6): 1 if c > r, else exp(1 - r / c) (0 for an empty corpus of candidates)."""
    c, r = candidate_length, reference_length
    if c > r:
        return 1.0
    return math.exp(1 - r / c) if c > 0 else 0.0


def bleu_from_stats(stats, n):
    """BLEU-n, eq. (9.7), from ``BleuStats`` holding at least n orders."""
    if not 1 <= n <= len(stats.matches):
        raise ValueError(f"n must lie in [1, {len(stats.matches)}], got {n}")
    if any(stats.matches[k] == 0 for k in range(n)):
        return 0.0  # log 0: some order has no match at all
    log_p = sum(math.log(stats.matches[k] / stats.totals[k]) for k in range(n)) / n
    return brevity_penalty(stats.candidate_length, stats.reference_length) * math.exp(log_p)


def corpus_bleu(candidates, references, max_n=4):
    """BLEU-1 .. BLEU-max_n of a corpus, eqs. (9.5)-(9.7).

    Args:
        candidates: K token lists, e.g. ``caption.split()``.
        references: K lists of reference token lists (one or more per candidate).
        max_n: the highest order N.
    Returns:
        {n: BLEU-n} for n = 1..max_n, floats in [0, 1].
    """
    stats = bleu_stats(candidates, references, max_n)
    return {n: bleu_from_stats(stats, n) for n in range(1, max_n + 1)}


def caption_bleu(captions, references, max_n=4):
    """``corpus_bleu`` for str captions and lists of str references (split on spaces)."""
    captions, references = list(captions), list(references)
    return corpus_bleu(
        [c.split() for c in captions], [[r.split() for r in refs] for refs in references], max_n
    )
