"""Corpus BLEU (eqs. 9.5-9.7) against values computed by hand and an independent implementation.

nltk is not installed in the course environment, so the reference implementation is the short
one below, written from Papineni et al.'s definition with plain lists instead of Counters.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_course.analysis import bleu


def reference_bleu(candidates, references, max_n=4):
    """Papineni et al.'s corpus BLEU, written out with lists (no smoothing)."""
    matched, total = [0] * max_n, [0] * max_n
    c = r = 0
    for cand, refs in zip(candidates, references, strict=True):
        c += len(cand)
        lengths = sorted(len(x) for x in refs)
        r += min(lengths, key=lambda n: abs(n - len(cand)))  # sorted: ties go to the shorter
        for n in range(1, max_n + 1):
            grams = [tuple(cand[i : i + n]) for i in range(len(cand) - n + 1)]
            total[n - 1] += len(grams)
            for g in set(grams):
                in_refs = max(
                    sum(tuple(x[i : i + n]) == g for i in range(len(x) - n + 1)) for x in refs
                )
                matched[n - 1] += min(grams.count(g), in_refs)
    bp = 1.0 if c > r else (math.exp(1 - r / c) if c else 0.0)
    out = {}
    for n in range(1, max_n + 1):
        if any(m == 0 for m in matched[:n]):
            out[n] = 0.0
        else:
            out[n] = bp * math.exp(sum(math.log(matched[k] / total[k]) for k in range(n)) / n)
    return out


def test_the_lectures_worked_example():
    candidate = "a red circle left of a red square".split()
    refs = [
        "a red circle left of a blue square".split(),
        "a blue square right of a red circle".split(),
    ]
    stats = bleu.bleu_stats([candidate], [refs])
    assert stats.matches == [7, 5, 5, 3] and stats.totals == [8, 7, 6, 5]
    assert (stats.candidate_length, stats.reference_length) == (8, 8)
    scores = bleu.corpus_bleu([candidate], [refs])
    assert scores[1] == pytest.approx(7 / 8)
    assert scores[2] == pytest.approx(math.sqrt(7 / 8 * 5 / 7))
    assert scores[4] == pytest.approx((7 / 8 * 5 / 7 * 5 / 6 * 3 / 5) ** 0.25)
    assert scores[4] == pytest.approx(0.7477, abs=1e-4)


def test_clipping_counts_a_word_at_most_as_often_as_one_reference_holds_it():
    # Papineni et al.'s example: "the" seven times against references with "the" twice.
    candidate = ["the"] * 7
    refs = ["the cat is on the mat".split(), "there is a cat on the mat".split()]
    stats = bleu.bleu_stats([candidate], [refs], max_n=1)
    assert stats.matches == [2] and stats.totals == [7]
    # the maximum over references, not the sum: "a" twice in ref 2, once in ref 1
    stats = bleu.bleu_stats([["a", "a", "a"]], [[["a", "b"], ["a", "a"]]], max_n=1)
    assert stats.matches == [2]


def test_multiple_references_each_ngram_may_match_a_different_reference():
    scores = bleu.corpus_bleu([["a", "a", "b"]], [[["a", "b"], ["a", "a"]]], max_n=2)
    assert scores == {1: pytest.approx(1.0), 2: pytest.approx(1.0)}  # c = 3 > r = 2: BP = 1
    one_ref = bleu.corpus_bleu([["a", "a", "b"]], [[["a", "b"]]], max_n=2)
    assert one_ref[1] == pytest.approx(2 / 3) and one_ref[2] == pytest.approx(math.sqrt(2 / 3 / 2))


def test_brevity_penalty():
    assert bleu.brevity_penalty(9, 8) == 1.0
    assert bleu.brevity_penalty(8, 8) == pytest.approx(1.0)  # exp(0)
    assert bleu.brevity_penalty(4, 8) == pytest.approx(math.exp(-1))
    assert bleu.brevity_penalty(0, 5) == 0.0
    # a short candidate with perfect precision is punished only by BP
    scores = bleu.corpus_bleu(
        [["a", "red", "circle"]], [["a red circle left of a blue square".split()]]
    )
    assert scores[3] == pytest.approx(math.exp(1 - 8 / 3))
    assert scores[4] == 0.0  # no 4-gram at all: p_4 = 0


def test_closest_reference_length_ties_go_to_the_shorter():
    assert bleu.closest_length(5, [4, 6]) == 4
    assert bleu.closest_length(5, [6, 3]) == 6
    assert bleu.closest_length(5, [9, 5, 2]) == 5
    stats = bleu.bleu_stats([list("abcde")], [[list("abcd"), list("abcdef")]])
    assert stats.reference_length == 4


def test_corpus_bleu_pools_counts_before_dividing():
    candidates = [["a", "b"], ["a", "c"]]
    references = [[["a", "b"]], [["a", "b"]]]
    scores = bleu.corpus_bleu(candidates, references, max_n=2)
    assert scores[2] == pytest.approx(math.sqrt(3 / 4 * 1 / 2))  # not the mean (1 + 0) / 2
    pairs = zip(candidates, references, strict=True)
    sentence = [bleu.corpus_bleu([c], [r], max_n=2)[2] for c, r in pairs]
    assert sentence == [pytest.approx(1.0), 0.0]


def test_perfect_and_hopeless_captions():
    text = "a red circle left of a blue square"
    assert bleu.caption_bleu([text], [[text]]) == {n: pytest.approx(1.0) for n in range(1, 5)}
    assert bleu.caption_bleu(["x y z w v"], [[text]]) == {n: 0.0 for n in range(1, 5)}


def test_caption_bleu_splits_on_spaces():
    written = ["a red circle above a red square", "a blue square"]
    refs = [["a red circle above a blue square"], ["a blue square below a red circle", "x"]]
    assert bleu.caption_bleu(written, refs) == bleu.corpus_bleu(
        [w.split() for w in written], [[r.split() for r in rs] for rs in refs]
    )


sentences = st.lists(st.sampled_from("abcd"), min_size=0, max_size=9)


@given(
    st.lists(
        st.tuples(sentences, st.lists(sentences.filter(len), min_size=1, max_size=3)),
        min_size=1,
        max_size=5,
    )
)
def test_matches_the_reference_implementation(corpus):
    candidates = [c for c, _ in corpus]
    references = [r for _, r in corpus]
    got = bleu.corpus_bleu(candidates, references)
    want = reference_bleu(candidates, references)
    assert got.keys() == want.keys()
    for n in got:
        assert got[n] == pytest.approx(want[n], abs=1e-12)
        assert 0.0 <= got[n] <= 1.0 + 1e-12


def test_against_a_random_corpus_of_captions():
    rng = np.random.default_rng(0)
    words = "a red blue circle square left of right above below".split()
    candidates = [list(rng.choice(words, size=rng.integers(3, 10))) for _ in range(40)]
    references = [
        [list(rng.choice(words, size=rng.integers(5, 9))) for _ in range(2)] for _ in range(40)
    ]
    got = bleu.corpus_bleu(candidates, references)
    want = reference_bleu(candidates, references)
    assert got == {n: pytest.approx(want[n], abs=1e-12) for n in want}
    assert got[1] > got[2] > 0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: bleu.bleu_stats([["a"]], [[["a"]], [["b"]]]), ValueError, "one entry per"),
        (lambda: bleu.bleu_stats([], []), ValueError, "at least one"),
        (lambda: bleu.bleu_stats(["a b"], [[["a"]]]), TypeError, r"candidates\[0\]"),
        (lambda: bleu.bleu_stats([["a"]], [[]]), ValueError, r"references\[0\]"),
        (lambda: bleu.bleu_stats([["a"]], [["a b"]]), TypeError, r"references\[0\]\[0\]"),
        (lambda: bleu.bleu_stats([["a"]], [[["a"]]], max_n=0), ValueError, "max_n"),
        (lambda: bleu.bleu_from_stats(bleu.bleu_stats([["a"]], [[["a"]]], 2), 3), ValueError, "n"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
