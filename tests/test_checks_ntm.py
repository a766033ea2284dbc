"""The exercise-7 checks pass the reference and name the fault of each broken implementation.

Every broken version below is a student's answer with exactly one mistake (the ``mistake``
argument); the tests assert that the check fails with the message that points at it, at the
visible setting and at every hidden one.
"""

import functools

import numpy as np
import pytest

from lstm_course.checks import ntm as checks
from lstm_course.checks._common import CheckError
from lstm_course.scratch import ntm

# The settings of the exercise notebook's test cells: visible first, then hidden.
MEMORY_SHAPES = [
    dict(B=2, N=5, W=3, seed=0),
    dict(B=1, N=8, W=4, seed=11),
    dict(B=4, N=3, W=6, seed=12),
]
WEIGHTING_SHAPES = [
    dict(B=3, N=5, seed=0),
    dict(B=1, N=9, seed=11),
    dict(B=5, N=2, seed=12),
]
SHIFT_SHAPES = [
    dict(B=2, N=6, S=3, seed=0),
    dict(B=3, N=7, S=5, seed=11),
    dict(B=1, N=5, S=5, seed=12),
    dict(B=4, N=3, S=3, seed=13),
]


# ----- answers with one mistake each (mistake=None is the model answer) -----


def cosine_similarity(k, M, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    dot = np.einsum("bw,bnw->bn", k, M)  # (B, N)
    k_norm = np.linalg.norm(k, axis=1, keepdims=True)  # (B, 1)
    M_norm = np.linalg.norm(M, axis=2)  # (B, N)
    if mistake == "dot_product":
        return dot
    if mistake == "only_k_norm":
        return dot / k_norm
    if mistake == "no_eps":
        return dot / (k_norm * M_norm)
    if mistake == "transposed":
        return (dot / (k_norm * M_norm + 1e-8)).T
    return dot / (k_norm * M_norm + 1e-8)


def softmax_rows(a):
    a = a - a.max(axis=1, keepdims=True)
    return np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)


def content_addressing(k, beta, M, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    K = cosine_similarity(k, M, mistake="dot_product" if mistake == "dot_product" else None)
    a = K if mistake == "no_beta" else beta * K
    if mistake == "unstable":
        return np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    if mistake == "over_batch":
        a = a - a.max(axis=0, keepdims=True)
        return np.exp(a) / np.exp(a).sum(axis=0, keepdims=True)
    if mistake == "keeps_an_axis":
        return softmax_rows(a)[:, :, None]
    return softmax_rows(a)


def interpolate(w_c, w_prev, g, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    if mistake == "swapped":
        return (1 - g) * w_c + g * w_prev
    if mistake == "no_previous":
        return g * w_c
    if mistake == "g_as_row":
        g = g.T  # (1, B): broadcasts against the locations, not the batch
    return g * w_c + (1 - g) * w_prev


def shift(w_g, s, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    S = s.shape[1]
    w_tilde = np.zeros_like(w_g)
    for c in range(S):
        offset = c if mistake == "uncentred" else c - S // 2
        if mistake == "reversed":
            offset = -offset
        if mistake == "not_circular":
            rolled = np.zeros_like(w_g)
            if offset >= 0:
                rolled[:, offset:] = w_g[:, : w_g.shape[1] - offset]
            else:
                rolled[:, :offset] = w_g[:, -offset:]
        else:
            rolled = np.roll(w_g, offset, axis=1)
        weight = s[:, c] if mistake == "s_column_1d" else s[:, c : c + 1]
        w_tilde = w_tilde + weight * rolled
    if mistake == "changes_input":
        w_g[:] = w_tilde
    return w_tilde


def sharpen(w_tilde, gamma, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    if mistake == "multiplies":
        return w_tilde * gamma
    powered = w_tilde**gamma
    if mistake == "not_renormalised":
        return powered
    if mistake == "normalised_over_batch":
        return powered / powered.sum(axis=0, keepdims=True)
    if mistake == "no_keepdims":
        return powered / powered.sum(axis=1)
    return powered / powered.sum(axis=1, keepdims=True)


def read(M, w, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    if mistake == "sums_width":
        return np.einsum("bn,bnw->bn", w, M)
    if mistake == "mean":
        return M.mean(axis=1)
    return np.einsum("bn,bnw->bw", w, M)


def write(M_prev, w, e, a, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    w = w[:, :, None]  # (B, N, 1)
    erase, add = w * e[:, None, :], w * a[:, None, :]  # (B, N, W) outer products
    if mistake == "add_then_erase":
        return (M_prev + add) * (1 - erase)
    if mistake == "unweighted_erase":
        return M_prev * (1 - e[:, None, :]) + add
    if mistake == "in_place":
        M_prev *= 1 - erase
        M_prev += add
        return M_prev
    if mistake == "transposed":
        return (M_prev * (1 - erase) + add).transpose(0, 2, 1)
    return M_prev * (1 - erase) + add


def with_mistake(fn, mistake):
    return functools.partial(fn, mistake=mistake)


# ----- the reference and the model answers pass at every setting -----

CASES = [
    (checks.check_cosine_similarity, "cosine_similarity", cosine_similarity, MEMORY_SHAPES),
    (checks.check_content_addressing, "content_addressing", content_addressing, MEMORY_SHAPES),
    (checks.check_interpolate, "interpolate", interpolate, WEIGHTING_SHAPES),
    (checks.check_shift, "shift", shift, SHIFT_SHAPES),
    (checks.check_sharpen, "sharpen", sharpen, WEIGHTING_SHAPES),
    (checks.check_read, "read", read, MEMORY_SHAPES),
    (checks.check_write, "write", write, MEMORY_SHAPES),
]
ALL_SETTINGS = [
    (check, name, answer, settings) for check, name, answer, shapes in CASES for settings in shapes
]
IDS = [f"{name}-{i}" for (_, name, _, shapes) in CASES for i in range(len(shapes))]


@pytest.mark.parametrize("check,name,answer,settings", ALL_SETTINGS, ids=IDS)
@pytest.mark.parametrize("use", ["reference", "answer"])
def test_check_passes(check, name, answer, settings, use, capsys):
    fn = getattr(ntm, name) if use == "reference" else answer
    check(fn, **settings)
    out = capsys.readouterr().out
    assert out.startswith(f"OK: {name} matches the reference") and out.count("\n") == 1


# ----- each mistake is named -----

MISTAKES = {
    "cosine_similarity": {
        "not_implemented": r"cosine_similarity is not implemented yet",
        "dot_product": r"K is the dot product k \. M_i, not the cosine: divide by \|\|k\|\| "
        r"\|\|M_i\|\|",
        "only_k_norm": r"K is divided by \|\|k\|\| only",
        "no_eps": r"K is nan at location i=1 of batch 0, whose memory row is all zeros: add a "
        r"small eps",
        "transposed": r"K has shape \(5, 2\), expected \(B, N\) = \(2, 5\): the axes are in the "
        r"wrong order",
    },
    "content_addressing": {
        "not_implemented": r"content_addressing is not implemented yet",
        "dot_product": r"w_c uses the dot product k \. M_i; eq. \(5\) uses the cosine similarity",
        "no_beta": r"w_c ignores beta",
        "over_batch": r"w_c for batch 0 sums to [\d.]+, not 1: a weighting over the memory "
        r"locations must sum to 1 \(a softmax over the locations i, axis 1\)",
        "unstable": r"w_c is nan or inf for a large key strength beta = 1000",
        "keeps_an_axis": r"w_c has shape \(2, 5, 1\), expected \(B, N\) = \(2, 5\)",
    },
    "interpolate": {
        "not_implemented": r"interpolate is not implemented yet",
        "swapped": r"interpolation reversed \(g and 1 - g swapped\)",
        "no_previous": r"w_g is wrong: first wrong entry at b=0, i=0.*w_g = g w_c \+ \(1 - g\) "
        r"w_prev",
        "g_as_row": r"interpolate raised ValueError: operands could not be broadcast together",
    },
    "shift": {
        "not_implemented": r"shift is not implemented yet",
        "reversed": r"shifted the wrong way: a one-hot weighting at location \d \(batch 0\) with "
        r"s all on offset \+1 must move to location \d, it moved to \d",
        "uncentred": r"moved by \+2 locations \(to \d\) instead of \+1: column c of s is the "
        r"weight of offset c - S // 2 \(for S = 3: -1, \+0, \+1\)",
        "not_circular": r"a one-hot weighting at the last location 5 shifted by \+1 must wrap "
        r"around to location 0",
        "changes_input": r"shift changed its input w_g in place",
        "s_column_1d": r"shift raised ValueError: operands could not be broadcast together with "
        r"shapes \(2,\) \(2,6\)",
    },
    "sharpen": {
        "not_implemented": r"sharpen is not implemented yet",
        "not_renormalised": r"sharpening not renormalised: divide w~_i\^gamma by sum_j "
        r"w~_j\^gamma",
        "multiplies": r"w multiplies by gamma: raise to the power",
        "normalised_over_batch": r"w for batch 0 sums to [\d.]+, not 1",
        "no_keepdims": r"sharpen raised ValueError: operands could not be broadcast together",
    },
    "read": {
        "not_implemented": r"read is not implemented yet",
        "sums_width": r"r has shape \(2, 5\), expected \(B, W\) = \(2, 3\)",
        "mean": r"r is wrong: first wrong entry at b=0, w=0.*r = sum_i w_i M_i",
    },
    "write": {
        "not_implemented": r"write is not implemented yet",
        "add_then_erase": r"M adds before it erases: erase first",
        "unweighted_erase": r"M erases every location by e: the erase is weighted",
        "in_place": r"write changed its input M_prev in place",
        "transposed": r"M has shape \(2, 3, 5\), expected \(B, N, W\) = \(2, 5, 3\): the axes",
    },
}
ANSWERS = {name: (check, answer, shapes) for check, name, answer, shapes in CASES}
NAMED = [(name, mistake) for name, table in MISTAKES.items() for mistake in table]
# Broadcasting slips that give the right answer when B = 1 (they are right for one sequence).
BATCH_ONLY = {"g_as_row", "s_column_1d", "no_keepdims"}
EVERYWHERE = [
    (name, mistake, i)
    for name, mistake in NAMED
    for i in range(1, len(ANSWERS[name][2]))
    if not (mistake in BATCH_ONLY and ANSWERS[name][2][i]["B"] == 1)
]


@pytest.mark.parametrize("name,mistake", NAMED, ids=[f"{n}-{m}" for n, m in NAMED])
def test_check_names_the_mistake(name, mistake):
    check, answer, shapes = ANSWERS[name]
    with pytest.raises(CheckError, match=MISTAKES[name][mistake]):
        check(with_mistake(answer, mistake), **shapes[0])


@pytest.mark.parametrize(
    "name,mistake,i", EVERYWHERE, ids=[f"{n}-{m}-{i}" for n, m, i in EVERYWHERE]
)
def test_mistakes_fail_at_every_hidden_setting(name, mistake, i):
    check, answer, shapes = ANSWERS[name]
    with pytest.raises(CheckError):
        check(with_mistake(answer, mistake), **shapes[i])


def test_shift_reversed_is_caught_for_a_shift_of_minus_one_too():
    """A shift that moves +1 correctly but -1 the wrong way (a sign slip on one side)."""

    def half_wrong(w_g, s):
        S = s.shape[1]
        return sum(s[:, c : c + 1] * np.roll(w_g, abs(c - S // 2), axis=1) for c in range(S))

    with pytest.raises(CheckError, match=r"s all on offset -1 must move to location \d"):
        checks.check_shift(half_wrong, **SHIFT_SHAPES[0])


def test_check_settings_are_validated():
    with pytest.raises(ValueError, match=r"S must be odd and at most N = 4, got 5"):
        checks.check_shift(shift, B=1, N=4, S=5)
    with pytest.raises(ValueError, match=r"N must be a positive int, got 0"):
        checks.check_read(read, N=0)
