"""The n-gram baselines: counts, add-alpha smoothing (eq. 6.10), and bits per character."""

import math

import numpy as np
import pytest
import torch

from lstm_course.analysis.ngram import NGramLM, ngram_baselines


def test_bigram_probabilities_are_smoothed_counts():
    ids = [0, 1, 0, 1, 1, 2]  # pairs: 01, 10, 01, 11, 12
    model = NGramLM(2, 3, alpha=1.0).fit(ids)
    expected_counts = np.array([[0, 2, 0], [1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(model.counts, expected_counts)
    p = np.exp(model.log_probs)
    np.testing.assert_allclose(p[0], [1 / 5, 3 / 5, 1 / 5])  # (count + 1) / (2 + 3)
    np.testing.assert_allclose(p[2], [1 / 3] * 3)  # an unseen context: uniform
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_unigram_with_tiny_alpha_scores_its_own_text_at_the_entropy():
    rng = np.random.default_rng(0)
    ids = rng.choice(4, size=5000, p=[0.5, 0.25, 0.125, 0.125])
    model = NGramLM(1, 4, alpha=1e-9).fit(ids)
    freq = np.bincount(ids, minlength=4) / len(ids)
    entropy = -(freq * np.log2(freq)).sum()
    assert model.bits_per_char(ids) == pytest.approx(entropy, rel=1e-6)
    assert model.nll_bits(ids).shape == (5000,)


def test_trigram_context_is_the_two_previous_ids_in_order():
    ids = np.array([0, 1, 2, 0, 1, 2, 1, 0, 2])
    model = NGramLM(3, 3, alpha=0.5).fit(ids)
    # context (x_{t-2}, x_{t-1}) = (0, 1) is row 0 * 3 + 1 = 1, always followed by 2
    assert model.counts[1].tolist() == [0, 0, 2]
    assert model.counts[1 * 3 + 2].tolist() == [1, 1, 0]  # (1, 2): then 0 (t = 3), 1 (t = 6)
    assert model.counts[2 * 3 + 1].tolist() == [1, 0, 0]  # (2, 1), the reverse order: then 0
    assert model.counts[2 * 3 + 2].tolist() == [0, 0, 0]  # (2, 2) never occurs
    assert model.counts.sum() == len(ids) - 2
    nll = model.nll_bits(ids)
    assert nll.shape == (len(ids) - 2,)
    assert nll[0] == pytest.approx(-math.log2((2 + 0.5) / (2 + 1.5)))  # 2 after (0, 1)


def test_a_bigram_beats_a_unigram_on_text_with_structure():
    ids = torch.tensor([0, 1, 2, 3] * 200)  # each id fixes the next one
    train, held_out = ids[:600], ids[600:]
    bpc = ngram_baselines(train, held_out, vocab_size=4, orders=(1, 2))
    assert bpc[1] == pytest.approx(2.0, abs=0.01)  # four equally frequent ids
    assert bpc[2] < 0.05  # deterministic transitions, smoothed by alpha = 1 against 150 counts


def test_first_aligns_the_scored_characters_across_orders():
    ids = np.arange(10) % 3
    model = NGramLM(1, 3).fit(ids)
    assert model.nll_bits(ids, first=1).shape == (9,)
    assert model.nll_bits(ids, first=2).shape == (8,)
    with pytest.raises(ValueError, match="first must be an int >= order - 1 = 1"):
        NGramLM(2, 3).fit(ids).nll_bits(ids, first=0)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="order"):
        NGramLM(0, 3)
    with pytest.raises(ValueError, match="alpha"):
        NGramLM(2, 3, alpha=0)
    with pytest.raises(ValueError, match="table"):
        NGramLM(4, 100)
    with pytest.raises(TypeError, match="integer ids"):
        NGramLM(1, 3).fit(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        NGramLM(1, 3).fit([0, 3])
    with pytest.raises(RuntimeError, match="fit"):
        NGramLM(1, 3).nll_bits([0, 1])
