"""The exercise-5 checks pass the reference and name the fault of each broken implementation.

Every broken version below is a student's answer with exactly one mistake (the ``mistake``
argument); the tests assert that the check fails with the message that points at it, at the
visible setting and at every hidden one.
"""

import functools

import numpy as np
import pytest

from lstm_course.checks import attention as checks
from lstm_course.checks._common import CheckError
from lstm_course.scratch.attention import (
    AdditiveAttentionCache,
    additive_attention_backward,
    additive_attention_forward,
)

# The settings of the exercise notebook's test cells: visible first, then hidden.
SHAPES = [
    dict(S=5, B=3, Dq=4, Dk=6, A=7, seed=0),
    dict(S=2, B=2, Dq=3, Dk=2, A=4, seed=11),
    dict(S=8, B=2, Dq=2, Dk=5, A=3, seed=12),
    dict(S=4, B=6, Dq=5, Dk=3, A=2, seed=13),
]
SOFTMAX_SHAPES = [
    dict(S=6, B=4, seed=0),
    dict(S=9, B=2, seed=11),
    dict(S=3, B=5, seed=12),
    dict(S=4, B=4, seed=13),
]


# ----- answers with one mistake each (mistake=None is the model answer) -----


def additive_scores(s_prev, Hs, p, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    if mistake == "changes_input":
        Hs *= 1.01
    q = s_prev @ p["W_q"]  # (B, A)
    z = Hs @ p["W_k"] + q + (0.0 if mistake == "no_bias" else p["b"])  # (S, B, A)
    u = z if mistake in ("no_tanh", "u_before_tanh") else np.tanh(z)
    e = u.sum(axis=-1) if mistake == "no_v" else u @ p["v"]
    if mistake == "u_before_tanh":
        e = np.tanh(z) @ p["v"]
    if mistake == "transposed":
        e = e.T
    return e, u


def masked_softmax(e, mask=None, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    if mistake == "multiplies_mask" and mask is not None:
        e = e * mask
    elif mistake == "ignores_none":
        e = np.where(mask, e, -np.inf)
    elif mask is not None and mistake not in ("no_mask", "mask_after"):
        e = np.where(mask, e, -np.inf)
    if mistake != "unstable":
        e = e - e.max(axis=0, keepdims=True)
    exp_e = np.exp(e)
    axis = 1 if mistake == "over_batch" else 0
    alpha = exp_e / exp_e.sum(axis=axis, keepdims=True)
    if mistake == "mask_after" and mask is not None:
        alpha = alpha * mask
    return alpha.T if mistake == "transposed" else alpha


def attention_forward(s_prev, Hs, p, mask=None, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    e, u = additive_scores(s_prev, Hs, p)
    alpha = masked_softmax(e, None if mistake == "ignores_mask" else mask)
    if mistake == "changes_input":
        Hs[~mask] = 0.0 if mask is not None else Hs[~np.ones(e.shape, bool)]
    if mistake == "mean_context":
        context = Hs.mean(axis=0)
    elif mistake == "context_over_batch":
        context = np.einsum("sb,sbk->sk", alpha, Hs)
    else:
        context = np.einsum("sb,sbk->bk", alpha, Hs)
    if mistake == "swapped_outputs":
        return alpha, context, None
    if mistake == "plain_tuple":
        return context, alpha, (s_prev, Hs, u, e, alpha, p)
    if mistake == "masked_e_in_cache" and mask is not None:
        e = np.where(mask, e, -np.inf)
    if mistake == "no_u_in_cache":
        u = None
    return context, alpha, AdditiveAttentionCache(s_prev, Hs, u, e, alpha, p)


def masked_softmax_backward(dalpha, alpha, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    if mistake == "diagonal_only":
        return alpha * dalpha
    if mistake == "no_alpha_factor":
        return dalpha - np.sum(alpha * dalpha, axis=0, keepdims=True)
    axis = 1 if mistake == "sum_over_batch" else 0
    de = alpha * (dalpha - np.sum(alpha * dalpha, axis=axis, keepdims=True))
    return de.T if mistake == "transposed" else de


def attention_backward(dcontext, cache, dalpha=None, mistake=None):
    if mistake == "not_implemented":
        raise NotImplementedError()
    s_prev, Hs, u, _, alpha, p = cache
    if mistake == "changes_cache":
        u -= u**3
    da = np.einsum("bk,sbk->sb", dcontext, Hs)  # (8.3'): dcontext . h_j
    if dalpha is not None and mistake != "ignores_dalpha":
        da = da + dalpha
    softmax_mistake = "no_alpha_factor" if mistake == "softmax_no_alpha" else None
    de = masked_softmax_backward(da, alpha, mistake=softmax_mistake)
    dz = de[:, :, None] * p["v"] * (1.0 - u * u)  # (S, B, A)
    dq = dz.sum(axis=0)  # (B, A)
    grads = {
        "W_q": s_prev.T @ dq,
        "W_k": np.einsum("sbk,sba->ka", Hs, dz),
        "b": dz.sum(axis=(0, 1)),
        "v": np.einsum("sb,sba->a", de, u),
    }
    if mistake == "dv_sign":
        grads["v"] = -grads["v"]
    if mistake == "missing_key":
        del grads["b"]
    if mistake == "dW_k_transposed":
        grads["W_k"] = grads["W_k"].T
    if mistake == "changes_dcontext":
        dcontext *= 2.0
    value_path = alpha[:, :, None] * dcontext[None]  # (S, B, Dk)
    key_path = dz @ p["W_k"].T  # (S, B, Dk)
    if mistake == "no_key_path":
        dHs = value_path
    elif mistake == "no_value_path":
        dHs = key_path
    else:
        dHs = value_path + key_path
    return dq @ p["W_q"].T, dHs, grads


def with_mistake(fn, mistake):
    return functools.partial(fn, mistake=mistake)


# ----- the reference and the model answers pass at every setting -----


def _scores_reference(s_prev, Hs, p):
    _, _, cache = additive_attention_forward(s_prev, Hs, p)
    return cache.e, cache.u


@pytest.mark.parametrize("settings", SHAPES)
@pytest.mark.parametrize("fn", [_scores_reference, additive_scores], ids=["reference", "answer"])
def test_scores_check_passes(fn, settings, capsys):
    checks.check_additive_scores(fn, **settings)
    out = capsys.readouterr().out
    assert out.startswith("OK: additive_scores matches the reference") and out.count("\n") == 1


@pytest.mark.parametrize("settings", SOFTMAX_SHAPES)
def test_masked_softmax_check_passes(settings, capsys):
    checks.check_masked_softmax(masked_softmax, **settings)
    assert capsys.readouterr().out.startswith("OK: masked_softmax matches the reference")


@pytest.mark.parametrize("settings", SHAPES)
@pytest.mark.parametrize(
    "fn", [additive_attention_forward, attention_forward], ids=["reference", "answer"]
)
def test_forward_check_passes(fn, settings, capsys):
    checks.check_additive_attention_forward(fn, **settings)
    out = capsys.readouterr().out
    assert out.startswith("OK: additive_attention_forward matches the reference")


@pytest.mark.parametrize("settings", SOFTMAX_SHAPES)
def test_softmax_backward_check_passes(settings, capsys):
    checks.check_masked_softmax_backward(masked_softmax_backward, **settings)
    assert capsys.readouterr().out.startswith("OK: masked_softmax_backward matches")


@pytest.mark.parametrize("settings", SHAPES)
@pytest.mark.parametrize(
    "fn", [additive_attention_backward, attention_backward], ids=["reference", "answer"]
)
def test_backward_check_passes(fn, settings, capsys):
    checks.check_additive_attention_backward(fn, **settings)
    out = capsys.readouterr().out
    assert out.startswith("OK: additive_attention_backward matches the reference")
    assert "with and without dalpha" in out


# ----- each mistake is named -----

SCORE_MISTAKES = {
    "not_implemented": r"additive_scores is not implemented yet: replace `raise NotImpl",
    "no_bias": r"e \(the scores\) is wrong: you left out the bias b",
    "no_tanh": r"e \(the scores\) is wrong: you left out the tanh",
    "no_v": r"you summed the tanh without weighting it by v",
    "transposed": r"e \(the scores\) has shape \(3, 5\), expected \(S, B\) = \(5, 3\): the axes "
    r"are in the wrong order",
    "u_before_tanh": r"u \(the tanh layer\) is wrong: first wrong entry at j=0, b=0, a=0",
    "changes_input": r"additive_scores changed its input Hs in place",
}


@pytest.mark.parametrize("mistake", SCORE_MISTAKES)
def test_scores_check_names_the_mistake(mistake):
    with pytest.raises(CheckError, match=SCORE_MISTAKES[mistake]):
        checks.check_additive_scores(with_mistake(additive_scores, mistake), **SHAPES[0])


@pytest.mark.parametrize("settings", SHAPES[1:])
@pytest.mark.parametrize("mistake", SCORE_MISTAKES)
def test_score_mistakes_fail_at_every_hidden_setting(mistake, settings):
    with pytest.raises(CheckError):
        checks.check_additive_scores(with_mistake(additive_scores, mistake), **settings)


SOFTMAX_MISTAKES = {
    "not_implemented": r"masked_softmax is not implemented yet",
    "no_mask": r"alpha \(with the mask\) is nonzero at padded source position j=\d of batch \d "
    r"\(alpha\[\d, \d\] = [\d.e-]+\): apply the mask before the softmax",
    "multiplies_mask": r"alpha \(with the mask\) is nonzero at padded source position",
    "mask_after": r"the attention weights of batch \d sum to [\d.]+, not 1 .*you zeroed the "
    r"padded positions after the softmax",
    "over_batch": r"sum to [\d.]+, not 1 .*you normalised over the batch \(axis 1\)",
    "ignores_none": r"alpha \(with mask=None\) contains nan or inf .*mask=None means every "
    r"position is real",
    "unstable": r"alpha \(for scores near 1000\) contains nan or inf .*subtract each column's "
    r"largest score",
    "transposed": r"alpha \(with the mask\) has shape \(4, 6\), expected \(S, B\) = \(6, 4\)",
}


@pytest.mark.parametrize("mistake", SOFTMAX_MISTAKES)
def test_masked_softmax_check_names_the_mistake(mistake):
    with pytest.raises(CheckError, match=SOFTMAX_MISTAKES[mistake]):
        checks.check_masked_softmax(with_mistake(masked_softmax, mistake), **SOFTMAX_SHAPES[0])


@pytest.mark.parametrize("settings", SOFTMAX_SHAPES[1:])
@pytest.mark.parametrize("mistake", SOFTMAX_MISTAKES)
def test_masked_softmax_mistakes_fail_at_every_hidden_setting(mistake, settings):
    with pytest.raises(CheckError):
        checks.check_masked_softmax(with_mistake(masked_softmax, mistake), **settings)


FORWARD_MISTAKES = {
    "not_implemented": r"additive_attention_forward is not implemented yet",
    "ignores_mask": r"alpha \(with the mask\) is nonzero at padded source position j=\d of "
    r"batch 2",
    "mean_context": r"context \(with the mask\) is wrong: first wrong entry at b=0, k=0.*c = "
    r"sum_j alpha_j h_j",
    "context_over_batch": r"context has shape \(5, 6\), expected \(B, Dk\) = \(3, 6\)",
    "swapped_outputs": r"additive_attention_forward returned alpha first: return \(context, "
    r"alpha, cache\) in this order",
    "changes_input": r"additive_attention_forward changed its input Hs in place",
    "plain_tuple": r"cache must be AdditiveAttentionCache\(s_prev, Hs, u, e, alpha, p\), the "
    r"named tuple additive_attention_backward reads; got tuple",
    "masked_e_in_cache": r"cache.e \(with the mask\) contains -inf or nan: keep the scores from "
    r"before the masking",
    "no_u_in_cache": r"cache.u \(with the mask\) is None",
}


@pytest.mark.parametrize("mistake", FORWARD_MISTAKES)
def test_forward_check_names_the_mistake(mistake):
    fn = with_mistake(attention_forward, mistake)
    with pytest.raises(CheckError, match=FORWARD_MISTAKES[mistake]):
        checks.check_additive_attention_forward(fn, **SHAPES[0])


@pytest.mark.parametrize("settings", SHAPES[1:])
@pytest.mark.parametrize("mistake", FORWARD_MISTAKES)
def test_forward_mistakes_fail_at_every_hidden_setting(mistake, settings):
    with pytest.raises(CheckError):
        checks.check_additive_attention_forward(
            with_mistake(attention_forward, mistake), **settings
        )


SOFTMAX_BACKWARD_MISTAKES = {
    "not_implemented": r"masked_softmax_backward is not implemented yet",
    "diagonal_only": r"you kept only the diagonal term alpha_j dalpha_j",
    "sum_over_batch": r"runs over the source positions i \(axis 0\), not over the batch",
    "no_alpha_factor": r"de is nonzero at padded source position j=\d of batch \d: a padded",
    "transposed": r"de has shape \(4, 6\), expected \(S, B\) = \(6, 4\)",
}


@pytest.mark.parametrize("mistake", SOFTMAX_BACKWARD_MISTAKES)
def test_softmax_backward_check_names_the_mistake(mistake):
    fn = with_mistake(masked_softmax_backward, mistake)
    with pytest.raises(CheckError, match=SOFTMAX_BACKWARD_MISTAKES[mistake]):
        checks.check_masked_softmax_backward(fn, **SOFTMAX_SHAPES[0])


@pytest.mark.parametrize("settings", SOFTMAX_SHAPES[1:])
@pytest.mark.parametrize("mistake", SOFTMAX_BACKWARD_MISTAKES)
def test_softmax_backward_mistakes_fail_at_every_hidden_setting(mistake, settings):
    fn = with_mistake(masked_softmax_backward, mistake)
    with pytest.raises(CheckError):
        checks.check_masked_softmax_backward(fn, **settings)


BACKWARD_MISTAKES = {
    "not_implemented": r"additive_attention_backward is not implemented yet",
    "ignores_dalpha": r"the gradients ignore dalpha",
    "no_key_path": r"dHs is missing the gradient through the scores: h_j is a key",
    "no_value_path": r"dHs is missing the gradient through the context: h_j is a value",
    "softmax_no_alpha": r"dHs is nonzero at padded source position j=\d of batch 2",
    "dv_sign": r"grads\['v'\] \(dv\) is wrong: first wrong entry at a=0",
    "missing_key": r"grads must be a dict with the keys \['W_q', 'W_k', 'b', 'v'\], got "
    r"\['W_k', 'W_q', 'v'\]",
    "dW_k_transposed": r"grads\['W_k'\] \(dW_k\) has shape \(7, 6\), expected \(Dk, A\) = \(6, 7\)",
    "changes_dcontext": r"additive_attention_backward changed its input dcontext in place",
    "changes_cache": r"additive_attention_backward changed its input cache.u in place",
}


@pytest.mark.parametrize("mistake", BACKWARD_MISTAKES)
def test_backward_check_names_the_mistake(mistake):
    fn = with_mistake(attention_backward, mistake)
    with pytest.raises(CheckError, match=BACKWARD_MISTAKES[mistake]):
        checks.check_additive_attention_backward(fn, **SHAPES[0])


@pytest.mark.parametrize("settings", SHAPES[1:])
@pytest.mark.parametrize("mistake", BACKWARD_MISTAKES)
def test_backward_mistakes_fail_at_every_hidden_setting(mistake, settings):
    fn = with_mistake(attention_backward, mistake)
    with pytest.raises(CheckError):
        checks.check_additive_attention_backward(fn, **settings)


@pytest.mark.parametrize("settings", SHAPES + [dict(S=3, B=1, seed=1), dict(S=1, B=3, seed=2)])
def test_padding_is_drawn_in_every_setting(settings):
    S, B = settings["S"], settings["B"]
    *_, mask = checks._case(settings["seed"], S, B, 2, 2, 2)
    assert mask[:, 0].all()  # one full-length sequence
    assert mask.any(axis=0).all()  # every sequence has a real position
    assert (~mask).any() == (S > 1 and B > 1)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match=r"S must be a positive int, got 0"):
        checks.check_additive_scores(additive_scores, S=0)
