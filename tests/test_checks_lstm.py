"""The exercise-2 checks pass the reference and name the fault of each broken implementation.

Every broken version below is the notebook's model answer with exactly one mistake (the
``mistake`` argument); each test asserts that the check fails with the message that points
at that mistake: the output, the gate, the time step, or the mistake itself.
"""

import functools
import re
from typing import NamedTuple

import numpy as np
import pytest

from lstm_course.checks import _lstm_mistakes as lstm_mistakes
from lstm_course.checks import lstm as checks
from lstm_course.checks._common import CheckError
from lstm_course.scratch import lstm as ref
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
    c_prev: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    tanh_c: np.ndarray
    p: dict


def step_forward(x_t, h_prev, c_prev, p, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    a = x_t @ p["W_x"]
    if mistake != "no_recurrence":
        a = a + h_prev @ p["W_h"]
    if mistake != "no_bias":
        a = a + p["b"]
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    if mistake == "order_ifog":
        a_i, a_f, a_o, a_g = np.split(a, 4, axis=1)
    i, f, o = (
        sigmoid(a_i),
        sigmoid(a_f + (1.0 if mistake == "forget_bias_one" else 0.0)),
        sigmoid(a_o),
    )
    g = sigmoid(a_g) if mistake == "g_sigmoid" else np.tanh(a_g)
    if mistake == "o_tanh":
        o = np.tanh(a_o)
    if mistake == "i_f_swapped":
        i, f = f, i
    if mistake == "c_without_i":
        c = f * c_prev + g
    elif mistake == "c_without_f":
        c = c_prev + i * g
    elif mistake == "writes_into_c_prev":
        c_prev *= f
        c_prev += i * g
        c = c_prev
    else:
        c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = {"h_without_tanh": o * c, "h_without_o": tanh_c, "h_from_c_prev": o * np.tanh(c_prev)}
    h = h.get(mistake, o * tanh_c)
    cache = Cache(x_t, h_prev, c_prev, i, f, g, o, c, tanh_c, p)
    if mistake == "plain_tuple_cache":  # a cache without named gates: a different message
        cache = tuple(cache)
    if mistake == "returns_c_h":
        return c, h, cache
    if mistake == "two_items":
        return h, cache
    return h, c, cache


def step_backward(dh, dc, cache, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    x_t, h_prev, c_prev, i, f, g, o, c, tanh_c, p = cache
    do = dh * (c if mistake == "do_without_tanh" else tanh_c)
    dtanh = {"one_minus_c_squared": 1.0 - c * c, "one_minus_tanh_c": 1.0 - tanh_c}.get(
        mistake, 1.0 - tanh_c * tanh_c
    )
    from_h = 0.0 if mistake == "no_path_through_h" else dh * o * dtanh
    if mistake == "in_place_dc":
        dc_total = dc
        dc_total += from_h
    else:
        dc_total = (0.0 if mistake == "no_incoming_dc" else dc) + from_h
    di, dg = dc_total * g, dc_total * i
    df = dc_total * (c if mistake == "df_uses_c" else c_prev)
    dc_prev = {"dc_prev_without_f": dc_total, "dc_prev_from_incoming_dc": dc * f}.get(
        mistake, dc_total * f
    )
    da_i = di * i * (1.0 - i)
    da_f = df * f if mistake == "f_derivative_without_1_minus_f" else df * f * (1.0 - f)
    da_g = dg * g * (1.0 - g) if mistake == "g_sigmoid_derivative" else dg * (1.0 - g * g)
    da_o = do * o * (1.0 - o)
    blocks = {
        "i_f_swapped": [da_f, da_i, da_g, da_o],
        "order_ifog": [da_i, da_f, da_o, da_g],
    }.get(mistake, [da_i, da_f, da_g, da_o])
    da = np.concatenate(blocks, axis=1)
    grads = {"W_x": x_t.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
    if mistake == "db_not_summed":
        grads["b"] = da
    if mistake == "no_db":
        del grads["b"]
    if mistake == "two_items":
        return da @ p["W_x"].T, grads
    return da @ p["W_x"].T, da @ p["W_h"].T, dc_prev, grads


def forward(X, state0, p, mistake=None, step=step_forward):
    if mistake == "not_implemented":
        raise NotImplementedError()
    T, B, _ = X.shape
    H = p["W_h"].shape[0]
    if mistake == "no_none" or state0 is not None:
        h0, c0 = state0
    else:
        h0, c0 = np.zeros((B, H)), np.zeros((B, H))
    h, c, H_all, caches, stored, buffer = h0, c0, np.empty((T, B, H)), [], [], np.empty((B, H))
    for t in range(T):
        h_prev = h0 if mistake == "h_not_carried" else h
        c_prev = c0 if mistake == "c_not_carried" else c
        h, c, cache = step(X[t], h_prev, c_prev, p)
        if mistake == "same_array":
            buffer[...] = h
            stored.append(buffer)
        H_all[t] = h_prev if mistake == "stores_h_prev" else h
        caches.append(cache)
    if mistake == "same_array":
        H_all = np.stack(stored)
    if mistake == "state_c_h":
        return H_all, (c, h), caches
    if mistake == "state_is_h":
        return H_all, h, caches
    if mistake == "batch_major":
        return H_all.transpose(1, 0, 2), (h, c), caches
    return H_all, (h, c), caches


def backward(dH_all, cache, dstate_T=None, mistake=None, step=step_backward):
    if mistake == "not_implemented":
        raise NotImplementedError()
    T, B, H = dH_all.shape
    p = cache[0].p
    if dstate_T is None or mistake == "ignores_dstate_T":
        dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    else:
        dh_next, dc_next = dstate_T
        if mistake == "ignores_dc_T":
            dc_next = np.zeros((B, H))
    dX = np.empty((T, B, p["W_x"].shape[0]))
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    for t in range(T) if mistake == "forwards" else reversed(range(T)):
        if mistake == "no_dh_carry":
            dh = dH_all[t] * 1.0
        elif mistake == "no_output":
            dh = dh_next * 1.0
        elif mistake == "in_place_dH_all":
            dh = dH_all[t]
            dh += dh_next
        else:
            dh = dH_all[t] + dh_next
        dc = np.zeros((B, H)) if mistake == "no_dc_carry" else dc_next
        dX[t], dh_next, dc_next, step_grads = step(dh, dc, cache[t])
        for k in grads:
            if mistake == "overwrites":
                grads[k] = step_grads[k]
            elif mistake == "only_last":
                grads[k] = step_grads[k] if t == T - 1 else grads[k]
            else:
                grads[k] = grads[k] + step_grads[k]
    if mistake == "mean":
        grads = {k: v / T for k, v in grads.items()}
    if mistake == "dc0_is_dc":
        return dX, (dh_next, dc), grads
    if mistake == "dstate0_is_dh0":
        return dX, dh_next, grads
    return dX, (dh_next, dc_next), grads


def broken(fn, mistake, **kwargs):
    return functools.partial(fn, mistake=mistake, **kwargs)


# ----- the reference and the model answer pass at every setting -----


@pytest.mark.parametrize("settings", STEP_SETTINGS)
def test_step_checks_pass_the_reference_and_the_answer(settings, capsys):
    for fwd, bwd in [
        (ref.lstm_step_forward, ref.lstm_step_backward),
        (step_forward, step_backward),
    ]:
        checks.check_lstm_step_forward(fwd, **settings)
        checks.check_lstm_step_backward(fwd, bwd, **settings)
    out = capsys.readouterr().out
    assert out.count("OK: lstm_step_forward") == 2
    assert out.count("OK: lstm_step_backward") == 2
    assert len(out.splitlines()) == 4  # one line per check


@pytest.mark.parametrize("settings", SEQUENCE_SETTINGS)
def test_sequence_checks_pass_the_reference_and_the_answer(settings, capsys):
    for fwd, bwd in [(ref.lstm_forward, ref.lstm_backward), (forward, backward)]:
        checks.check_lstm_forward(fwd, **settings)
        checks.check_lstm_backward(fwd, bwd, **settings)
    out = capsys.readouterr().out
    assert out.count("OK: lstm_forward") == 2
    assert out.count("OK: lstm_backward") == 2
    assert len(out.splitlines()) == 4


def test_the_mistake_catalogue_without_a_mistake_is_the_reference():
    """The catalogue recomputes the backward pass to predict mistakes: check its right path."""
    rng = np.random.default_rng(5)
    T, B, D, H = 3, 2, 4, 3
    X, h0, c0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    p = {"W_x": rng.normal(size=(D, 4 * H)), "W_h": rng.normal(size=(H, 4 * H))}
    p["b"] = rng.normal(size=4 * H)
    dh, dc = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    _, _, cache = ref.lstm_step_forward(X[0], h0, c0, p)
    dx, dh_prev, dc_prev, grads = ref.lstm_step_backward(dh, dc, cache)
    ours = lstm_mistakes.step_backward(X[0], h0, c0, p, dh, dc)
    for key, value in [("dx", dx), ("dh_prev", dh_prev), ("dc_prev", dc_prev)]:
        np.testing.assert_allclose(ours[key], value, rtol=1e-12, atol=1e-12)
    for key in p:
        np.testing.assert_allclose(ours[f"d{key}"], grads[key], rtol=1e-12, atol=1e-12)
    dH_all, dstate_T = rng.normal(size=(T, B, H)), (dh, dc)
    _, _, seq_cache = ref.lstm_forward(X, (h0, c0), p)
    dX, (dh0, dc0), grads = ref.lstm_backward(dH_all, seq_cache, dstate_T)
    walk = lstm_mistakes.Walks(X, h0, c0, p, dH_all, dstate_T).run()
    for key, value in [("dX", dX), ("dh0", dh0), ("dc0", dc0)]:
        np.testing.assert_allclose(walk[key], value, rtol=1e-12, atol=1e-12)
    for key in p:
        np.testing.assert_allclose(walk[f"d{key}"], grads[key], rtol=1e-12, atol=1e-12)


# ----- each mistake is named -----

CELL = r"c \(the new cell state\) is wrong: first wrong entry at b=\d, j=\d.*"
STEP_FORWARD_MISTAKES = {
    "not_implemented": r"^lstm_step_forward is not implemented yet",
    "order_ifog": CELL + r"The gate blocks are read in the order i, f, o, g \(CS231n's\); this "
    r"course stacks them i, f, g, o",
    "i_f_swapped": CELL + r"The input gate i and the forget gate f are swapped",
    "g_sigmoid": CELL + r"The candidate g uses sigmoid; it uses tanh",
    "o_tanh": r"^h \(the new hidden state\) is wrong: .*The output gate o uses tanh",
    "h_without_tanh": r"^h \(the new hidden state\) is wrong: .*h = o \* c: apply tanh",
    "h_without_o": r"^h \(the new hidden state\) is wrong: .*without the output gate",
    "h_from_c_prev": r"^h \(the new hidden state\) is wrong: .*h uses the previous cell",
    "c_without_i": CELL + r"The input gate is missing from the cell update",
    "c_without_f": CELL + r"The forget gate is missing from the cell update",
    "no_bias": CELL + r"The bias b is missing",
    "no_recurrence": CELL + r"The recurrent term h_prev W_h is missing",
    "forget_bias_one": r"^the forget gate f \(cache.f in your cache\) is wrong: .*f = "
    r"sigmoid\(a_f\), a_f the columns H:2H of a",
    "returns_c_h": CELL
    + r"lstm_step_forward returns \(c, h, cache\); the order is \(h, c, cache\)",
    "two_items": r"lstm_step_forward must return \(h, c, cache\) \(3 items\), got a tuple of 2",
    "writes_into_c_prev": r"lstm_step_forward changed its input c_prev in place",
}


@pytest.mark.parametrize("mistake", STEP_FORWARD_MISTAKES)
def test_step_forward_check_names_the_mistake(mistake):
    with pytest.raises(CheckError, match=STEP_FORWARD_MISTAKES[mistake]):
        checks.check_lstm_step_forward(broken(step_forward, mistake), **VISIBLE_STEP)


@pytest.mark.parametrize("settings", STEP_SETTINGS[1:])
@pytest.mark.parametrize("mistake", ["order_ifog", "i_f_swapped", "g_sigmoid", "no_bias"])
def test_gate_mistakes_are_caught_at_the_hidden_settings(mistake, settings):
    with pytest.raises(CheckError, match=STEP_FORWARD_MISTAKES[mistake]):
        checks.check_lstm_step_forward(broken(step_forward, mistake), **settings)


def test_without_gates_in_the_cache_the_cell_equation_is_named():
    def plain_cache_and_forget_bias(x_t, h_prev, c_prev, p):
        h, c, cache = step_forward(x_t, h_prev, c_prev, p, mistake="forget_bias_one")
        return h, c, tuple(cache)  # the gates are there, but not by name

    with pytest.raises(CheckError, match=CELL + r"c = f \* c_prev \+ i \* g, eq. \(E2.4\)$"):
        checks.check_lstm_step_forward(plain_cache_and_forget_bias)


def test_a_plain_tuple_cache_passes(capsys):
    """The cache is the student's business: a plain tuple (no gate names) is fine."""

    def plain(x_t, h_prev, c_prev, p):
        return step_forward(x_t, h_prev, c_prev, p, mistake="plain_tuple_cache")

    def plain_backward(dh, dc, cache):
        return step_backward(dh, dc, Cache(*cache))

    checks.check_lstm_step_forward(plain)
    checks.check_lstm_step_backward(plain, plain_backward)
    assert capsys.readouterr().out.count("OK:") == 2


GRAD = r"db \(grads\['b'\]\), the {} part is wrong: first wrong entry at \(\d+,\).*"
STEP_BACKWARD_MISTAKES = {
    "not_implemented": r"^lstm_step_backward is not implemented yet",
    "no_path_through_h": GRAD.format("input gate i") + r"dc misses the path through h",
    "no_incoming_dc": GRAD.format("input gate i") + r"The incoming dc \(the gradient from step "
    r"t\+1\) is not used",
    "one_minus_c_squared": GRAD.format("input gate i") + r"1 - tanh\(c\)\^2, not 1 - c\^2",
    "do_without_tanh": GRAD.format("output gate o") + r"do = dh \* tanh\(c\)",
    "dc_prev_without_f": r"^dc_prev is wrong: .*dc_prev is missing the forget gate",
    "dc_prev_from_incoming_dc": r"^dc_prev is wrong: .*dc_prev must use the total cell gradient",
    "df_uses_c": GRAD.format("forget gate f") + r"df = dc_total \* c_prev",
    "g_sigmoid_derivative": GRAD.format("candidate g") + r"The candidate g is a tanh",
    "i_f_swapped": GRAD.format("input gate i") + r"The gradient blocks of i and f are swapped",
    "order_ifog": GRAD.format("candidate g") + r"The gradient blocks are stacked i, f, o, g",
    "f_derivative_without_1_minus_f": GRAD.format("forget gate f")
    + r"da_f = dc_total \* c_prev \* f \(1 - f\)",
    "one_minus_tanh_c": GRAD.format("input gate i") + r"the blocks of input gate i, forget gate "
    r"f, candidate g are wrong and only o is right: these three share dc_total",
    "in_place_dc": r"^lstm_step_backward changed its input dc in place",
    "db_not_summed": r"db \(grads\['b'\]\) has shape \(3, 20\), expected \(4H,\) = \(20,\): sum "
    r"da over the batch axis",
    "no_db": r"must have exactly the keys of p \['W_h', 'W_x', 'b'\] .*missing \['b'\]",
    "two_items": r"lstm_step_backward must return \(dx, dh_prev, dc_prev, grads\) \(4 items\), "
    r"got a tuple of 2",
}


@pytest.mark.parametrize("mistake", STEP_BACKWARD_MISTAKES)
def test_step_backward_check_names_the_mistake(mistake):
    with pytest.raises(CheckError, match=STEP_BACKWARD_MISTAKES[mistake]):
        checks.check_lstm_step_backward(
            step_forward, broken(step_backward, mistake), **VISIBLE_STEP
        )


HIDDEN_STEP_BACKWARD_MISTAKES = {
    "dc_prev_without_f": r"dc_prev is missing the forget gate",
    "i_f_swapped": r"The gradient blocks of i and f are swapped",
    "no_path_through_h": r"dc misses the path through h",
}


@pytest.mark.parametrize("settings", STEP_SETTINGS[1:])
@pytest.mark.parametrize("mistake", HIDDEN_STEP_BACKWARD_MISTAKES)
def test_step_backward_mistakes_are_caught_at_the_hidden_settings(mistake, settings):
    with pytest.raises(CheckError, match=HIDDEN_STEP_BACKWARD_MISTAKES[mistake]):
        checks.check_lstm_step_backward(step_forward, broken(step_backward, mistake), **settings)


def test_step_backward_check_needs_a_right_forward_first():
    with pytest.raises(
        CheckError,
        match=r"^lstm_step_backward is checked with the cache of your "
        r"lstm_step_forward, which is not right yet.*i and the forget gate f are "
        r"swapped",
    ):
        checks.check_lstm_step_backward(broken(step_forward, "i_f_swapped"), step_backward)


def test_blank_backward_with_a_blank_forward_is_reported_as_not_implemented():
    blank_forward = broken(step_forward, "not_implemented")
    with pytest.raises(
        CheckError,
        match=r"^lstm_step_backward is not implemented yet: .*its "
        r"test also runs your lstm_step_forward",
    ):
        checks.check_lstm_step_backward(blank_forward, broken(step_backward, "not_implemented"))
    with pytest.raises(
        CheckError,
        match=r"^lstm_backward is not implemented yet: .*its test also "
        r"runs your lstm_forward",
    ):
        checks.check_lstm_backward(
            broken(forward, "not_implemented"), broken(backward, "not_implemented")
        )


SEQUENCE_FORWARD_MISTAKES = {
    "not_implemented": r"^lstm_forward is not implemented yet",
    "c_not_carried": r"^H_all\[1\] is wrong: .*The cell state is not carried",
    "h_not_carried": r"^H_all\[1\] is wrong: .*The hidden state is not carried",
    "same_array": r"^H_all\[0\] is wrong: .*Every H_all\[t\] holds the last state",
    "stores_h_prev": r"^H_all\[0\] is wrong: .*H_all\[t\] holds the state before step t",
    "no_none": r"^lstm_forward\(X, None, p\) must start from h0 = c0 = zeros of shape \(B, H\) = "
    r"\(3, 5\): lstm_forward raised TypeError: .*state0 = None",
    "state_c_h": r"^c_T is wrong: .*the final state is the tuple \(h_T, c_T\), in that order",
    "state_is_h": r"lstm_forward must return the final state as the tuple \(h_T, c_T\), got "
    r"ndarray",
    "batch_major": r"H_all has shape \(3, 4, 5\), expected \(T, B, H\) = \(4, 3, 5\): sequences "
    r"are time-major",
}


@pytest.mark.parametrize("mistake", SEQUENCE_FORWARD_MISTAKES)
def test_sequence_forward_check_names_the_mistake(mistake):
    with pytest.raises(CheckError, match=SEQUENCE_FORWARD_MISTAKES[mistake]):
        checks.check_lstm_forward(broken(forward, mistake), **VISIBLE_SEQUENCE)


SEQUENCE_BACKWARD_MISTAKES = {
    "not_implemented": r"^lstm_backward is not implemented yet",
    "no_dh_carry": r"^dX\[2\] is wrong: .*The hidden-state gradient from step t\+1 is not added",
    "no_dc_carry": r"^dX\[2\] is wrong: .*The cell gradient does not flow back",
    "no_output": r"^dX\[3\] is wrong: .*The gradient from the output is not added",
    "forwards": r"^dX\[3\] is wrong: .*The steps are visited forwards",
    "ignores_dstate_T": r"^dX\[3\] \(with dstate_T given\) is wrong: .*dstate_T is ignored",
    "ignores_dc_T": r"^dX\[3\] \(with dstate_T given\) is wrong: .*dc_T is ignored",
    "in_place_dH_all": r"^lstm_backward changed its input dH_all in place \(at t=0, 1, 2\)",
    "overwrites": r"^db \(grads\['b'\]\), the input gate i part is wrong: .*db holds only the "
    r"gradient of step t=0",
    "only_last": r"^db \(grads\['b'\]\), the input gate i part is wrong: .*db holds only the "
    r"gradient of the last step t=3",
    "mean": r"^db \(grads\['b'\]\), the input gate i part is wrong: .*db is the mean",
    "dc0_is_dc": r"^dc0 is wrong: .*dc0 is the cell gradient that flows out of the first step",
    "dstate0_is_dh0": r"must return the gradient of the initial state as the tuple \(dh0, dc0\)",
}


@pytest.mark.parametrize("mistake", SEQUENCE_BACKWARD_MISTAKES)
def test_sequence_backward_check_names_the_mistake(mistake):
    with pytest.raises(CheckError, match=SEQUENCE_BACKWARD_MISTAKES[mistake]):
        checks.check_lstm_backward(forward, broken(backward, mistake), **VISIBLE_SEQUENCE)


HIDDEN_BPTT_MISTAKES = {
    "no_dh_carry": r"The hidden-state gradient from step t\+1 is not added",
    "no_dc_carry": r"The cell gradient does not flow back",
    "overwrites": r"it was overwritten at each step instead of added up",
}


@pytest.mark.parametrize("settings", [s for s in SEQUENCE_SETTINGS if s["T"] > 1])
@pytest.mark.parametrize("mistake", HIDDEN_BPTT_MISTAKES)
def test_bptt_mistakes_are_caught_at_the_hidden_settings(mistake, settings):
    with pytest.raises(CheckError, match=HIDDEN_BPTT_MISTAKES[mistake]):
        checks.check_lstm_backward(forward, broken(backward, mistake), **settings)


def test_sequence_backward_blames_the_gate_when_the_walk_is_right():
    """A right walk over a step with a wrong forget-gate derivative: dX at the last step."""
    bad_step = broken(step_backward, "f_derivative_without_1_minus_f")
    with pytest.raises(
        CheckError,
        match=r"^dX\[3\] is wrong: .*The walk starts at the last step "
        r"t=3, where dh = dH_all\[T - 1\], dc = zeros; then lstm_step_backward",
    ):
        checks.check_lstm_backward(forward, functools.partial(backward, step=bad_step))


def test_a_wrong_dc_prev_is_blamed_on_the_step_before_the_last():
    """dc_prev only matters going back: dX is right at the last step, wrong one step before."""
    bad_step = broken(step_backward, "dc_prev_without_f")
    with pytest.raises(
        CheckError,
        match=r"^dX\[2\] is wrong: .*The later steps are right, so the "
        r"gradients flowing into step t=2 are wrong: .*If lstm_step_backward does "
        r"not pass its own test yet, start there",
    ):
        checks.check_lstm_backward(forward, functools.partial(backward, step=bad_step))


def test_sequence_backward_check_needs_a_right_forward_first():
    with pytest.raises(
        CheckError,
        match=r"^lstm_backward is checked with the cache of your "
        r"lstm_forward, which is not right yet.*The cell state is not carried",
    ):
        checks.check_lstm_backward(broken(forward, "c_not_carried"), backward)


# ----- the master notebook, its blank copy, and the submissions in tests/exercise_submissions -----

NOTEBOOK = "02_lstm"


@pytest.fixture(scope="module")
def master():
    return notebook.master(NOTEBOOK)


def test_the_notebook_tests_at_the_settings_tested_here(master):
    """The test cells call each check at the settings above, visible one first, then hidden."""
    cells = notebook.tests(master)
    assert {gid: points for gid, (_, points) in cells.items()} == {
        "test_lstm_step_forward": 2,
        "test_lstm_step_backward": 3,
        "test_lstm_forward": 2,
        "test_lstm_backward": 3,
    }
    for gid, settings in [
        ("test_lstm_step_forward", STEP_SETTINGS),
        ("test_lstm_step_backward", STEP_SETTINGS),
        ("test_lstm_forward", SEQUENCE_SETTINGS),
        ("test_lstm_backward", SEQUENCE_SETTINGS),
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
