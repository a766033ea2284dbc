"""The exercise-1 checks pass the reference and name the fault of each broken implementation.

Every broken version below is the notebook's model answer with exactly one mistake (the
``mistake`` argument); each test asserts that the check fails with the message that points
at that mistake, and that the model answer and the reference pass at every setting of the
notebook's test cells.
"""

import functools
import re
from typing import NamedTuple

import numpy as np
import pytest

from lstm_course.checks import _rnn_mistakes as rnn_mistakes
from lstm_course.checks import rnn as checks
from lstm_course.checks._common import CheckError
from lstm_course.checks._recurrent import Watch
from lstm_course.scratch import rnn as ref
from lstm_course.scratch.activations import sigmoid
from tests.exercise_submissions import notebook

# The settings of the notebook's test cells (visible first, then hidden), and one more each.
STEP_SETTINGS = [
    dict(B=3, D=4, H=5, seed=0),
    dict(B=1, D=7, H=2, seed=11),
    dict(B=6, D=2, H=9, seed=12),
    dict(B=2, D=3, H=1, seed=13),
]
SEQUENCE_SETTINGS = [
    dict(T=4, B=3, D=4, H=5, seed=0),
    dict(T=1, B=2, D=3, H=4, seed=21),
    dict(T=7, B=1, D=5, H=1, seed=22),
    dict(T=6, B=4, D=2, H=6, seed=23),
]
VISIBLE_STEP, VISIBLE_SEQUENCE = STEP_SETTINGS[0], SEQUENCE_SETTINGS[0]


# ----- the model answer, with one optional mistake -----


class Cache(NamedTuple):
    x_t: np.ndarray
    h_prev: np.ndarray
    h: np.ndarray
    a: np.ndarray
    p: dict


def step_forward(x_t, h_prev, p, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    W_h = p["W_h"].T if mistake == "W_h_transposed" else p["W_h"]
    a = x_t @ p["W_x"]
    if mistake == "crashes":
        a = a + x_t @ W_h  # (B, D) @ (H, H): fails when D != H
    if mistake != "no_recurrence":
        a = a + h_prev @ W_h
    if mistake != "no_bias":
        a = a + p["b"]
    phi = {"sigmoid": sigmoid, "no_tanh": lambda a: a, "relu": lambda a: np.maximum(a, 0.0)}
    h = phi.get(mistake, np.tanh)(a)
    if mistake == "writes_into_h_prev":
        h_prev[...] = h
        h = h_prev
    cache = Cache(x_t, h_prev, h, a, p)
    if mistake == "only_h":
        return h
    if mistake == "cache_first":
        return cache, h
    if mistake == "transposed":
        return h.T, cache
    if mistake == "drops_batch_axis":
        return h[0], cache
    return h, cache


def step_backward(dh, cache, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    x_t, h_prev, h, a, p = cache
    derivative = {
        "no_derivative": 1.0,
        "one_minus_h": 1.0 - h,
        "sigmoid_derivative": h * (1.0 - h),
        "tanh_twice": 1.0 - np.tanh(h) ** 2,
        "one_minus_a_squared": 1.0 - a * a,
    }.get(mistake, 1.0 - h * h)
    if mistake == "in_place":
        da = dh
        da *= derivative
    else:
        da = dh * derivative
    db = {"db_mean": da.mean(axis=0), "db_not_summed": da}.get(mistake, da.sum(axis=0))
    dW_x = da.T @ x_t if mistake == "dW_x_transposed" else x_t.T @ da
    dW_h = (h if mistake == "dW_h_uses_h" else h_prev).T @ da
    dx = da @ p["W_x"] if mistake == "dx_without_transpose" else da @ p["W_x"].T
    dh_prev = {"dh_prev_no_derivative": dh @ p["W_h"].T, "dh_prev_not_transposed": da @ p["W_h"]}
    dh_prev = dh_prev.get(mistake, da @ p["W_h"].T)
    grads = {"W_x": dW_x, "W_h": dW_h, "b": db}
    if mistake == "d_prefix":
        grads = {f"d{k}": v for k, v in grads.items()}
    if mistake == "grads_tuple":
        return dx, dh_prev, (dW_x, dW_h, db)
    if mistake == "two_items":
        return dx, grads
    return dx, dh_prev, grads


def forward(X, h0, p, mistake=None, step=step_forward):
    if mistake == "not_implemented":
        raise NotImplementedError()
    T, B, _ = X.shape
    H = p["W_h"].shape[0]
    start = h0 if mistake == "no_none" or h0 is not None else np.zeros((B, H))
    h, H_all, caches, buffer = start, np.empty((T, B, H)), [], np.empty((B, H))
    stored = []
    for t in range(T):
        h_prev = start if mistake == "always_h0" else h
        h, cache = step(X[t], h_prev, p)
        if mistake == "same_array":
            buffer[...] = h  # one array, overwritten at every step
            stored.append(buffer)
        H_all[t] = h_prev if mistake == "stores_h_prev" else h
        caches.append(cache)
    if mistake == "same_array":
        H_all = np.stack(stored)
    if mistake == "batch_major":
        return H_all.transpose(1, 0, 2), h, caches
    if mistake == "h_T_is_first":
        return H_all, H_all[0], caches
    if mistake == "two_items":
        return H_all, caches
    return H_all, h, caches


def backward(dH_all, cache, dh_T=None, mistake=None, step=step_backward):
    if mistake == "not_implemented":
        raise NotImplementedError()
    T, B, H = dH_all.shape
    p = cache[0].p
    dh_next = np.zeros((B, H)) if dh_T is None or mistake == "ignores_dh_T" else dh_T
    dX = np.empty((T, B, p["W_x"].shape[0]))
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    for t in range(T) if mistake == "forwards" else reversed(range(T)):
        if mistake == "no_carry":
            dh = dH_all[t] * 1.0
        elif mistake == "no_output":
            dh = dh_next * 1.0
        elif mistake == "in_place_dH_all":
            dh = dH_all[t]  # a view into dH_all
            dh += dh_next
        else:
            dh = dH_all[t] + dh_next
        dX[t], dh_next, step_grads = step(dh, cache[t])
        if mistake == "dW_h_uses_h":
            h = cache[t].h
            step_grads = dict(step_grads, W_h=h.T @ (dh * (1.0 - h * h)))
        for k in grads:
            if mistake == "overwrites":
                grads[k] = step_grads[k]
            elif mistake == "only_last":
                grads[k] = step_grads[k] if t == T - 1 else grads[k]
            else:
                grads[k] = grads[k] + step_grads[k]
    if mistake == "mean":
        grads = {k: v / T for k, v in grads.items()}
    if mistake == "dh0_is_dh":
        return dX, dh, grads
    return dX, dh_next, grads


def broken(fn, mistake, **kwargs):
    return functools.partial(fn, mistake=mistake, **kwargs)


# ----- the reference and the model answer pass at every setting -----


@pytest.mark.parametrize("settings", STEP_SETTINGS)
def test_step_checks_pass_the_reference_and_the_answer(settings, capsys):
    for fwd, bwd in [(ref.rnn_step_forward, ref.rnn_step_backward), (step_forward, step_backward)]:
        checks.check_rnn_step_forward(fwd, **settings)
        checks.check_rnn_step_backward(fwd, bwd, **settings)
    out = capsys.readouterr().out
    assert out.count("OK: rnn_step_forward") == 2
    assert out.count("OK: rnn_step_backward") == 2
    assert out.count("OK:") == len(out.splitlines()) == 4  # one line per check


@pytest.mark.parametrize("settings", SEQUENCE_SETTINGS)
def test_sequence_checks_pass_the_reference_and_the_answer(settings, capsys):
    for fwd, bwd in [(ref.rnn_forward, ref.rnn_backward), (forward, backward)]:
        checks.check_rnn_forward(fwd, **settings)
        checks.check_rnn_backward(fwd, bwd, **settings)
    out = capsys.readouterr().out
    assert out.count("OK: rnn_forward") == 2
    assert out.count("OK: rnn_backward") == 2
    assert len(out.splitlines()) == 4


@pytest.mark.parametrize(
    "settings, error",
    [
        (dict(B=0), ValueError),
        (dict(H=-1), ValueError),
        (dict(D=2.0), TypeError),
        (dict(seed=-1), ValueError),
        (dict(B=True), TypeError),
    ],
)
def test_a_check_called_with_bad_sizes_raises(settings, error):
    """A bad size is the test cell's fault, not the student's: no CheckError."""
    with pytest.raises(error, match=next(iter(settings))):
        checks.check_rnn_step_forward(step_forward, **settings)
    with pytest.raises(error, match=next(iter(settings))):
        checks.check_rnn_backward(forward, backward, **settings)


def test_checks_are_reproducible(capsys):
    """The same seed draws the same inputs: a failure the student sees can be reproduced."""
    bad = broken(step_forward, "no_bias")
    messages = set()
    for _ in range(2):
        with pytest.raises(CheckError) as error:
            checks.check_rnn_step_forward(bad, **VISIBLE_STEP)
        messages.add(str(error.value))
    assert len(messages) == 1


def test_the_bptt_walk_without_a_mistake_is_the_reference():
    """The catalogue reruns BPTT to predict mistakes: check its right path."""
    rng = np.random.default_rng(5)
    T, B, D, H = 3, 2, 4, 3
    X, h0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H))
    p = {"W_x": rng.normal(size=(D, H)), "W_h": rng.normal(size=(H, H)), "b": rng.normal(size=H)}
    dH_all, dh_T = rng.normal(size=(T, B, H)), rng.normal(size=(B, H))
    _, _, cache = ref.rnn_forward(X, h0, p)
    dX, dh0, grads = ref.rnn_backward(dH_all, cache, dh_T)
    walk = rnn_mistakes.Walks(X, h0, p, dH_all, dh_T).run()
    np.testing.assert_allclose(walk["dX"], dX, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(walk["dh0"], dh0, rtol=1e-12, atol=1e-12)
    for key in p:
        np.testing.assert_allclose(walk[f"d{key}"], grads[key], rtol=1e-12, atol=1e-12)


# ----- each mistake is named -----

STEP_FORWARD_MISTAKES = {
    "not_implemented": r"^rnn_step_forward is not implemented yet",
    "no_bias": r"h \(the new hidden state\) is wrong: first wrong entry .*The bias b is missing",
    "sigmoid": r"h looks like sigmoid\(a\), but the RNN's nonlinearity is tanh",
    "no_tanh": r"h is a itself: apply the nonlinearity",
    "relu": r"h looks like relu\(a\)",
    "no_recurrence": r"The recurrent term h_prev W_h is missing",
    "W_h_transposed": r"h_prev is multiplied by W_h transposed",
    "only_h": r"rnn_step_forward must return \(h, cache\) \(2 items\), got ndarray",
    "cache_first": r"h \(the new hidden state\) must be an array of shape \(B, H\) = \(3, 5\), "
    r"got a Cache: are the returned items in the right order\?",
    "transposed": r"h \(the new hidden state\) has shape \(5, 3\), expected \(B, H\) = \(3, 5\): "
    r"is it transposed\?",
    "drops_batch_axis": r"h \(the new hidden state\) has shape \(5,\), expected \(B, H\) = "
    r"\(3, 5\)",
    "writes_into_h_prev": r"rnn_step_forward changed its input h_prev in place",
    "crashes": r"rnn_step_forward raised ValueError: .*; it was called with x_t \(B, D\) = "
    r"\(3, 4\), h_prev \(B, H\) = \(3, 5\), p\['W_x'\] \(D, H\) = \(4, 5\)",
}


@pytest.mark.parametrize("mistake", STEP_FORWARD_MISTAKES)
def test_step_forward_check_names_the_mistake(mistake):
    with pytest.raises(CheckError, match=STEP_FORWARD_MISTAKES[mistake]):
        checks.check_rnn_step_forward(broken(step_forward, mistake), **VISIBLE_STEP)


@pytest.mark.parametrize("settings", STEP_SETTINGS[1:3])
@pytest.mark.parametrize("mistake", ["no_bias", "sigmoid", "no_recurrence"])
def test_step_forward_mistakes_are_caught_at_the_hidden_settings(mistake, settings):
    with pytest.raises(CheckError, match=STEP_FORWARD_MISTAKES[mistake]):
        checks.check_rnn_step_forward(broken(step_forward, mistake), **settings)


STEP_BACKWARD_MISTAKES = {
    "not_implemented": r"^rnn_step_backward is not implemented yet",
    "no_derivative": r"db \(grads\['b'\]\) is wrong: .*tanh's derivative is missing: every "
    r"gradient is computed from da = dh \* \(1 - h\^2\)",
    "one_minus_h": r"\(1 - h\) is not tanh's derivative",
    "sigmoid_derivative": r"h \(1 - h\) is the sigmoid's derivative; tanh's is 1 - h\^2",
    "tanh_twice": r"tanh is applied twice",
    "one_minus_a_squared": r"1 - a\^2 is not tanh'\(a\)",
    "db_mean": r"db \(grads\['b'\]\) is wrong: .*db is the mean of da over the batch; it is "
    r"the sum",
    "db_not_summed": r"db \(grads\['b'\]\) has shape \(3, 5\), expected \(H,\) = \(5,\): sum da "
    r"over the batch axis",
    "dW_x_transposed": r"dW_x \(grads\['W_x'\]\) has shape \(5, 4\), expected \(D, H\) = \(4, 5\): "
    r"is it transposed\?",
    "dW_h_uses_h": r"dW_h \(grads\['W_h'\]\) is wrong: .*dW_h uses the new state h.*h_prev\^T da",
    "dx_without_transpose": r"rnn_step_backward raised ValueError: .*; it was called with dh "
    r"\(B, H\) = \(3, 5\)",
    "dh_prev_no_derivative": r"^dh_prev is wrong: .*dh_prev skips tanh's derivative",
    "dh_prev_not_transposed": r"^dh_prev is wrong: .*dh_prev needs W_h transposed",
    "in_place": r"rnn_step_backward changed its input dh in place: the caller still needs it",
    "d_prefix": r"must have exactly the keys of p \['W_h', 'W_x', 'b'\] .*no 'd' prefix",
    "grads_tuple": r"rnn_step_backward must return its parameter gradients as a dict",
    "two_items": r"rnn_step_backward must return \(dx, dh_prev, grads\) \(3 items\), got a "
    r"tuple of 2",
}


@pytest.mark.parametrize("mistake", STEP_BACKWARD_MISTAKES)
def test_step_backward_check_names_the_mistake(mistake):
    with pytest.raises(CheckError, match=STEP_BACKWARD_MISTAKES[mistake]):
        checks.check_rnn_step_backward(step_forward, broken(step_backward, mistake), **VISIBLE_STEP)


def test_step_backward_check_needs_a_right_forward_first():
    with pytest.raises(
        CheckError,
        match=r"^rnn_step_backward is checked with the cache of your "
        r"rnn_step_forward, which is not right yet.*The bias b is missing",
    ):
        checks.check_rnn_step_backward(broken(step_forward, "no_bias"), step_backward)
    with pytest.raises(
        CheckError,
        match=r"^rnn_step_backward is checked .* rnn_step_forward "
        r"is not implemented yet",
    ):
        checks.check_rnn_step_backward(broken(step_forward, "not_implemented"), step_backward)


def test_blank_backward_with_a_blank_forward_is_reported_as_not_implemented():
    """In a fresh notebook every test says "not implemented yet" about its own function."""
    blank_forward = broken(step_forward, "not_implemented")
    with pytest.raises(
        CheckError,
        match=r"^rnn_step_backward is not implemented yet: .*its test "
        r"also runs your rnn_step_forward",
    ):
        checks.check_rnn_step_backward(blank_forward, broken(step_backward, "not_implemented"))
    with pytest.raises(
        CheckError,
        match=r"^rnn_backward is not implemented yet: .*its test also "
        r"runs your rnn_forward",
    ):
        checks.check_rnn_backward(
            broken(forward, "not_implemented"), broken(backward, "not_implemented")
        )


def test_step_backward_check_catches_a_change_to_the_forward_inputs():
    def clobbers_x(dh, cache):
        result = step_backward(dh, cache)
        cache.x_t[0, 0] += 1.0  # e.g. a careless `x = cache.x_t; x += ...`
        return result

    with pytest.raises(
        CheckError,
        match=r"changed its input x_t, an input of the forward pass "
        r"that your cache holds, in place",
    ):
        checks.check_rnn_step_backward(step_forward, clobbers_x)


SEQUENCE_FORWARD_MISTAKES = {
    "not_implemented": r"^rnn_forward is not implemented yet",
    "always_h0": r"H_all\[1\] is wrong: .*Every step starts from h0: step t must read h_prev = "
    r"H_all\[t - 1\]",
    "same_array": r"H_all\[0\] is wrong: .*Every H_all\[t\] holds the last state: one array is "
    r"stored at every step and then changed in place",
    "stores_h_prev": r"H_all\[0\] is wrong: .*H_all\[t\] holds the state before step t",
    "no_none": r"^rnn_forward\(X, None, p\) must start from h0 = zeros of shape \(B, H\) = "
    r"\(3, 5\): rnn_forward raised (TypeError|ValueError): .*; it was called with X \(T, B, D\) "
    r"= \(4, 3, 4\), .*h0 = None",
    "batch_major": r"H_all has shape \(3, 4, 5\), expected \(T, B, H\) = \(4, 3, 5\): sequences "
    r"are time-major",
    "h_T_is_first": r"h_T is wrong: .*h_T is the last state, H_all\[T - 1\]",
    "two_items": r"rnn_forward must return \(H_all, h_T, cache\) \(3 items\), got a tuple of 2",
}


@pytest.mark.parametrize("mistake", SEQUENCE_FORWARD_MISTAKES)
def test_sequence_forward_check_names_the_mistake(mistake):
    with pytest.raises(CheckError, match=SEQUENCE_FORWARD_MISTAKES[mistake]):
        checks.check_rnn_forward(broken(forward, mistake), **VISIBLE_SEQUENCE)


def test_sequence_forward_check_names_the_first_wrong_step():
    """A step that goes wrong only from t=2 on is blamed on t=2, with what it should read."""

    def late_bias(x_t, h_prev, p, calls=[0]):  # noqa: B006 (counts the calls, on purpose)
        calls[0] += 1
        wrong = (calls[0] - 1) % 4 >= 2  # steps 2 and 3 of each T=4 sequence
        return step_forward(x_t, h_prev, p, mistake="no_bias" if wrong else None)

    with pytest.raises(
        CheckError,
        match=r"^H_all\[2\] is wrong: first wrong entry at b=\d, j=\d.*"
        r"The steps before t=2 are right, so check what step t=2 reads: X\[2\] and "
        r"h_prev = H_all\[1\]",
    ):
        checks.check_rnn_forward(functools.partial(forward, step=late_bias), **VISIBLE_SEQUENCE)


SEQUENCE_BACKWARD_MISTAKES = {
    "not_implemented": r"^rnn_backward is not implemented yet",
    "no_carry": r"^dX\[2\] is wrong: .*The gradient from step t\+1 is not added: at each step "
    r"dh = dH_all\[t\] \+ dh_next",
    "no_output": r"^dX\[3\] is wrong: .*The gradient from the output is not added",
    "forwards": r"^dX\[3\] is wrong: .*The steps are visited forwards",
    "in_place_dH_all": r"^rnn_backward changed its input dH_all in place \(at t=0, 1, 2\): the "
    r"caller still needs it. dH_all\[t\] is a view into dH_all: write `dh = dH_all\[t\] \+ "
    r"dh_next`",
    "ignores_dh_T": r"^dX\[3\] \(with dh_T given\) is wrong: .*dh_T is ignored",
    "overwrites": r"^dW_x \(grads\['W_x'\]\) is wrong: .*dW_x holds only the gradient of step "
    r"t=0, the last one the backward loop visits: it was overwritten",
    "only_last": r"^dW_x \(grads\['W_x'\]\) is wrong: .*dW_x holds only the gradient of the last "
    r"step t=3",
    "mean": r"^dW_x \(grads\['W_x'\]\) is wrong: .*dW_x is the mean of the steps' gradients",
    "dW_h_uses_h": r"^dW_h \(grads\['W_h'\]\) is wrong: .*dW_h uses h_t",
    "dh0_is_dh": r"^dh0 is wrong: .*dh0 is the gradient that flows out of the first step",
}


@pytest.mark.parametrize("mistake", SEQUENCE_BACKWARD_MISTAKES)
def test_sequence_backward_check_names_the_mistake(mistake):
    with pytest.raises(CheckError, match=SEQUENCE_BACKWARD_MISTAKES[mistake]):
        checks.check_rnn_backward(forward, broken(backward, mistake), **VISIBLE_SEQUENCE)


HIDDEN_BPTT_MISTAKES = {
    "no_carry": r"The gradient from step t\+1 is not added",
    "overwrites": r"it was overwritten at each step instead of added up",
    "in_place_dH_all": r"changed its input dH_all in place",
}


@pytest.mark.parametrize("settings", [s for s in SEQUENCE_SETTINGS if s["T"] > 1])
@pytest.mark.parametrize("mistake", HIDDEN_BPTT_MISTAKES)
def test_bptt_mistakes_are_caught_at_the_hidden_settings(mistake, settings):
    with pytest.raises(CheckError, match=HIDDEN_BPTT_MISTAKES[mistake]):
        checks.check_rnn_backward(forward, broken(backward, mistake), **settings)


def test_sequence_backward_blames_the_step_when_the_walk_is_right():
    """A right walk over a wrong step backward fails at the last step, pointing at the step."""
    bad_step = broken(step_backward, "no_derivative")
    with pytest.raises(
        CheckError,
        match=r"^dX\[3\] is wrong: .*The walk starts at the last step "
        r"t=3, where dh = dH_all\[T - 1\]; then rnn_step_backward \(which must pass "
        r"its own test\)",
    ):
        checks.check_rnn_backward(forward, functools.partial(backward, step=bad_step))


def test_a_wrong_dh_prev_is_blamed_on_the_step_before_the_last():
    """dh_prev only matters going back: dX is right at the last step, wrong one step before."""
    bad_step = broken(step_backward, "dh_prev_no_derivative")
    with pytest.raises(
        CheckError,
        match=r"^dX\[2\] is wrong: .*The later steps are right, so the "
        r"dh flowing into step t=2 is wrong: .*If rnn_step_backward does not pass "
        r"its own test yet, start there",
    ):
        checks.check_rnn_backward(forward, functools.partial(backward, step=bad_step))


def test_sequence_backward_check_needs_a_right_forward_first():
    with pytest.raises(
        CheckError,
        match=r"^rnn_backward is checked with the cache of your "
        r"rnn_forward, which is not right yet.*Every step starts from h0",
    ):
        checks.check_rnn_backward(broken(forward, "always_h0"), backward)


def test_a_returned_view_of_an_input_is_reported():
    """Right values that share memory with an input are reported (a later change would leak).

    No answer with right numbers returns a view of its inputs at these shapes, so the helper
    is tested directly.
    """
    x = np.arange(6.0).reshape(2, 3)
    watch = Watch({"x_t": x}, {"x_t": "(B, D)"})
    watch.views("f", {"fresh": x.copy(), "not an array": None})
    with pytest.raises(CheckError, match=r"f returns y as a view of its input x_t"):
        watch.views("f", {"y": x[:, 1:]})


def test_a_replaced_parameter_is_reported():
    def replaces_b(x_t, h_prev, p):
        p["b"] = p["b"] * 1.0  # same numbers, but the caller's dict now holds another array
        return step_forward(x_t, h_prev, p)

    with pytest.raises(
        CheckError,
        match=r"rnn_step_forward changed the dict p \(added, removed "
        r"or replaced a key\)",
    ):
        checks.check_rnn_step_forward(replaces_b)


# ----- the master notebook, its blank copy, and the submissions in tests/exercise_submissions -----

NOTEBOOK = "01_rnn_bptt"


@pytest.fixture(scope="module")
def master():
    return notebook.master(NOTEBOOK)


def test_the_notebook_tests_at_the_settings_tested_here(master):
    """The test cells call each check at the settings above, visible one first, then hidden."""
    cells = notebook.tests(master)
    assert {gid: points for gid, (_, points) in cells.items()} == {
        "test_rnn_step_forward": 2,
        "test_rnn_step_backward": 3,
        "test_rnn_forward": 2,
        "test_rnn_backward": 3,
    }
    for gid, settings in [
        ("test_rnn_step_forward", STEP_SETTINGS),
        ("test_rnn_step_backward", STEP_SETTINGS),
        ("test_rnn_forward", SEQUENCE_SETTINGS),
        ("test_rnn_backward", SEQUENCE_SETTINGS),
    ]:
        source = cells[gid][0]
        visible, hidden = source.split("### BEGIN HIDDEN TESTS")
        calls = [", ".join(f"{k}={v}" for k, v in s.items()) + ")" for s in settings]
        assert calls[0] in visible
        assert all(call in hidden for call in calls[1:])


def test_the_master_answers_pass_every_test_cell(master):
    assert notebook.run(master) == {gid: None for gid in notebook.tests(master)}


def test_the_blank_copy_fails_every_test_cell_as_not_implemented(master):
    blank = {gid: notebook.blank(source) for gid, source in notebook.answers(master).items()}
    results = notebook.run(master, replace=blank)
    assert set(results) == set(notebook.tests(master))
    for gid, message in results.items():
        function = gid.removeprefix("test_")
        assert message.startswith(f"CheckError: {function} is not implemented yet"), message


@pytest.mark.parametrize("submission", notebook.submissions(NOTEBOOK), ids=lambda s: s[0].stem)
def test_the_broken_submissions_fail_the_tests_they_document(master, submission):
    path, answer, fails, message, source = submission
    results = notebook.run(master, replace={answer: source})
    failed = [gid for gid, error in results.items() if error is not None]
    assert failed == fails, path.name
    assert re.search(message, results[fails[0]]), results[fails[0]]
