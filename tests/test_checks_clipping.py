"""Exercise 4's checks pass the references and name each deliberate mistake.

``student_*`` below is a plain answer such as a student writes; each ``mistake`` changes one
thing in it, and the test expects the check's message to point at that thing.
"""

from functools import partial

import numpy as np
import pytest

from lstm_course.checks import _tbptt
from lstm_course.checks import clipping as checks
from lstm_course.checks._common import CheckError
from lstm_course.scratch import optim, tbptt

# ----- clip_grad_norm -----


def student_clip(grads, max_norm, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    total_norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    if mistake == "no_sqrt":
        total_norm = total_norm**2
    coef = min(1.0, max_norm / (total_norm + 1e-6))
    if mistake == "always_scale":
        coef = max_norm / (total_norm + 1e-6)
    if mistake == "divide_by_zero":  # the new norm over the old one: 0 / 0 for zero gradients
        coef = min(max_norm, total_norm) / total_norm
    if mistake == "never_clip":
        coef = 1.0
    clipped = {key: g * coef for key, g in grads.items()}
    if mistake == "per_array":
        clipped = {
            key: g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for key, g in grads.items()
        }
    if mistake == "in_place":
        for g in grads.values():
            g *= coef
        clipped = grads
    if mistake == "post_clip_norm":
        total_norm = np.sqrt(sum(np.sum(g**2) for g in clipped.values()))
    if mistake == "only_dict":
        return clipped
    if mistake == "swapped_outputs":
        return total_norm, clipped
    if mistake == "missing_key":
        clipped.pop("b")
    return clipped, total_norm


@pytest.mark.parametrize("fn", [optim.clip_grad_norm, student_clip])
def test_clip_passes(fn, capsys):
    checks.check_clip_grad_norm(fn, D=3, H=4, seed=0)
    checks.check_clip_grad_norm(fn, D=1, H=1, seed=1)
    checks.check_clip_grad_norm(fn, D=6, H=2, seed=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "OK: clip_grad_norm matches the reference at D=3, H=4 (seed 0)"
    assert len(out) == 3


@pytest.mark.parametrize(
    "mistake, message",
    [
        ("per_array", r"clipped\['W_x'\] is wrong.*each array is clipped with its own norm"),
        ("always_scale", r"below max_norm.*unchanged.*scaled to norm max_norm even though"),
        ("never_clip", r"clipped\['W_x'\] is wrong.*nothing was clipped"),
        ("post_clip_norm", r"total_norm .* is wrong.*the norm after clipping"),
        ("no_sqrt", r"clipped\['W_x'\] is wrong.*square root is missing"),
        ("divide_by_zero", r"contains nan or inf.*all gradients zero.*dividing by it"),
        ("in_place", r"clip_grad_norm changed its input grads\['W_x'\] in place.*new arrays"),
        ("only_dict", r"must return \(clipped, total_norm\) \(2 items\), got dict"),
        ("swapped_outputs", r"must return a dict \{name: clipped array\} first, got float"),
        ("missing_key", r"returned a dict with keys \['W_h', 'W_x'\], expected .*'b'"),
        ("not_implemented", r"clip_grad_norm is not implemented yet"),
    ],
)
def test_clip_names_the_mistake(mistake, message):
    with pytest.raises(CheckError, match=message):
        checks.check_clip_grad_norm(partial(student_clip, mistake=mistake))


def test_clip_names_a_missing_square_root_in_the_returned_norm():
    """When the arrays are right but the norm is returned squared, the norm message says so."""

    def squared_norm(grads, max_norm):
        clipped, norm = optim.clip_grad_norm(grads, max_norm)
        return clipped, norm**2

    with pytest.raises(CheckError, match=r"total_norm .* is wrong.*square root is missing"):
        checks.check_clip_grad_norm(squared_norm)


def test_clip_explains_a_python_division_by_zero():
    def python_floats(grads, max_norm):
        norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
        coef = min(max_norm, norm) / norm
        return {key: g * coef for key, g in grads.items()}, norm

    with pytest.raises(CheckError, match=r"ZeroDivisionError.*all gradients zero"):
        checks.check_clip_grad_norm(python_floats)


def test_clip_names_a_norm_per_array():
    def last_array_norm(grads, max_norm):
        clipped, _ = optim.clip_grad_norm(grads, max_norm)
        return clipped, float(np.linalg.norm(grads["b"]))

    with pytest.raises(CheckError, match=r"norm of a single array"):
        checks.check_clip_grad_norm(last_array_norm)


def test_clip_cases_separate_per_array_from_global_clipping():
    """For any seed the first case's max_norm lies between b's own norm and the global one."""
    for seed in range(50):
        for D, H in [(2, 1), (1, 1), (3, 4)]:
            grads = checks._grads(D, H, seed)
            max_norm = checks._threshold_below(grads)
            assert np.linalg.norm(grads["b"]) < max_norm < checks._norm(grads)


# ----- truncated BPTT -----


def student_tbptt(forward, backward, X, state0, p, k, loss_grad, mistake=None):
    """Windows of k steps; state carried; the gradient on each window's initial state dropped."""
    if mistake == "not_implemented":
        raise NotImplementedError()
    T = X.shape[0]
    stop = T - T % k if mistake == "drop_last" and T % k else T
    if mistake == "one_window":
        k = T
    total_loss, grads, dX_parts, H_parts = 0.0, None, [], []
    caches = []
    state = state0
    for start in range(0, stop, k):
        state_in = None if mistake == "reset_to_zero" and start > 0 else state
        if mistake == "reset_to_state0":
            state_in = state0
        H_chunk, state, cache = forward(X[start : start + k], state_in, p)
        loss, dH_chunk = loss_grad(H_chunk, start)
        caches.append((cache, dH_chunk))
        total_loss = float(loss) if mistake == "last_loss_only" else total_loss + float(loss)
        H_parts.append(H_chunk)
        if mistake == "no_stop":
            continue  # the backward passes run afterwards, from the last window back
        dX_chunk, _, chunk_grads = backward(dH_chunk, cache)
        dX_parts.append(dX_chunk)
        if grads is None or mistake == "overwrite_grads":
            grads = chunk_grads
        else:
            grads = {key: grads[key] + chunk_grads[key] for key in grads}
    if mistake == "no_stop":  # pass each window's dstate0 on to the window before: full BPTT
        dstate = None
        for cache, dH_chunk in reversed(caches):
            dX_chunk, dstate, chunk_grads = backward(dH_chunk, cache, dstate)
            dX_parts.insert(0, dX_chunk)
            grads = (
                chunk_grads if grads is None else {k_: grads[k_] + chunk_grads[k_] for k_ in grads}
            )
    if mistake == "in_place":
        X[-1] = 0.0
    return tbptt.TBPTTResult(
        total_loss, grads, np.concatenate(dX_parts), np.concatenate(H_parts), state
    )


@pytest.mark.parametrize("fn", [tbptt.truncated_bptt, student_tbptt])
@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_tbptt_passes(fn, cell, capsys):
    for T, k in [(10, 3), (9, 3), (5, 8), (6, 1)]:
        checks.check_truncated_bptt(fn, cell=cell, T=T, B=2, D=3, H=4, k=k, seed=T)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"OK: truncated_bptt matches the reference with the {cell} at T=10, k=3, "
        "B=2, D=3, H=4 (seed 10)"
    )
    assert len(out) == 4


@pytest.mark.parametrize(
    "mistake, message",
    [
        ("reset_to_zero", r"window 2 \(t = 3..5\) started from None, not from the state window 1"),
        ("reset_to_state0", r"forward for window 2 \(t = 3..5\) is wrong.*state window 1 ended"),
        ("no_stop", r"dX\[8\] \(in window 3, t = 6..8\) is wrong.*equals full BPTT's.*stop"),
        ("drop_last", r"The last window \(t = 9\) is missing: T = 10 is not a multiple of k = 3"),
        ("one_window", r"called with \(start, steps\) = \(0, 10\).*whole sequence as one window"),
        ("overwrite_grads", r"grads\['W_x'\] is wrong.*add up the windows' gradients"),
        ("last_loss_only", r"loss is wrong: expected .*sum of the windows' losses"),
        ("in_place", r"truncated_bptt changed its input X in place"),
        ("not_implemented", r"truncated_bptt is not implemented yet"),
    ],
)
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_tbptt_names_the_mistake(mistake, message, cell):
    fn = partial(student_tbptt, mistake=mistake)
    with pytest.raises(CheckError, match=message):
        checks.check_truncated_bptt(fn, cell=cell, T=10, B=2, D=3, H=4, k=3, seed=0)


def test_tbptt_ignores_the_stop_when_k_covers_the_sequence():
    """With one window full and truncated BPTT agree: not stopping is then no mistake."""
    fn = partial(student_tbptt, mistake="no_stop")
    checks.check_truncated_bptt(fn, cell="rnn", T=5, k=5)


def test_tbptt_reports_a_wrong_window_shape_to_loss_grad():
    def transposed(forward, backward, X, state0, p, k, loss_grad):
        H_all, state, cache = forward(X, state0, p)
        loss_grad(H_all.transpose(1, 0, 2), 0)

    with pytest.raises(CheckError, match=r"loss_grad\(H_chunk, start\) was called with H_chunk"):
        checks.check_truncated_bptt(transposed)


def test_tbptt_problem_separates_full_from_truncated():
    """The check's problem must make the stop visible, else 'no_stop' could slip through."""
    for cell in _tbptt.CELLS:
        forward, backward, X, p, state0, R = _tbptt._tbptt_problem(cell, 10, 2, 3, 4, 0)
        full_dX, _ = _tbptt._full_bptt(forward, backward, X, state0, p, R)
        loss_grad = _tbptt._Recorder(forward, R).loss_grad
        truncated = tbptt.truncated_bptt(forward, backward, X, state0, p, 3, loss_grad)
        assert np.max(np.abs(full_dX[:9] - truncated.dX[:9])) > 1e-2
