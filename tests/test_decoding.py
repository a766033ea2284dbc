"""Decoding: temperature limits, sampling frequencies, greedy and beam search, CharLM helpers."""

import itertools
from collections import namedtuple

import numpy as np
import pytest
import torch

from lstm_course.data import Vocab
from lstm_course.decoding import (
    Hypothesis,
    beam_search,
    char_lm_step,
    generate,
    greedy_decode,
    normalised_score,
    prompt_state,
    reorder_state,
    sample_next,
    softmax_with_temperature,
)
from lstm_course.models import CharLM

# ----- small models with a step function -----


def markov_step(P):
    """step of a first-order Markov chain: P[i, j] = p(next j | last i); no state."""
    log_P = np.log(P)

    def step(ids, state):
        return log_P[ids], state

    return step


# Greedy takes 1 (p 0.5) and then at most 0.34; 2 (p 0.4) then 2 (p 0.9) is twice as likely.
TRAP = np.array([[0.1, 0.5, 0.4], [0.34, 0.33, 0.33], [0.05, 0.05, 0.9]])


def toy_rnn(V, H=5, seed=0, tuple_state=False):
    """A seeded tanh RNN language model in NumPy: the state remembers the whole prefix.

    Returns (step, state0): state0 is (1, H), or ((1, H), (1, H)) with ``tuple_state`` (the
    second part a running sum), so a search that forgets to reorder states gets wrong scores.
    """
    r = np.random.default_rng(seed)
    E, W_h, W_y = r.normal(size=(V, H)), 0.9 * r.normal(size=(H, H)), 2 * r.normal(size=(H, V))

    def step(ids, state):
        h_prev, s_prev = state if tuple_state else (state, 0.0)
        h = np.tanh(E[ids] + h_prev @ W_h + 0.3 * s_prev)  # (K, H)
        z = h @ W_y  # (K, V)
        log_p = z - z.max(axis=1, keepdims=True)
        log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
        return log_p, ((h, s_prev + h) if tuple_state else h)

    h0 = np.zeros((1, H))
    return step, ((h0, h0.copy()) if tuple_state else h0)


def sequence_log_prob(step, state, start_id, ids):
    """log P(ids | start) by feeding the tokens one at a time, eq. (6.3)."""
    total, last = 0.0, start_id
    for token in ids:
        log_p, state = step(np.array([last]), state)
        total += log_p[0, token]
        last = token
    return total


def exhaustive_best(step, state, start_id, V, max_len, eos_id, alpha):
    """The best hypothesis over every sequence beam search could return (brute force)."""
    space = []
    for n in range(1, max_len + 1):
        for ids in itertools.product(range(V), repeat=n):
            ends = eos_id is not None and ids[-1] == eos_id
            if eos_id is not None and eos_id in ids[:-1]:
                continue  # nothing follows an EOS
            if ends or n == max_len:
                space.append(ids)
    scored = [
        (normalised_score(sequence_log_prob(step, state, start_id, ids), len(ids), alpha), ids)
        for ids in space
    ]
    return max(scored)


# ----- softmax_with_temperature -----


def test_temperature_one_is_the_plain_softmax(rng):
    z = rng.normal(size=(4, 7)) * 3
    expected = torch.softmax(torch.from_numpy(z), dim=-1).numpy()
    np.testing.assert_allclose(softmax_with_temperature(z, 1.0), expected, rtol=1e-12)
    np.testing.assert_allclose(softmax_with_temperature(z), expected, rtol=1e-12)


def test_temperature_divides_the_logits(rng):
    z = rng.normal(size=(3, 5))
    for tau in (0.3, 2.5):
        expected = torch.softmax(torch.from_numpy(z / tau), dim=-1).numpy()
        np.testing.assert_allclose(softmax_with_temperature(z, tau), expected, rtol=1e-12)


def test_small_temperature_concentrates_on_the_argmax(rng):
    z = rng.normal(size=(5, 6))
    argmax = z.argmax(axis=1)
    previous = np.zeros(5)
    for tau in (1.0, 0.3, 0.1, 0.01):
        p_max = softmax_with_temperature(z, tau)[np.arange(5), argmax]
        assert np.all(p_max > previous)  # sharper as tau falls
        previous = p_max
    one_hot = np.eye(6)[argmax]
    np.testing.assert_array_equal(softmax_with_temperature(z, 1e-300), one_hot)  # no warning


def test_ties_share_the_mass_as_temperature_goes_to_zero():
    p = softmax_with_temperature(np.array([[2.0, 5.0, 5.0, -1.0]]), 1e-6)
    np.testing.assert_allclose(p, [[0.0, 0.5, 0.5, 0.0]])


def test_large_temperature_approaches_uniform(rng):
    z = rng.normal(size=(2, 8)) * 5
    for tau, tol in ((1e3, 0.05), (1e6, 1e-4)):
        p = softmax_with_temperature(z, tau)
        assert np.max(np.abs(p - 1 / 8)) < tol * (1 / 8)


def test_numerically_stable_and_shift_invariant(rng):
    z = rng.normal(size=(3, 4))
    p = softmax_with_temperature(z, 0.7)
    for shift in (1000.0, -1000.0, 1e300):
        q = softmax_with_temperature(z + shift, 0.7)  # exp(1000) alone would overflow
        assert np.all(np.isfinite(q))
        np.testing.assert_allclose(q.sum(axis=1), 1.0)
    np.testing.assert_allclose(softmax_with_temperature(z + 1000, 0.7), p, rtol=1e-9)
    np.testing.assert_allclose(softmax_with_temperature([[1e308, 0.0]], 1e-3), [[1.0, 0.0]])


def test_minus_infinity_is_an_impossible_token_and_any_leading_axes_work():
    z = np.array([[[0.0, -np.inf, 1.0]], [[-np.inf, 3.0, -np.inf]]])  # (2, 1, 3)
    p = softmax_with_temperature(z, 0.5)
    assert p.shape == (2, 1, 3)
    assert p[0, 0, 1] == 0.0 and p[1, 0, 1] == 1.0
    np.testing.assert_allclose(softmax_with_temperature([0.0, 0.0]), [0.5, 0.5])


def test_accepts_torch_tensors_with_grad():
    z = torch.randn(2, 3, requires_grad=True)
    p = softmax_with_temperature(z, 2.0)
    assert isinstance(p, np.ndarray) and p.dtype == np.float64
    np.testing.assert_allclose(p, torch.softmax(z.detach().double() / 2, -1).numpy())


@pytest.mark.parametrize(
    ("temperature", "error"),
    [(0.0, ValueError), (-1.0, ValueError), (np.nan, ValueError), (np.inf, ValueError),
     (True, TypeError), ("1", TypeError), (None, TypeError)],
)  # fmt: skip
def test_bad_temperatures_are_named(temperature, error):
    with pytest.raises(error, match="temperature"):
        softmax_with_temperature(np.zeros((1, 3)), temperature)


def test_bad_logits_are_named():
    with pytest.raises(ValueError, match=r"logits must have shape \(\.\.\., V\)"):
        softmax_with_temperature(np.float64(3.0))
    with pytest.raises(ValueError, match="logits must not contain nan"):
        softmax_with_temperature([[0.0, np.nan]])
    with pytest.raises(ValueError, match="all -inf"):
        softmax_with_temperature([[0.0, 1.0], [-np.inf, -np.inf]])
    with pytest.raises(TypeError, match="logits must be an array of numbers"):
        softmax_with_temperature([["a", "b"]])


# ----- sample_next -----


def test_sampled_frequencies_match_the_distribution():
    z = np.array([[0.5, -1.0, 2.0, 0.0, -3.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 3.0]])
    N = 100_000
    for tau in (1.0, 0.6, 2.0):
        p = softmax_with_temperature(z, tau)  # (2, 6)
        ids = sample_next(np.repeat(z, N, axis=0), tau, np.random.default_rng(7))
        counts = np.stack([np.bincount(ids[b * N : (b + 1) * N], minlength=6) for b in (0, 1)])
        # Each count is Binomial(N, p): 5 standard errors fail a correct sampler with
        # probability about 6e-7 per cell; the seed fixes the outcome anyway.
        se = np.sqrt(N * p * (1 - p))
        assert np.all(np.abs(counts - N * p) <= 5 * se + 1), (tau, counts, N * p)


def test_sampling_is_seeded_uses_the_generator_and_never_draws_impossible_tokens(rng):
    with np.errstate(divide="ignore"):  # log 0 = -inf: impossible tokens
        z = np.log(np.array([[0.2, 0.0, 0.8], [0.5, 0.5, 0.0]]))
    batch = np.repeat(z, 5000, axis=0)
    first = sample_next(batch, 1.0, np.random.default_rng(3))
    again = sample_next(batch, 1.0, np.random.default_rng(3))
    np.testing.assert_array_equal(first, again)
    assert first.shape == (10_000,) and first.dtype == np.int64
    assert not np.any(first[:5000] == 1) and not np.any(first[5000:] == 2)
    generator = np.random.default_rng(3)
    assert not np.array_equal(
        sample_next(batch, 1.0, generator), sample_next(batch, 1.0, generator)
    )


def test_tiny_temperature_samples_the_argmax(rng):
    z = rng.normal(size=(50, 9))
    np.testing.assert_array_equal(sample_next(z, 1e-8, rng), z.argmax(axis=1))


def test_sample_next_argument_errors():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        sample_next(np.zeros((2, 3)), 1.0, 0)
    with pytest.raises(ValueError, match=r"logits must have shape \(B, V\), got shape \(3,\)"):
        sample_next(np.zeros(3), 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="temperature"):
        sample_next(np.zeros((2, 3)), 0, np.random.default_rng(0))


# ----- greedy_decode -----


def test_greedy_follows_the_argmax_and_pads_after_eos():
    step = markov_step(TRAP)
    result = greedy_decode(step, None, [0, 2], max_len=3)
    np.testing.assert_array_equal(result.ids, [[1, 0, 1], [2, 2, 2]])
    np.testing.assert_allclose(result.log_prob, np.log([0.5 * 0.34 * 0.5, 0.9**3]))
    ended = greedy_decode(step, None, [0, 2], max_len=5, eos_id=0)
    np.testing.assert_array_equal(ended.ids[0], [1, 0, 0, 0, 0])  # stopped at EOS, padded
    np.testing.assert_array_equal(ended.lengths, [2, 5])
    np.testing.assert_allclose(ended.log_prob, np.log([0.5 * 0.34, 0.9**5]))
    early = greedy_decode(step, None, [1], max_len=9, eos_id=0)  # every row ended: stop
    assert early.ids.shape == (1, 1) and early.lengths[0] == 1


def test_greedy_carries_the_state_of_each_row():
    step, h0 = toy_rnn(V=6, seed=3)
    result = greedy_decode(step, np.repeat(h0, 2, axis=0), [1, 4], max_len=6)
    for b, start in enumerate([1, 4]):
        expected = sequence_log_prob(step, h0, start, result.ids[b])
        np.testing.assert_allclose(result.log_prob[b], expected)
        single = greedy_decode(step, h0, [start], max_len=6)
        np.testing.assert_array_equal(single.ids[0], result.ids[b])


# ----- beam_search -----


def test_beam_of_two_escapes_the_greedy_trap():
    step = markov_step(TRAP)
    greedy = greedy_decode(step, None, [0], max_len=2)
    beam = beam_search(step, None, 0, beam_width=2, max_len=2)
    assert greedy.ids[0].tolist() == [1, 0]
    assert beam.ids == (2, 2)
    assert beam.log_prob == pytest.approx(np.log(0.4 * 0.9))
    assert beam.log_prob > greedy.log_prob[0] + 0.7  # twice as likely, not a rounding issue


@pytest.mark.parametrize("eos_id", [None, 2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_width_one_is_greedy(seed, eos_id):
    step, h0 = toy_rnn(V=5, seed=seed)
    greedy = greedy_decode(step, h0, [0], max_len=8, eos_id=eos_id)
    beam = beam_search(step, h0, 0, beam_width=1, max_len=8, eos_id=eos_id)
    n = greedy.lengths[0]
    assert beam.ids == tuple(greedy.ids[0, :n].tolist())
    assert beam.log_prob == pytest.approx(greedy.log_prob[0])
    assert beam.finished == (eos_id is not None and beam.ids[-1] == eos_id)


@pytest.mark.parametrize("alpha", [0.0, 0.6, 2.0])
@pytest.mark.parametrize(
    ("seed", "eos_id", "tuple_state"), [(0, None, False), (1, 0, False), (2, 1, True), (3, 2, True)]
)
def test_exhaustive_beam_finds_the_exact_best(seed, eos_id, tuple_state, alpha):
    V, L = 3, 4
    step, state0 = toy_rnn(V, seed=seed, tuple_state=tuple_state)
    best_score, best_ids = exhaustive_best(step, state0, 1, V, L, eos_id, alpha)
    beam = beam_search(
        step, state0, 1, beam_width=V**L, max_len=L, eos_id=eos_id, length_penalty=alpha
    )
    assert beam.ids == best_ids
    assert beam.score == pytest.approx(best_score)
    assert beam.log_prob == pytest.approx(sequence_log_prob(step, state0, 1, beam.ids))


def test_hypotheses_end_at_eos_and_return_all_is_ranked():
    step, h0 = toy_rnn(V=4, seed=5)
    everything = beam_search(step, h0, 0, beam_width=3, max_len=6, eos_id=3, return_all=True)
    assert everything[0] == beam_search(step, h0, 0, beam_width=3, max_len=6, eos_id=3)
    scores = [h.score for h in everything]
    assert scores == sorted(scores, reverse=True)
    for h in everything:
        assert isinstance(h, Hypothesis)
        assert 3 not in h.ids[:-1]  # never continued after EOS
        assert h.finished == (h.ids[-1] == 3)
        assert h.finished or len(h.ids) == 6  # else cut at max_len
        assert h.log_prob == pytest.approx(sequence_log_prob(step, h0, 0, h.ids))


def test_without_eos_every_hypothesis_has_max_len_tokens():
    step, h0 = toy_rnn(V=4, seed=6)
    everything = beam_search(step, h0, 2, beam_width=4, max_len=5, return_all=True)
    assert len(everything) == 4
    assert all(len(h.ids) == 5 and not h.finished for h in everything)


def test_length_penalty_trades_an_early_eos_for_a_longer_sequence():
    # Tokens: 0 = EOS, 1 = a, 2 = b, 3 = start. P(EOS) = 0.5 at once; P(a b EOS) = 0.405.
    P = np.array(
        [[1.0, 0.0, 0.0, 0.0], [0.05, 0.05, 0.9, 0.0], [0.9, 0.05, 0.05, 0.0], [0.5, 0.5, 0.0, 0.0]]
    )
    with np.errstate(divide="ignore"):
        step = markov_step(P)
    plain = beam_search(step, None, 3, beam_width=2, max_len=5, eos_id=0)
    normalised = beam_search(step, None, 3, beam_width=2, max_len=5, eos_id=0, length_penalty=1)
    assert plain.ids == (0,) and plain.log_prob == pytest.approx(np.log(0.5))
    assert normalised.ids == (1, 2, 0)
    assert normalised.score == pytest.approx(np.log(0.405) / (8 / 6))  # lp(3) = (5 + 3) / 6
    assert normalised.score > normalised_score(np.log(0.5), 1, 1.0)


def test_normalised_score_is_wu_et_al():
    assert normalised_score(-3.0, 7, 0.6) == pytest.approx(-3.0 / 2**0.6)
    assert normalised_score(-3.0, 7, 0.0) == -3.0
    assert normalised_score(-2.0, 1, 5.0) == -2.0  # lp(1) = 1 whatever alpha


def test_beam_narrower_than_the_vocabulary_and_wider_than_the_first_step():
    step = markov_step(TRAP)
    everything = beam_search(step, None, 0, beam_width=5, max_len=1, return_all=True)
    assert [h.ids for h in everything] == [(1,), (2,), (0,)]  # only V = 3 candidates exist


def test_step_contract_errors():
    good = markov_step(TRAP)
    with pytest.raises(ValueError, match=r"log_probs of shape \(K, V\) = \(1, V\).*\(1, 1, 3\)"):
        beam_search(lambda ids, s: (np.zeros((1, 1, 3)), s), None, 0, 2, 3)
    with pytest.raises(ValueError, match="row 0 sums to 3: apply log_softmax"):
        beam_search(lambda ids, s: (np.zeros((len(ids), 3)), s), None, 0, 2, 3)
    with pytest.raises(ValueError, match="nan"):
        greedy_decode(lambda ids, s: (np.full((1, 3), np.nan), s), None, [0], 3)
    with pytest.raises(TypeError, match="step must be a function"):
        beam_search("model", None, 0, 2, 3)
    with pytest.raises(ValueError, match=r"eos_id must be a token id in \[0, V\) = \[0, 3\)"):
        beam_search(good, None, 0, 2, 3, eos_id=3)
    with pytest.raises(ValueError, match="beam_width must be an int >= 1, got 0"):
        beam_search(good, None, 0, 0, 3)
    with pytest.raises(TypeError, match="max_len must be an int"):
        beam_search(good, None, 0, 2, 2.5)
    with pytest.raises(ValueError, match="length_penalty must be a finite number >= 0"):
        beam_search(good, None, 0, 2, 3, length_penalty=-0.5)
    with pytest.raises(TypeError, match="return_all must be True or False"):
        beam_search(good, None, 0, 2, 3, return_all=1)
    with pytest.raises(ValueError, match=r"start_ids must be a non-empty 1-D sequence"):
        greedy_decode(good, None, [[0]], 3)
    with pytest.raises(ValueError, match="start_id must be an int >= 0"):
        beam_search(good, None, -1, 2, 3)


# ----- reorder_state -----


def test_reorder_state_follows_any_nesting_and_axis():
    Pair = namedtuple("Pair", "h c")
    h = np.arange(6.0).reshape(3, 2)
    t = torch.arange(12.0).reshape(2, 3, 2)  # batch on axis 1, torch.nn's layout
    state = {"a": (h, [h * 2]), "b": Pair(h, h + 1), "none": None}
    out = reorder_state(state, [2, 2, 0])
    np.testing.assert_array_equal(out["a"][0], h[[2, 2, 0]])
    np.testing.assert_array_equal(out["a"][1][0], 2 * h[[2, 2, 0]])
    assert isinstance(out["b"], Pair) and out["none"] is None
    np.testing.assert_array_equal(out["b"].c, h[[2, 2, 0]] + 1)
    torch.testing.assert_close(reorder_state((t,), np.array([1, 0]), axis=1)[0], t[:, [1, 0]])
    with pytest.raises(TypeError, match="state must be None, an array, a tensor"):
        reorder_state("h", [0])


# ----- CharLM -----


@pytest.fixture
def char_lm():
    torch.manual_seed(0)
    vocab = Vocab("abc ")
    return CharLM(len(vocab), embed_size=4, hidden_size=6), vocab


def test_char_lm_step_matches_a_full_forward_pass(char_lm):
    model, vocab = char_lm
    ids = vocab.encode("ab ca")
    logits, _ = model(ids.view(-1, 1))
    expected = torch.log_softmax(logits[:, 0].double(), dim=-1).detach().numpy()  # (5, V)
    step, state = char_lm_step(model), None
    for t in range(5):
        log_p, state = step(np.array([int(ids[t])]), state)
        np.testing.assert_allclose(log_p[0], expected[t], rtol=1e-6)
        assert state[0].shape == (1, 1, 6)  # (B, L, H): beams on axis 0
    start, primed = prompt_state(model, vocab, "ab c")
    assert start == int(ids[3])
    np.testing.assert_allclose(step(np.array([start]), primed)[0][0], expected[3], rtol=1e-6)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_beam_search_on_a_char_lm_is_exhaustive_at_full_width(kind):
    torch.manual_seed(1)
    vocab = Vocab("ab")
    model = CharLM(len(vocab), embed_size=4, hidden_size=5, kind=kind, num_layers=2).eval()
    start, state = prompt_state(model, vocab, "abba")
    step = char_lm_step(model)
    best_score, best_ids = exhaustive_best(step, state, start, 3, 3, None, 0.0)
    beam = beam_search(step, state, start, beam_width=27, max_len=3)
    assert beam.ids == best_ids and beam.log_prob == pytest.approx(best_score)
    greedy = greedy_decode(step, state, [start], max_len=3)
    assert beam_search(step, state, start, 1, 3).ids == tuple(greedy.ids[0].tolist())


def test_generate_is_seeded_and_tiny_temperature_is_greedy(char_lm):
    model, vocab = char_lm
    model.train()
    text = generate(model, vocab, "ab", 20, temperature=1.0, seed=4)
    assert len(text) == 22 and text.startswith("ab")  # no "<unk>": id 0 is never drawn
    assert model.training  # the mode is restored
    assert text == generate(model, vocab, "ab", 20, temperature=1.0, seed=4)
    assert text != generate(model, vocab, "ab", 20, temperature=1.0, seed=5)
    start, state = prompt_state(model, vocab, "ab")
    greedy = greedy_decode(char_lm_step(model), state, [start], max_len=20).ids[0]
    assert generate(model, vocab, "ab", 20, temperature=1e-9) == "ab" + vocab.decode(greedy)
    assert generate(model, vocab, "c", 0) == "c"


def test_generate_uses_the_given_sampler_and_checks_it(char_lm):
    model, vocab = char_lm
    calls = []

    def always_c(logits, temperature, rng):
        calls.append((logits.shape, temperature))
        return np.array([vocab.stoi["c"]])

    assert generate(model, vocab, "a", 3, temperature=0.5, sampler=always_c) == "accc"
    assert calls == [((1, len(vocab)), 0.5)] * 3
    with pytest.raises(ValueError, match=r"sampler must return one id in \[0, 5\)"):
        generate(model, vocab, "a", 1, sampler=lambda z, t, r: np.array([0, 1]))
    with pytest.raises(ValueError, match="prompt must be a non-empty str"):
        generate(model, vocab, "", 5)
    with pytest.raises(ValueError, match="temperature"):
        generate(model, vocab, "a", 5, temperature=0.0)
    with pytest.raises(TypeError, match="length must be an int"):
        generate(model, vocab, "a", 2.0)
