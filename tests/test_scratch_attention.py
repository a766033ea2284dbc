"""The scratch attention: numeric gradients, masks, extreme scores, and errors that name shapes."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_course.scratch.attention import (
    additive_attention_backward,
    additive_attention_forward,
    additive_param_shapes,
    luong_attention_backward,
    luong_attention_forward,
    luong_param_shapes,
)
from lstm_course.scratch.gradcheck import numeric_gradient, rel_error
from tests._reference import random_params

dims = st.integers(1, 4)


def random_mask(rng, S, B):
    """A bool (S, B) mask with at least one real position in every column."""
    mask = rng.random((S, B)) < 0.6
    mask[rng.integers(S, size=B), np.arange(B)] = True
    return mask


def _check_gradients(forward, backward, s_prev, Hs, p, mask, dcontext, dalpha):
    """Analytic gradients of sum(context * dcontext) + sum(alpha * dalpha) vs numeric ones."""

    def objective():
        context, alpha, _ = forward(s_prev, Hs, p, mask)
        return np.sum(context * dcontext) + (0.0 if dalpha is None else np.sum(alpha * dalpha))

    _, _, cache = forward(s_prev, Hs, p, mask)
    ds_prev, dHs, grads = backward(dcontext, cache, dalpha)
    assert set(grads) == set(p)
    worst = 0.0
    for name, analytic, wrt in [("s_prev", ds_prev, s_prev), ("Hs", dHs, Hs)] + [
        (f"p[{k}]", grads[k], p[k]) for k in p
    ]:
        error = rel_error(analytic, numeric_gradient(objective, wrt))
        assert error < 1e-7, name
        worst = max(worst, error)
    if mask is not None:  # masked positions get no gradient at all
        assert np.all(dHs[~mask] == 0.0)
    return worst


@given(
    S=dims,
    B=dims,
    Dq=dims,
    Dk=dims,
    A=dims,
    masked=st.booleans(),
    with_dalpha=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_additive_backward_matches_numeric_gradient(S, B, Dq, Dk, A, masked, with_dalpha, seed):
    rng = np.random.default_rng(seed)
    s_prev, Hs = rng.normal(size=(B, Dq)), rng.normal(size=(S, B, Dk))
    p = random_params(rng, additive_param_shapes(Dq, Dk, A), scale=1.0)
    mask = random_mask(rng, S, B) if masked else None
    dcontext = rng.normal(size=(B, Dk))
    dalpha = rng.normal(size=(S, B)) if with_dalpha else None
    _check_gradients(
        additive_attention_forward,
        additive_attention_backward,
        s_prev,
        Hs,
        p,
        mask,
        dcontext,
        dalpha,
    )


@given(
    S=dims,
    B=dims,
    Dq=dims,
    Dk=dims,
    score=st.sampled_from(["dot", "general"]),
    masked=st.booleans(),
    with_dalpha=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_luong_backward_matches_numeric_gradient(S, B, Dq, Dk, score, masked, with_dalpha, seed):
    rng = np.random.default_rng(seed)
    Dq = Dk if score == "dot" else Dq
    s_prev, Hs = rng.normal(size=(B, Dq)), rng.normal(size=(S, B, Dk))
    p = random_params(rng, luong_param_shapes(Dq, Dk, score))
    mask = random_mask(rng, S, B) if masked else None
    dcontext = rng.normal(size=(B, Dk))
    dalpha = rng.normal(size=(S, B)) if with_dalpha else None

    def forward(s_prev, Hs, p, mask):
        return luong_attention_forward(s_prev, Hs, p, mask, score=score)

    _check_gradients(forward, luong_attention_backward, s_prev, Hs, p, mask, dcontext, dalpha)


def _additive_case(rng, S=5, B=3, Dq=2, Dk=4, A=3):
    return (
        rng.normal(size=(B, Dq)),
        rng.normal(size=(S, B, Dk)),
        random_params(rng, additive_param_shapes(Dq, Dk, A)),
        random_mask(rng, S, B),
    )


def test_masked_alpha_is_exactly_zero_and_columns_sum_to_one(rng):
    s_prev, Hs, p, mask = _additive_case(rng, S=7, B=4)
    mask[:, 0] = [True] + [False] * 6  # one real position: all the weight goes there
    context, alpha, _ = additive_attention_forward(s_prev, Hs, p, mask)
    assert alpha.shape == mask.shape
    assert np.all(alpha[~mask] == 0.0)
    assert np.all(alpha[mask] > 0.0)
    np.testing.assert_allclose(alpha.sum(axis=0), 1.0, rtol=0, atol=1e-15)
    assert alpha[0, 0] == 1.0
    np.testing.assert_array_equal(context[0], Hs[0, 0])


def test_context_is_the_alpha_weighted_sum_of_annotations(rng):
    s_prev, Hs, p, mask = _additive_case(rng)
    context, alpha, _ = additive_attention_forward(s_prev, Hs, p, mask)
    for b in range(Hs.shape[1]):
        expected = sum(alpha[j, b] * Hs[j, b] for j in range(Hs.shape[0]))
        np.testing.assert_allclose(context[b], expected, rtol=0, atol=1e-14)


def test_no_mask_equals_all_true_mask(rng):
    s_prev, Hs, p, mask = _additive_case(rng)
    plain = additive_attention_forward(s_prev, Hs, p)[:2]
    full = additive_attention_forward(s_prev, Hs, p, np.ones_like(mask))[:2]
    for a, b in zip(plain, full, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("score", ["additive", "dot", "general"])
def test_padding_content_changes_nothing(score, rng):
    S, B, D = 6, 3, 4
    s_prev, Hs = rng.normal(size=(B, D)), rng.normal(size=(S, B, D))
    mask = random_mask(rng, S, B)
    mask[-1] = False  # at least one padded position
    if score == "additive":
        p = random_params(rng, additive_param_shapes(D, D, 5))

        def forward(Hs):
            return additive_attention_forward(s_prev, Hs, p, mask)
    else:
        p = random_params(rng, luong_param_shapes(D, D, score))

        def forward(Hs):
            return luong_attention_forward(s_prev, Hs, p, mask, score=score)

    context, alpha, _ = forward(Hs)
    garbage = Hs.copy()
    garbage[~mask] = rng.normal(scale=100.0, size=(int((~mask).sum()), D))
    context2, alpha2, _ = forward(garbage)
    np.testing.assert_array_equal(context, context2)
    np.testing.assert_array_equal(alpha, alpha2)


def test_extreme_scores_stay_finite(rng):
    S, B, Dq, Dk, A = 6, 3, 2, 3, 4
    s_prev = rng.normal(size=(B, Dq)) * 1e4
    Hs = rng.choice([-1.0, 1.0], size=(S, B, Dk)) * 1e4
    p = random_params(rng, additive_param_shapes(Dq, Dk, A), scale=1.0)
    p["v"] = rng.choice([-1.0, 1.0], size=A) * 1e4  # |e_j| up to A * 1e4
    mask = random_mask(rng, S, B)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        context, alpha, cache = additive_attention_forward(s_prev, Hs, p, mask)
        ds_prev, dHs, grads = additive_attention_backward(
            rng.normal(size=(B, Dk)), cache, rng.normal(size=(S, B))
        )
        luong = luong_attention_forward(Hs[0], Hs, None, mask)
        luong_grads = luong_attention_backward(rng.normal(size=(B, Dk)), luong[2])
    assert np.abs(cache.e).max() > 1e3  # the scores really are extreme
    assert np.abs(luong[2].e).max() > 1e3
    np.testing.assert_allclose(alpha.sum(axis=0), 1.0, rtol=0, atol=1e-12)
    assert np.all(alpha[~mask] == 0.0)
    for value in [context, alpha, ds_prev, dHs, *grads.values(), *luong[:2], *luong_grads[:2]]:
        assert np.all(np.isfinite(value))


def test_all_masked_column_raises(rng):
    s_prev, Hs, p, mask = _additive_case(rng)
    mask[:, 1] = False
    pattern = r"mask removes every source position for batch element\(s\) \[1\]"
    with pytest.raises(ValueError, match=pattern):
        additive_attention_forward(s_prev, Hs, p, mask)
    with pytest.raises(ValueError, match=pattern):
        luong_attention_forward(Hs[0], Hs, None, mask)


@pytest.mark.parametrize(
    "change,error,pattern",
    [
        (
            lambda a, rng: a.update(s_prev=rng.normal(size=(3, 5))),
            ValueError,
            r"p\['W_q'\] must have shape \(Dq, A\) = \(5, 3\), got \(2, 3\)",
        ),
        (
            lambda a, rng: a.update(Hs=rng.normal(size=(5, 3, 2))),
            ValueError,
            r"p\['W_k'\] must have shape \(Dk, A\) = \(2, 3\), got \(4, 3\)",
        ),
        (
            lambda a, rng: a.update(s_prev=rng.normal(size=(4, 2))),
            ValueError,
            r"batch sizes differ: s_prev has B = 4 .* Hs has B = 3",
        ),
        (
            lambda a, rng: a.update(Hs=rng.normal(size=(3, 4))),
            ValueError,
            r"Hs must have 3 dimensions, got shape \(3, 4\)",
        ),
        (
            lambda a, rng: a.update(s_prev=np.ones((3, 2), dtype=int)),
            TypeError,
            r"s_prev must be a floating-point array, got dtype int",
        ),
        (
            lambda a, rng: a["p"].update(b=rng.normal(size=4)),
            ValueError,
            r"p\['b'\] must have shape \(A,\) = \(3,\), got \(4,\)",
        ),
        (lambda a, rng: a["p"].pop("v"), ValueError, r"missing \['v'\]"),
        (
            lambda a, rng: a.update(mask=np.ones((3, 5), dtype=bool)),
            ValueError,
            r"mask must have shape \(S, B\) = \(5, 3\), got \(3, 5\)",
        ),
        (
            lambda a, rng: a.update(mask=np.ones((5, 3))),
            TypeError,
            r"mask must be a bool array .* got dtype float64",
        ),
        (
            lambda a, rng: a.update(mask=[[True] * 3] * 5),
            TypeError,
            r"mask must be a NumPy array, got list",
        ),
    ],
)
def test_bad_arguments_are_named(change, error, pattern, rng):
    s_prev, Hs, p, mask = _additive_case(rng)
    args = {"s_prev": s_prev, "Hs": Hs, "p": p, "mask": mask}
    change(args, rng)
    with pytest.raises(error, match=pattern):
        additive_attention_forward(**args)


def test_bad_backward_arguments_are_named(rng):
    s_prev, Hs, p, mask = _additive_case(rng)
    _, _, cache = additive_attention_forward(s_prev, Hs, p, mask)
    with pytest.raises(
        ValueError, match=r"dcontext must have shape \(B, Dk\) = \(3, 4\), got \(3, 2\)"
    ):
        additive_attention_backward(np.zeros((3, 2)), cache)
    with pytest.raises(
        ValueError, match=r"dalpha must have shape \(S, B\) = \(5, 3\), got \(3, 5\)"
    ):
        additive_attention_backward(np.zeros((3, 4)), cache, np.zeros((3, 5)))


def test_bad_luong_arguments_are_named(rng):
    Hs = rng.normal(size=(5, 3, 4))
    with pytest.raises(ValueError, match=r"dot score needs Dq == Dk.*Dq = 2.*Dk = 4"):
        luong_attention_forward(rng.normal(size=(3, 2)), Hs)
    with pytest.raises(ValueError, match=r"score must be one of \('dot', 'general'\), got 'cos'"):
        luong_attention_forward(Hs[0], Hs, score="cos")
    with pytest.raises(ValueError, match=r"p\['W_a'\] must have shape \(Dq, Dk\) = \(2, 4\)"):
        luong_attention_forward(rng.normal(size=(3, 2)), Hs, {"W_a": Hs[0]}, score="general")
    with pytest.raises(ValueError, match=r"unexpected \['W_a'\]"):
        luong_attention_forward(Hs[0], Hs, {"W_a": rng.normal(size=(4, 4))})
