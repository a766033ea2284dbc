"""The exercise-6 checks pass the reference and name the fault of each broken implementation.

Every broken version below is a student's answer with exactly one mistake; the test asserts
that the check fails with the message that points at that mistake.
"""

import functools

import numpy as np
import pytest

from lstm_course import decoding
from lstm_course.checks import decoding as checks
from lstm_course.checks._common import CheckError
from lstm_course.decoding import Hypothesis, normalised_score, reorder_state

# The settings of the exercise notebook's test cells: visible first, then hidden.
SOFTMAX_SETTINGS = [
    dict(B=3, V=5, temperature=0.7, seed=0),
    dict(B=1, V=9, temperature=1.0, seed=11),
    dict(B=6, V=3, temperature=3.0, seed=12),
]
SAMPLE_SETTINGS = [
    dict(B=4, V=6, temperature=0.8, seed=0),
    dict(B=2, V=10, temperature=1.0, seed=11),
    dict(B=3, V=4, temperature=1.7, seed=12),
]
BEAM_SETTINGS = [
    dict(V=5, max_len=6, beam_width=3, eos_id=0, length_penalty=0.0, seed=31),
    dict(V=7, max_len=8, beam_width=4, eos_id=None, length_penalty=0.0, seed=11),
    dict(V=4, max_len=7, beam_width=2, eos_id=3, length_penalty=0.6, seed=21),
    dict(V=6, max_len=9, beam_width=5, eos_id=1, length_penalty=1.0, seed=13),
]


# ----- answers with one mistake each -----


def softmax(z, temperature, mistake=None):
    z = np.asarray(z, dtype=float)
    if mistake == "not_implemented":
        raise NotImplementedError()
    if mistake == "multiplies":
        a = z * temperature
    elif mistake == "ignores_temperature":
        a = z
    else:
        a = z / temperature
    if mistake != "unstable":
        a = a - a.max(axis=-1, keepdims=True)
    e = np.exp(a)
    if mistake == "normalises_columns":
        return e / e.sum(axis=0, keepdims=True)
    if mistake == "normalises_everything":
        return e / e.sum()
    if mistake == "no_keepdims":
        return e / e.sum(axis=-1)
    if mistake == "transposed":
        return (e / e.sum(axis=-1, keepdims=True)).T
    return e / e.sum(axis=-1, keepdims=True)


def sample(logits, temperature, rng, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    tau = {"ignores_temperature": 1.0, "multiplies": 1 / temperature}.get(mistake, temperature)
    p = decoding.softmax_with_temperature(logits, tau)  # (B, V)
    if mistake == "argmax":
        return p.argmax(axis=1)
    if mistake == "returns_probabilities":
        return p
    if mistake == "reversed":
        p = p[:, ::-1]
    c = np.cumsum(p, axis=1)
    if mistake == "global_random":
        u = np.random.random((len(p), 1))  # noqa: NPY002 (the mistake under test)
    else:
        u = rng.random((len(p), 1))
    ids = np.minimum((c <= u).sum(axis=1), p.shape[1] - 1)
    if mistake == "keeps_batch_axis":
        return ids[:, None]
    if mistake == "one_based":
        return ids + 1
    return ids


def beam(
    step,
    state,
    start_id,
    beam_width,
    max_len,
    eos_id=None,
    length_penalty=0.0,
    return_all=False,
    mistake=None,
):
    """A plain beam search (the notebook's answer), with one optional mistake."""
    if mistake == "not_implemented":
        raise NotImplementedError()
    W = 1 if mistake == "greedy" else beam_width
    steps = max_len + 1 if mistake == "one_too_many" else max_len
    tokens, log_prob, last, finished = np.zeros((1, 0), int), np.zeros(1), np.array([start_id]), []
    for t in range(1, steps + 1):
        log_p, new_state = step(last, state)  # (K, V)
        V = log_p.shape[1]
        if mistake == "each_beam_greedy" and t > 1:  # every beam adds its own best token
            origin, token = np.arange(len(last)), log_p.argmax(axis=1)
            candidates = log_prob + log_p[origin, token]
            best = origin
        else:
            totals = log_p if mistake == "no_running_total" else log_prob[:, None] + log_p
            candidates = totals.ravel()
            best = np.argsort(-candidates, kind="stable")[:W]
            origin, token = np.divmod(best, V)
        tokens = np.concatenate([tokens[origin], token[:, None]], axis=1)
        log_prob = candidates[best]
        ended = np.zeros(len(token), bool) if eos_id is None else token == eos_id
        if mistake == "ignores_eos":
            ended[:] = False
        for k in range(len(token)):
            if ended[k] or t == steps:
                alpha = 0.0 if mistake == "unnormalised_score" else length_penalty
                score = normalised_score(log_prob[k], t, alpha)
                done = True if mistake == "always_finished" else bool(ended[k])
                finished.append(Hypothesis(tuple(tokens[k].tolist()), log_prob[k], score, done))
        live = ~ended
        if not live.any():
            break
        tokens, log_prob, last = tokens[live], log_prob[live], token[live]
        state = new_state if mistake == "no_reorder" else reorder_state(new_state, origin[live])
    if mistake == "unsorted_list" and return_all:
        return finished  # in the order found
    if mistake != "unsorted":
        key = (lambda h: h.log_prob) if mistake == "ranks_by_log_prob" else (lambda h: h.score)
        finished.sort(key=key, reverse=True)
    if mistake == "always_list":
        return finished
    return finished if return_all else finished[0]


# ----- the reference and the model answers pass at every setting of the notebook -----


@pytest.mark.parametrize("settings", SOFTMAX_SETTINGS)
def test_softmax_check_passes_the_reference_and_the_answer(settings, capsys):
    checks.check_softmax_with_temperature(decoding.softmax_with_temperature, **settings)
    checks.check_softmax_with_temperature(softmax, **settings)
    assert capsys.readouterr().out.count("OK: softmax_with_temperature") == 2


@pytest.mark.parametrize("settings", SAMPLE_SETTINGS)
def test_sample_check_passes_the_reference_and_the_answer(settings, capsys):
    checks.check_sample_next(decoding.sample_next, **settings)
    checks.check_sample_next(sample, **settings)
    assert capsys.readouterr().out.count("OK: sample_next") == 2


def test_sample_check_passes_a_sampler_that_draws_differently(capsys):
    """rng.choice row by row uses other random numbers than the reference; it is still right."""

    def by_choice(logits, temperature, rng):
        p = decoding.softmax_with_temperature(logits, temperature)
        return np.array([rng.choice(p.shape[1], p=row) for row in p])

    for seed in range(3):  # a correct sampler passes whatever numbers it draws
        checks.check_sample_next(by_choice, B=3, V=5, temperature=0.9, seed=seed, draws=2000)
    assert capsys.readouterr().out.count("OK:") == 3


@pytest.mark.parametrize("settings", BEAM_SETTINGS)
def test_beam_check_passes_the_reference_and_the_answer(settings, capsys):
    checks.check_beam_search(decoding.beam_search, **settings)
    checks.check_beam_search(beam, **settings)
    assert capsys.readouterr().out.count("OK: beam_search") == 2


# ----- each mistake is named -----

SOFTMAX_MISTAKES = {
    "not_implemented": "softmax_with_temperature is not implemented yet",
    "multiplies": "temperature applied as multiplication instead of division",
    "ignores_temperature": "softmax_with_temperature ignores the temperature",
    "unstable": "not numerically stable: logits of 1000 give nan",
    "normalises_columns": r"probabilities do not sum to 1 in row \d.*you normalised the columns",
    "normalises_everything": r"probabilities do not sum to 1 in row 0: the row sums to 0\.",
    "no_keepdims": "softmax_with_temperature raised ValueError: operands could not be broadcast",
    "transposed": r"has shape \(5, 3\), expected \(3, 5\)",
}


@pytest.mark.parametrize("mistake", SOFTMAX_MISTAKES)
def test_softmax_check_names_the_mistake(mistake):
    broken = functools.partial(softmax, mistake=mistake)
    with pytest.raises(CheckError, match=SOFTMAX_MISTAKES[mistake]):
        checks.check_softmax_with_temperature(broken, **SOFTMAX_SETTINGS[0])


@pytest.mark.parametrize("settings", SOFTMAX_SETTINGS)
@pytest.mark.parametrize("mistake", ["multiplies", "ignores_temperature", "unstable"])
def test_softmax_temperature_mistakes_fail_at_every_setting(mistake, settings):
    """Also at temperature 1, where softmax(z), softmax(z / 1) and softmax(z * 1) agree."""
    with pytest.raises(CheckError, match=SOFTMAX_MISTAKES[mistake]):
        checks.check_softmax_with_temperature(
            functools.partial(softmax, mistake=mistake), **settings
        )


SAMPLE_MISTAKES = {
    "not_implemented": "sample_next is not implemented yet",
    "argmax": "sample_next always returns the most likely token",
    "ignores_temperature": "sample_next ignores the temperature",
    "multiplies": "temperature applied as multiplication instead of division",
    "global_random": "different ids for two generators with the same seed",
    "reversed": r"sampled frequencies are off in row \d at temperature 0.8: token \d was drawn",
    "keeps_batch_axis": r"sample_next returned shape \(4, 1\), expected \(4,\)",
    "returns_probabilities": r"sample_next returned shape \(4, 6\), expected \(4,\)",
    "one_based": r"sample_next returned id 6 in row \d+, outside \[0, V\) = \[0, 6\)",
}


@pytest.mark.parametrize("mistake", SAMPLE_MISTAKES)
def test_sample_check_names_the_mistake(mistake):
    broken = functools.partial(sample, mistake=mistake)
    with pytest.raises(CheckError, match=SAMPLE_MISTAKES[mistake]):
        checks.check_sample_next(broken, **SAMPLE_SETTINGS[0])


@pytest.mark.parametrize("settings", SAMPLE_SETTINGS)
@pytest.mark.parametrize("mistake", ["argmax", "ignores_temperature", "multiplies"])
def test_sample_temperature_mistakes_fail_at_every_setting(mistake, settings):
    with pytest.raises(CheckError, match=SAMPLE_MISTAKES[mistake]):
        checks.check_sample_next(functools.partial(sample, mistake=mistake), **settings)


def test_sampled_frequencies_message_shows_counts_and_expectation():
    with pytest.raises(CheckError) as error:
        checks.check_sample_next(functools.partial(sample, mistake="reversed"), B=1, V=3, seed=2)
    message = str(error.value)
    assert "times in 10000 draws, expected" in message and "all counts of row 0: [" in message


BEAM_MISTAKES = {
    "not_implemented": "beam_search is not implemented yet",
    "greedy": r"worse sequence than the best.*got \(1, 0\).*\(that is the greedy choice\)",
    "each_beam_greedy": r"returns a worse sequence than the reference's \(V=5, beam_width=3",
    "no_reorder": r"called step with 3 ids but a state of 1 hypothesis: .*reorder_state\(state",
    "no_running_total": r"log_prob of the returned sequence .* Add each step's log-probability",
    "ignores_eos": r"hypotheses continued after EOS .*: the sequence \(0, 0, 0, 0\) has eos_id=0",
    "one_too_many": r"beam_search returned 3 tokens \(2, 2, 2\)",
    "always_finished": r"finished is True for .*max_len cut it off",
    "always_list": r"must return a Hypothesis\(ids, log_prob, score, finished\), got list",
    "unsorted": r"worse sequence than the reference's .* a finished hypothesis, but not the best",
    "unsorted_list": r"return_all=True must list the hypotheses best first",
}


@pytest.mark.parametrize("mistake", BEAM_MISTAKES)
def test_beam_check_names_the_mistake(mistake):
    broken = functools.partial(beam, mistake=mistake)
    with pytest.raises(CheckError, match=BEAM_MISTAKES[mistake]):
        checks.check_beam_search(broken, **BEAM_SETTINGS[0])


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ("unnormalised_score", r"the score of .* expected log_prob / lp\(n\)"),
        ("ranks_by_log_prob", r"worse sequence .* rank the finished hypotheses by their score"),
    ],
)
def test_length_penalty_mistakes_are_named(mistake, message):
    broken = functools.partial(beam, mistake=mistake)
    checks.check_beam_search(broken, **BEAM_SETTINGS[0])  # alpha = 0: no difference
    with pytest.raises(CheckError, match=message):
        checks.check_beam_search(broken, **BEAM_SETTINGS[2])


@pytest.mark.parametrize("settings", BEAM_SETTINGS)
@pytest.mark.parametrize("mistake", ["each_beam_greedy", "no_reorder", "no_running_total"])
def test_beam_mistakes_fail_at_every_setting(mistake, settings):
    with pytest.raises(CheckError):
        checks.check_beam_search(functools.partial(beam, mistake=mistake), **settings)


def test_beam_check_reports_a_search_wider_than_its_beam():
    def too_wide(step, state, start_id, beam_width, *args, **kwargs):
        return beam(step, state, start_id, beam_width + 1, *args, **kwargs)

    with pytest.raises(CheckError, match="called step with 3 hypotheses, more than beam_width = 2"):
        checks.check_beam_search(too_wide, **BEAM_SETTINGS[0])


def test_beam_check_reports_a_badly_shaped_step_input():
    def column_ids(step, state, start_id, *args, **kwargs):
        return beam(
            lambda ids, s: step(np.asarray(ids)[:, None], s), state, start_id, *args, **kwargs
        )

    with pytest.raises(CheckError, match=r"called step with ids of shape \(1, 1\)"):
        checks.check_beam_search(column_ids, **BEAM_SETTINGS[0])
