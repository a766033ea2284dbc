"""Exercise 3's checks pass the reference GRU and name each deliberate mistake.

``student_*`` below is a plain answer such as a student writes (its own cache, explicit
loops); each ``mistake`` changes one thing in it, and the test expects the check's message to
point at that thing.
"""

from functools import partial

import numpy as np
import pytest

from lstm_course.checks import _gru_mistakes
from lstm_course.checks import gru as checks
from lstm_course.checks._common import CheckError
from lstm_course.scratch import gru as ref
from lstm_course.scratch.activations import sigmoid

# ----- a student's answer, with one optional mistake -----


def student_step_forward(x_t, h_prev, p, mistake=None):
    H = h_prev.shape[1]
    a_x = x_t @ p["W_x"] + p["b_x"]
    a_h = h_prev @ p["W_h"] + p["b_h"]
    if mistake == "swap_rz":
        z = sigmoid(a_x[:, :H] + a_h[:, :H])
        r = sigmoid(a_x[:, H : 2 * H] + a_h[:, H : 2 * H])
    else:
        r = sigmoid(a_x[:, :H] + a_h[:, :H])
        z = sigmoid(a_x[:, H : 2 * H] + a_h[:, H : 2 * H])
    a_hn = a_h[:, 2 * H :]
    if mistake == "reset_before_matmul":
        a_hn = (r * h_prev) @ p["W_h"][:, 2 * H :] + p["b_h"][2 * H :]
        n = np.tanh(a_x[:, 2 * H :] + a_hn)
    elif mistake == "reset_without_bias":
        n = np.tanh(a_x[:, 2 * H :] + r * (h_prev @ p["W_h"][:, 2 * H :]) + p["b_h"][2 * H :])
    elif mistake == "sigmoid_candidate":
        n = sigmoid(a_x[:, 2 * H :] + r * a_hn)
    elif mistake == "no_b_x":
        n = np.tanh(a_x[:, 2 * H :] - p["b_x"][2 * H :] + r * a_hn)
    else:
        n = np.tanh(a_x[:, 2 * H :] + r * a_hn)
    if mistake == "swap_z":
        h = z * n + (1 - z) * h_prev
    elif mistake == "forgot_1_minus_z":
        h = n + z * h_prev
    else:
        h = (1 - z) * n + z * h_prev
    if mistake == "wrong_shape":
        h = h[:, :-1]
    if mistake == "in_place":
        h_prev *= 0.5
    if mistake == "not_implemented":
        raise NotImplementedError()
    if mistake == "no_cache":
        return h
    return h, (x_t, h_prev, r, z, n, a_hn, p)


def student_step_backward(dh, cache, mistake=None):
    x_t, h_prev, r, z, n, a_hn, p = cache
    if mistake == "not_implemented":
        raise NotImplementedError()
    da_n = dh * (1 - z) * (1 - n**2)
    if mistake == "forgot_1_minus_z":
        da_n = dh * (1 - n**2)
    da_z = dh * (h_prev - n) * z * (1 - z)
    if mistake == "sign_z":
        da_z = dh * (n - h_prev) * z * (1 - z)
    da_r = da_n * a_hn * r * (1 - r)
    if mistake == "r_without_a_hn":
        da_r = da_n * r * (1 - r)
    dA_x = np.concatenate([da_r, da_z, da_n], axis=1)
    n_block = da_n if mistake == "no_r_in_h_side" else da_n * r
    dA_h = np.concatenate([da_r, da_z, n_block], axis=1)
    grads = {
        "W_x": x_t.T @ dA_x,
        "W_h": h_prev.T @ dA_h,
        "b_x": dA_x.sum(axis=0),
        "b_h": dA_h.sum(axis=0),
    }
    if mistake == "bias_mean":
        grads["b_x"] = dA_x.mean(axis=0)
    if mistake == "transposed_dW_x":
        grads["W_x"] = grads["W_x"].T
    if mistake == "missing_key":
        del grads["b_h"]
    dx_t = dA_x @ p["W_x"].T
    if mistake == "dx_through_W_h":
        dx_t = dA_x[:, : x_t.shape[1]]
    dh_prev = dh * z + dA_h @ p["W_h"].T
    if mistake == "no_direct_path":
        dh_prev = dA_h @ p["W_h"].T
    if mistake == "in_place":
        dh *= 2.0
        dh /= 2.0
        dh += 1.0
    return dx_t, dh_prev, grads


def student_forward(X, h0, p, mistake=None, step_mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    T, B, _ = X.shape
    H = p["W_h"].shape[0]
    if h0 is None and mistake != "no_none":
        h0 = np.zeros((B, H))
    H_all = np.zeros((T, B, H))
    caches = []
    h = h0
    for t in range(T):
        h_in = h0 if mistake == "no_carry" else h
        h, cache = student_step_forward(X[t], h_in, p, step_mistake)
        H_all[t] = h
        caches.append(cache)
    if mistake == "in_place":
        X[0] = 0.0
    if mistake == "short":
        H_all = H_all[:-1]
    h_T = H_all[0] if mistake == "first_as_last" else h
    return H_all, h_T, caches


def student_backward(dH_all, cache, dh_T=None, mistake=None, step_mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    caches = cache
    T = len(caches)
    B, H = dH_all.shape[1:]
    D = caches[0][0].shape[1]
    dX = np.zeros((T, B, D))
    grads = {key: np.zeros_like(value) for key, value in caches[0][6].items()}
    dh_next = np.zeros((B, H)) if dh_T is None or mistake == "ignore_dh_T" else dh_T
    for t in reversed(range(T)):
        if mistake == "in_place":
            dH_all[t] += dh_next
            dh = dH_all[t]
        elif mistake == "no_dh_next":
            dh = dH_all[t]
        else:
            dh = dH_all[t] + dh_next
        dX[t], dh_prev, step_grads = student_step_backward(dh, caches[t], step_mistake)
        if mistake == "dh0_one_step_late" and t == 0:
            break
        dh_next = dh_prev
        for key in grads:
            if mistake == "overwrite_grads":
                grads[key] = step_grads[key]
            else:
                grads[key] += step_grads[key]
    return dX, dh_next, grads


def broken(fn, **mistakes):
    return partial(fn, **mistakes)


# ----- gru_step_forward -----


@pytest.mark.parametrize("fn", [ref.gru_step_forward, student_step_forward])
def test_step_forward_passes(fn, capsys):
    checks.check_gru_step_forward(fn, B=3, D=4, H=5, seed=0)
    checks.check_gru_step_forward(fn, B=1, D=7, H=2, seed=11)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "OK: gru_step_forward matches the reference at B=3, D=4, H=5 (seed 0)",
        "OK: gru_step_forward matches the reference at B=1, D=7, H=2 (seed 11)",
    ]


@pytest.mark.parametrize(
    "mistake, message",
    [
        ("swap_rz", r"h \(the new hidden state\) is wrong.*r and z are swapped"),
        ("reset_before_matmul", r"reset gate is applied before the matrix product"),
        ("reset_without_bias", r"r multiplies h_prev W_hn but not b_hn"),
        ("swap_z", r"z and 1 - z are swapped"),
        ("forgot_1_minus_z", r"the factor \(1 - z\) on n is missing"),
        ("sigmoid_candidate", r"the candidate n needs tanh"),
        ("no_b_x", r"h \(the new hidden state\) is wrong: first wrong entry at b=0.*Check"),
        ("wrong_shape", r"h \(the new hidden state\) has shape \(3, 4\), expected \(3, 5\)"),
        ("in_place", r"gru_step_forward changed its input h_prev in place"),
        ("not_implemented", r"gru_step_forward is not implemented yet"),
        ("no_cache", r"gru_step_forward must return \(h, cache\) \(2 items\), got ndarray"),
    ],
)
def test_step_forward_names_the_mistake(mistake, message):
    with pytest.raises(CheckError, match=message):
        checks.check_gru_step_forward(broken(student_step_forward, mistake=mistake))


def test_step_forward_in_place_is_only_reported_when_h_is_right():
    """A wrong h is reported first; the in-place message is for an otherwise right answer."""

    def wrong_and_in_place(x_t, h_prev, p):
        h, cache = ref.gru_step_forward(x_t, h_prev.copy(), p)
        h_prev[0, 0] = 99.0
        return h + 1.0, cache

    with pytest.raises(CheckError, match="is wrong"):
        checks.check_gru_step_forward(wrong_and_in_place)


# ----- gru_step_backward -----


@pytest.mark.parametrize(
    "forward, backward",
    [
        (ref.gru_step_forward, ref.gru_step_backward),
        (student_step_forward, student_step_backward),
    ],
)
def test_step_backward_passes(forward, backward, capsys):
    checks.check_gru_step_backward(forward, backward, B=3, D=4, H=5, seed=0)
    checks.check_gru_step_backward(forward, backward, B=6, D=2, H=9, seed=12)
    assert capsys.readouterr().out.count("OK: gru_step_backward matches") == 2


@pytest.mark.parametrize(
    "mistake, message",
    [
        ("forgot_1_minus_z", r"grads\['W_x'\] \(dL/dW_x\), the candidate n gate part is wrong"),
        ("sign_z", r"grads\['W_x'\] \(dL/dW_x\), the update z gate part is wrong.*h_prev - n"),
        ("r_without_a_hn", r"grads\['W_x'\] \(dL/dW_x\), the reset r gate part is wrong"),
        ("no_r_in_h_side", r"grads\['W_h'\] \(dL/dW_h\), the candidate n gate part.*da_n \* r"),
        ("bias_mean", r"grads\['b_x'\] \(dL/db_x\), the candidate n gate part is wrong"),
        ("transposed_dW_x", r"grads\['W_x'\] \(dL/dW_x\) has shape \(15, 4\), expected \(4, 15\)"),
        ("missing_key", r"grads must have exactly the keys .* missing \['b_h'\]"),
        ("dx_through_W_h", r"dx_t \(dL/dx_t\) is wrong.*dA_x W_x\^T"),
        ("no_direct_path", r"dh_prev \(dL/dh_prev\) is wrong.*direct path dh \* z.*is missing"),
        ("in_place", r"gru_step_backward changed its input dh in place"),
        ("not_implemented", r"gru_step_backward is not implemented yet"),
    ],
)
def test_step_backward_names_the_mistake(mistake, message):
    backward = broken(student_step_backward, mistake=mistake)
    with pytest.raises(CheckError, match=message):
        checks.check_gru_step_backward(student_step_forward, backward)


def test_step_backward_needs_a_right_forward_first():
    forward = broken(student_step_forward, mistake="swap_rz")
    with pytest.raises(CheckError, match=r"cache of your gru_step_forward, which is not right"):
        checks.check_gru_step_backward(forward, student_step_backward)


# ----- gru_forward -----


@pytest.mark.parametrize("fn", [ref.gru_forward, student_forward])
def test_forward_passes(fn, capsys):
    checks.check_gru_forward(fn, T=4, B=3, D=4, H=5, seed=0)
    checks.check_gru_forward(fn, T=1, B=2, D=1, H=3, seed=21)
    assert capsys.readouterr().out.count("OK: gru_forward matches") == 2


@pytest.mark.parametrize(
    "mistake, step_mistake, message",
    [
        ("no_carry", None, r"H_all\[1\] \(the hidden state at t = 1\) is wrong.*Step 0 is right"),
        (None, "swap_rz", r"H_all\[0\] .* is wrong.*r and z are swapped"),
        (None, "forgot_1_minus_z", r"H_all\[0\] .* is wrong.*factor \(1 - z\) on n"),
        ("first_as_last", None, r"h_T \(the last hidden state\) is wrong"),
        ("no_none", None, r"with h0=None.*gru_forward raised AttributeError"),
        ("short", None, r"H_all has shape \(3, 3, 5\), expected \(4, 3, 5\) \('T', 'B', 'H'\)"),
        ("in_place", None, r"gru_forward changed its input X in place"),
        ("not_implemented", None, r"gru_forward is not implemented yet"),
    ],
)
def test_forward_names_the_mistake(mistake, step_mistake, message):
    fn = broken(student_forward, mistake=mistake, step_mistake=step_mistake)
    with pytest.raises(CheckError, match=message):
        checks.check_gru_forward(fn)


# ----- gru_backward -----


@pytest.mark.parametrize(
    "forward, backward",
    [(ref.gru_forward, ref.gru_backward), (student_forward, student_backward)],
)
def test_backward_passes(forward, backward, capsys):
    checks.check_gru_backward(forward, backward, T=4, B=3, D=4, H=5, seed=0)
    checks.check_gru_backward(forward, backward, T=1, B=1, D=2, H=3, seed=31)
    checks.check_gru_backward(forward, backward, T=7, B=2, D=3, H=2, seed=32)
    assert capsys.readouterr().out.count("OK: gru_backward matches") == 3


@pytest.mark.parametrize(
    "mistake, step_mistake, message",
    [
        (
            "no_dh_next",
            None,
            r"dX\[2\] \(dL/dx_t at t = 2\) is wrong.*Step 3 is right.*dH_all\[2\] \+ dh_next",
        ),
        (None, "forgot_1_minus_z", r"dX\[3\] .* is wrong.*first step of the backward pass"),
        ("overwrite_grads", None, r"grads\['W_x'\].*is wrong.*step t = 0 alone.*add, do not"),
        (
            "ignore_dh_T",
            None,
            r"with dh_T given .*dX\[3\] .* is wrong.*right without dh_T.*start dh_next from dh_T",
        ),
        ("dh0_one_step_late", None, r"dh0 \(dL/dh0\) is wrong"),
        ("in_place", None, r"gru_backward changed its input dH_all in place.*dH_all\[t\] \+="),
        ("not_implemented", None, r"gru_backward is not implemented yet"),
    ],
)
def test_backward_names_the_mistake(mistake, step_mistake, message):
    backward = broken(student_backward, mistake=mistake, step_mistake=step_mistake)
    with pytest.raises(CheckError, match=message):
        checks.check_gru_backward(student_forward, backward)


def test_backward_needs_a_right_forward_first():
    forward = broken(student_forward, mistake="no_carry")
    with pytest.raises(CheckError, match=r"cache of your gru_forward, which is not right yet"):
        checks.check_gru_backward(forward, student_backward)


def test_the_mistakes_really_change_the_numbers():
    """Every mistake the forward check can name gives an h different from the right one."""
    gen = np.random.default_rng(0)
    x_t, h_prev = gen.normal(size=(3, 4)), np.tanh(gen.normal(size=(3, 5)))
    p = {k: gen.normal(scale=0.5, size=s) for k, (s, _) in ref.gru_param_shapes(4, 5).items()}
    h, _ = ref.gru_step_forward(x_t, h_prev, p)
    for words, value in _gru_mistakes.forward_mistakes(x_t, h_prev, p).items():
        assert not np.allclose(value, h, atol=1e-6), words


def blank(*args, **kwargs):
    """A function as the student copy has it before any answer."""
    raise NotImplementedError()


@pytest.mark.parametrize(
    "check, name",
    [
        (checks.check_gru_step_backward, "gru_step_backward"),
        (checks.check_gru_backward, "gru_backward"),
    ],
)
def test_a_blank_backward_says_so_even_before_the_forward_is_written(check, name):
    with pytest.raises(CheckError, match=rf"^{name} is not implemented yet"):
        check(blank, blank)


@pytest.mark.parametrize(
    "check, backward, forward_name",
    [
        (checks.check_gru_step_backward, student_step_backward, "gru_step_forward"),
        (checks.check_gru_backward, student_backward, "gru_forward"),
    ],
)
def test_a_written_backward_waits_for_its_forward(check, backward, forward_name):
    with pytest.raises(
        CheckError, match=rf"cache of your {forward_name}.*{forward_name} is not implemented yet"
    ):
        check(blank, backward)


def test_a_step_backward_mistake_seen_only_through_dh_prev_points_at_it():
    """With r missing on the h side, dX[T - 1] is still right: the hint must not clear the step."""
    backward = broken(student_backward, step_mistake="no_r_in_h_side")
    with pytest.raises(CheckError, match=r"dX\[2\] .* check dh_prev in your step backward"):
        checks.check_gru_backward(student_forward, backward)
