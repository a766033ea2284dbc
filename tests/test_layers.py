"""layers.py: every backward vs numeric gradients and torch autograd, and the error messages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 (the universal spelling)
from hypothesis import given
from hypothesis import strategies as st

from lstm_course.scratch.gradcheck import numeric_gradient, rel_error
from lstm_course.scratch.layers import (
    affine_backward,
    affine_forward,
    embedding_backward,
    embedding_forward,
    multiply_backward,
    multiply_forward,
    temporal_affine_backward,
    temporal_affine_forward,
)

TOL = 1e-7
size = st.integers(1, 4)
seed = st.integers(0, 2**32 - 1)


@given(N=size, D=size, M=size, seed=seed)
def test_affine_backward_matches_numeric(N, D, M, seed):
    rng = np.random.default_rng(seed)
    x, W, b = rng.normal(size=(N, D)), rng.normal(size=(D, M)), rng.normal(size=M)
    dout = rng.normal(size=(N, M))
    out, cache = affine_forward(x, W, b)
    np.testing.assert_allclose(out, x @ W + b)
    dx, dW, db = affine_backward(dout, cache)
    f = lambda: affine_forward(x, W, b)[0]  # noqa: E731
    assert rel_error(dx, numeric_gradient(f, x, dout)) < TOL
    assert rel_error(dW, numeric_gradient(f, W, dout)) < TOL
    assert rel_error(db, numeric_gradient(f, b, dout)) < TOL


@given(T=size, B=size, D=size, M=size, seed=seed)
def test_temporal_affine_backward_matches_numeric(T, B, D, M, seed):
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(T, B, D)), rng.normal(size=(D, M)), rng.normal(size=M)
    dout = rng.normal(size=(T, B, M))
    out, cache = temporal_affine_forward(X, W, b)
    for t in range(T):  # the same affine map at every step
        np.testing.assert_allclose(out[t], X[t] @ W + b)
    dX, dW, db = temporal_affine_backward(dout, cache)
    f = lambda: temporal_affine_forward(X, W, b)[0]  # noqa: E731
    assert rel_error(dX, numeric_gradient(f, X, dout)) < TOL
    assert rel_error(dW, numeric_gradient(f, W, dout)) < TOL
    assert rel_error(db, numeric_gradient(f, b, dout)) < TOL


@given(T=size, B=size, V=st.integers(1, 5), D=size, seed=seed)
def test_embedding_backward_matches_numeric(T, B, V, D, seed):
    rng = np.random.default_rng(seed)
    idx = rng.integers(V, size=(T, B))
    W, dout = rng.normal(size=(V, D)), rng.normal(size=(T, B, D))
    out, cache = embedding_forward(idx, W)
    np.testing.assert_array_equal(out, W[idx])
    dW = embedding_backward(dout, cache)
    assert rel_error(dW, numeric_gradient(lambda: embedding_forward(idx, W)[0], W, dout)) < TOL


def test_embedding_backward_adds_repeated_ids():
    # the bug np.add.at prevents: dW[idx] += dout keeps one of the three additions to row 1
    idx = np.array([[1, 1], [1, 0]])
    W = np.zeros((3, 2))
    dout = np.arange(8.0).reshape(2, 2, 2)
    dW = embedding_backward(dout, embedding_forward(idx, W)[1])
    np.testing.assert_array_equal(dW, [[6.0, 7.0], [0 + 2 + 4, 1 + 3 + 5], [0.0, 0.0]])


@given(shape=st.lists(size, min_size=1, max_size=3), seed=seed)
def test_multiply_backward_matches_numeric(shape, seed):
    rng = np.random.default_rng(seed)
    a, b, dout = (rng.normal(size=shape) for _ in range(3))
    out, cache = multiply_forward(a, b)
    np.testing.assert_array_equal(out, a * b)
    da, db = multiply_backward(dout, cache)
    f = lambda: multiply_forward(a, b)[0]  # noqa: E731
    assert rel_error(da, numeric_gradient(f, a, dout)) < TOL
    assert rel_error(db, numeric_gradient(f, b, dout)) < TOL


def _torch_grads(fn, dout, *arrays):
    """Run fn on float64 leaf tensors, backpropagate dout; return (out, [grads])."""
    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]


def test_affine_matches_torch(rng):
    x, W, b = rng.normal(size=(6, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    dout = rng.normal(size=(6, 3))
    out, cache = affine_forward(x, W, b)
    # F.linear stores the weight as (M, D): ours is its transpose, so x @ W reads like the slide
    out_t, (dx_t, dWT_t, db_t) = _torch_grads(lambda x, w, b: F.linear(x, w, b), dout, x, W.T, b)
    np.testing.assert_allclose(out, out_t, rtol=1e-12)
    for ours, theirs in zip(affine_backward(dout, cache), (dx_t, dWT_t.T, db_t), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_temporal_affine_matches_torch(rng):
    X, W, b = rng.normal(size=(4, 3, 5)), rng.normal(size=(5, 2)), rng.normal(size=2)
    dout = rng.normal(size=(4, 3, 2))
    out, cache = temporal_affine_forward(X, W, b)
    out_t, (dX_t, dWT_t, db_t) = _torch_grads(lambda x, w, b: F.linear(x, w, b), dout, X, W.T, b)
    np.testing.assert_allclose(out, out_t, rtol=1e-12)
    for ours, theirs in zip(
        temporal_affine_backward(dout, cache), (dX_t, dWT_t.T, db_t), strict=True
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_embedding_matches_torch(rng):
    idx = rng.integers(4, size=(5, 3))  # 15 lookups into 4 rows: ids repeat
    W, dout = rng.normal(size=(4, 6)), rng.normal(size=(5, 3, 6))
    out, cache = embedding_forward(idx, W)
    W_t = torch.tensor(W, requires_grad=True)
    out_t = F.embedding(torch.tensor(idx), W_t)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, out_t.detach().numpy())
    np.testing.assert_allclose(embedding_backward(dout, cache), W_t.grad.numpy(), rtol=1e-12)


def test_multiply_matches_torch(rng):
    a, b, dout = (rng.normal(size=(3, 4)) for _ in range(3))
    out, cache = multiply_forward(a, b)
    out_t, grads_t = _torch_grads(torch.mul, dout, a, b)
    np.testing.assert_array_equal(out, out_t)
    for ours, theirs in zip(multiply_backward(dout, cache), grads_t, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_affine_errors_name_the_argument_and_shapes():
    x, W, b = np.zeros((2, 5)), np.zeros((5, 3)), np.zeros(3)
    with pytest.raises(ValueError, match=r"W must have shape \(D, M\) = \(5, 3\), got \(4, 3\)"):
        affine_forward(x, np.zeros((4, 3)), b)
    with pytest.raises(ValueError, match=r"b must have shape \(M,\) = \(3,\), got \(2,\)"):
        affine_forward(x, W, np.zeros(2))
    with pytest.raises(ValueError, match=r"x must have 2 dimensions, got shape \(2, 5, 1\)"):
        affine_forward(np.zeros((2, 5, 1)), W, b)
    with pytest.raises(TypeError, match="x must be a floating-point array, got dtype int64"):
        affine_forward(np.zeros((2, 5), dtype=np.int64), W, b)
    _, cache = affine_forward(x, W, b)
    with pytest.raises(ValueError, match=r"dout must have shape \(N, M\) = \(2, 3\), got \(3, 2\)"):
        affine_backward(np.zeros((3, 2)), cache)


def test_temporal_affine_errors_name_the_argument_and_shapes():
    X, W, b = np.zeros((4, 2, 5)), np.zeros((5, 3)), np.zeros(3)
    with pytest.raises(ValueError, match=r"X must have 3 dimensions, got shape \(2, 5\)"):
        temporal_affine_forward(np.zeros((2, 5)), W, b)
    with pytest.raises(ValueError, match=r"W must have shape \(D, M\) = \(5, 3\), got \(3, 3\)"):
        temporal_affine_forward(X, np.zeros((3, 3)), b)
    _, cache = temporal_affine_forward(X, W, b)
    with pytest.raises(ValueError, match=r"dout must have shape \(T, B, M\) = \(4, 2, 3\)"):
        temporal_affine_backward(np.zeros((4, 3)), cache)


def test_embedding_errors():
    W = np.zeros((5, 3))
    with pytest.raises(TypeError, match="idx must be an integer array, got dtype float64"):
        embedding_forward(np.zeros((2, 2)), W)
    with pytest.raises(ValueError, match=r"idx must have 2 dimensions, got shape \(4,\)"):
        embedding_forward(np.arange(4), W)
    with pytest.raises(TypeError, match="W must be a floating-point array, got dtype int64"):
        embedding_forward(np.zeros((2, 2), dtype=np.int64), np.zeros((5, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"\[0, V\) with V = 5, got 5 at idx\[1, 0\]"):
        embedding_forward(np.array([[0, 1], [5, 2]]), W)
    # NumPy would wrap -1 around to the last row without complaint
    with pytest.raises(ValueError, match=r"V = 5, got -1 at idx\[0, 1\]"):
        embedding_forward(np.array([[0, -1], [4, 2]]), W)
    _, cache = embedding_forward(np.zeros((2, 2), dtype=np.int64), W)
    with pytest.raises(ValueError, match=r"dout must have shape \(T, B, D\) = \(2, 2, 3\)"):
        embedding_backward(np.zeros((2, 2, 5)), cache)


def test_multiply_errors():
    with pytest.raises(ValueError, match=r"b must have shape \(2, 3\), got \(3,\)"):
        multiply_forward(np.zeros((2, 3)), np.zeros(3))  # would broadcast silently in NumPy
    with pytest.raises(TypeError, match="a must be a floating-point array, got dtype int64"):
        multiply_forward(np.zeros((2, 3), dtype=np.int64), np.zeros((2, 3)))
    _, cache = multiply_forward(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 3\), got \(3, 2\)"):
        multiply_backward(np.zeros((3, 2)), cache)
