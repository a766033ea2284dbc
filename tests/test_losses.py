"""losses.py: numeric gradients, torch's cross_entropy and mse_loss, masks, stability."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 (the universal spelling)
from hypothesis import given
from hypothesis import strategies as st

from lstm_course.scratch.gradcheck import numeric_gradient, rel_error
from lstm_course.scratch.losses import (
    mse_loss,
    softmax_cross_entropy,
    temporal_softmax_cross_entropy,
)

TOL = 1e-7
size = st.integers(1, 4)
seed = st.integers(0, 2**32 - 1)


def _sequence(rng, T, B, V, scale=1.0):
    return rng.normal(scale=scale, size=(T, B, V)), rng.integers(V, size=(T, B))


def _torch_ce(scores, y, mask=None):
    """torch's per-token mean cross-entropy; masked positions get torch's ignore_index -100."""
    T, B, V = scores.shape
    target = y if mask is None else np.where(mask, y, -100)
    s = torch.tensor(scores.reshape(T * B, V), requires_grad=True)
    loss = F.cross_entropy(s, torch.tensor(target.reshape(-1)), reduction="mean")
    loss.backward()
    return loss.item(), s.grad.numpy().reshape(T, B, V)


@given(T=size, B=size, V=st.integers(2, 5), seed=seed, masked=st.booleans())
def test_temporal_cross_entropy_matches_numeric(T, B, V, seed, masked):
    rng = np.random.default_rng(seed)
    scores, y = _sequence(rng, T, B, V)
    mask = None
    if masked:
        mask = rng.random((T, B)) < 0.6
        mask[0, 0] = True  # at least one kept position
    loss, dscores = temporal_softmax_cross_entropy(scores, y, mask)
    f = lambda: temporal_softmax_cross_entropy(scores, y, mask)[0]  # noqa: E731
    assert rel_error(dscores, numeric_gradient(f, scores)) < TOL


@given(N=size, V=st.integers(2, 5), seed=seed)
def test_softmax_cross_entropy_matches_numeric(N, V, seed):
    rng = np.random.default_rng(seed)
    scores, y = rng.normal(size=(N, V)), rng.integers(V, size=N)
    loss, dscores = softmax_cross_entropy(scores, y)
    f = lambda: softmax_cross_entropy(scores, y)[0]  # noqa: E731
    assert rel_error(dscores, numeric_gradient(f, scores)) < TOL


@given(shape=st.lists(size, min_size=1, max_size=3), seed=seed)
def test_mse_loss_matches_numeric(shape, seed):
    rng = np.random.default_rng(seed)
    pred, target = rng.normal(size=shape), rng.normal(size=shape)
    loss, dpred = mse_loss(pred, target)
    assert rel_error(dpred, numeric_gradient(lambda: mse_loss(pred, target)[0], pred)) < TOL


def test_temporal_cross_entropy_equals_torch(rng):
    scores, y = _sequence(rng, 5, 3, 7, scale=3.0)
    loss, dscores = temporal_softmax_cross_entropy(scores, y)
    loss_t, dscores_t = _torch_ce(scores, y)
    assert loss == pytest.approx(loss_t, rel=1e-12)
    np.testing.assert_allclose(dscores, dscores_t, rtol=1e-10, atol=1e-15)


def test_temporal_cross_entropy_with_mask_equals_torch_ignore_index(rng):
    scores, y = _sequence(rng, 6, 4, 5, scale=3.0)
    lengths = np.array([6, 2, 4, 1])
    mask = np.arange(6)[:, None] < lengths  # (T, B): padding after each sequence's end
    loss, dscores = temporal_softmax_cross_entropy(scores, y, mask)
    loss_t, dscores_t = _torch_ce(scores, y, mask)
    assert loss == pytest.approx(loss_t, rel=1e-12)
    np.testing.assert_allclose(dscores, dscores_t, rtol=1e-10, atol=1e-15)
    # the mean is over the kept tokens, not over T * B
    per_token = [
        -torch.log_softmax(torch.tensor(scores[t, b]), 0)[y[t, b]].item()
        for t, b in zip(*np.nonzero(mask), strict=True)
    ]
    assert loss == pytest.approx(np.mean(per_token), rel=1e-12)


def test_masked_positions_have_zero_gradient_and_do_not_change_the_loss(rng):
    scores, y = _sequence(rng, 4, 3, 6)
    mask = rng.random((4, 3)) < 0.5
    mask[0, 0], mask[-1, -1] = True, False
    loss, dscores = temporal_softmax_cross_entropy(scores, y, mask)
    assert np.all(dscores[~mask] == 0.0)
    assert np.all(np.any(dscores[mask] != 0.0, axis=-1))
    # anything at the masked positions (even padding labels outside [0, V)) changes nothing
    scores2, y2 = scores.copy(), y.copy()
    scores2[~mask] = rng.normal(scale=100.0, size=scores2[~mask].shape)
    y2[~mask] = -1
    loss2, dscores2 = temporal_softmax_cross_entropy(scores2, y2, mask)
    assert loss2 == loss
    np.testing.assert_array_equal(dscores2, dscores)


def test_all_true_mask_equals_no_mask(rng):
    scores, y = _sequence(rng, 3, 2, 4)
    loss, dscores = temporal_softmax_cross_entropy(scores, y)
    loss_m, dscores_m = temporal_softmax_cross_entropy(scores, y, np.ones((3, 2), dtype=bool))
    assert loss == loss_m
    np.testing.assert_array_equal(dscores, dscores_m)


def test_softmax_cross_entropy_equals_torch(rng):
    scores, y = rng.normal(scale=3.0, size=(8, 5)), rng.integers(5, size=8)
    loss, dscores = softmax_cross_entropy(scores, y)
    s = torch.tensor(scores, requires_grad=True)
    loss_t = F.cross_entropy(s, torch.tensor(y))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(dscores, s.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_mse_loss_equals_torch(rng):
    pred, target = rng.normal(size=(7, 1)), rng.normal(size=(7, 1))
    loss, dpred = mse_loss(pred, target)
    p = torch.tensor(pred, requires_grad=True)
    loss_t = F.mse_loss(p, torch.tensor(target))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(dpred, p.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("scale", [1e2, 1e4])
def test_extreme_scores_are_finite_and_warning_free(rng, scale):
    scores = rng.uniform(-scale, scale, size=(3, 4, 6))
    scores[0, 0] = [scale, -scale, -scale, -scale, -scale, -scale]  # target far below the max
    y = rng.integers(6, size=(3, 4))
    y[0, 0] = 1
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dscores = temporal_softmax_cross_entropy(scores, y)
        loss_n, dscores_n = softmax_cross_entropy(scores[0], y[0])
    assert np.isfinite(loss) and np.isfinite(loss_n)
    assert np.all(np.isfinite(dscores)) and np.all(np.isfinite(dscores_n))
    loss_t, dscores_t = _torch_ce(scores, y)
    assert loss == pytest.approx(loss_t, rel=1e-12)
    np.testing.assert_allclose(dscores, dscores_t, rtol=1e-10, atol=1e-15)
    assert loss > 2 * scale / 12  # position (0, 0) alone costs 2 * scale out of 12 tokens


def test_temporal_cross_entropy_errors():
    scores, y = np.zeros((3, 2, 4)), np.zeros((3, 2), dtype=np.int64)
    with pytest.raises(ValueError, match="mask keeps no position"):
        temporal_softmax_cross_entropy(scores, y, np.zeros((3, 2), dtype=bool))
    with pytest.raises(ValueError, match=r"\[0, V\) with V = 4, got 4 at y\[2, 1\]"):
        temporal_softmax_cross_entropy(scores, np.array([[0, 1], [2, 3], [0, 4]]))
    with pytest.raises(ValueError, match=r"V = 4, got -1 at y\[0, 0\]"):
        temporal_softmax_cross_entropy(scores, np.array([[-1, 1], [2, 3], [0, 0]]))
    with pytest.raises(ValueError, match=r"y must have shape \(T, B\) = \(3, 2\), got \(2, 3\)"):
        temporal_softmax_cross_entropy(scores, np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="y must be an integer array, got dtype float64"):
        temporal_softmax_cross_entropy(scores, np.zeros((3, 2)))
    with pytest.raises(TypeError, match="scores must be a floating-point array, got dtype int64"):
        temporal_softmax_cross_entropy(np.zeros((3, 2, 4), dtype=np.int64), y)
    with pytest.raises(ValueError, match=r"scores must have 3 dimensions, got shape \(3, 2\)"):
        temporal_softmax_cross_entropy(np.zeros((3, 2)), y)
    with pytest.raises(TypeError, match="mask must be a boolean array or None, got int64"):
        temporal_softmax_cross_entropy(scores, y, np.ones((3, 2), dtype=np.int64))
    with pytest.raises(ValueError, match=r"mask must have shape \(T, B\) = \(3, 2\), got \(2, 3\)"):
        temporal_softmax_cross_entropy(scores, y, np.ones((2, 3), dtype=bool))


def test_softmax_cross_entropy_and_mse_errors():
    with pytest.raises(ValueError, match=r"y must have shape \(N,\) = \(3,\), got \(4,\)"):
        softmax_cross_entropy(np.zeros((3, 5)), np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match=r"V = 5, got 7 at y\[1\]"):
        softmax_cross_entropy(np.zeros((3, 5)), np.array([0, 7, 1]))
    with pytest.raises(ValueError, match=r"target must have shape \(4, 1\), got \(4,\)"):
        mse_loss(np.zeros((4, 1)), np.zeros(4))  # would broadcast to (4, 4) in NumPy
