"""NTM addressing in NumPy: small examples by hand, a torch twin, and errors that name arguments."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lstm_course.scratch import ntm
from lstm_course.scratch.ntm import (
    address,
    content_addressing,
    cosine_similarity,
    interpolate,
    read,
    sharpen,
    shift,
    write,
)


def distributions(rng, B, N):
    return rng.dirichlet(np.ones(N), size=B)


# ----- small examples worked by hand -----


def test_cosine_similarity_by_hand():
    k = np.array([[1.0, 0.0]])
    M = np.array([[[2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [-1.0, 0.0], [0.0, 0.0]]])
    K = cosine_similarity(k, M)
    # same direction, orthogonal, 45 degrees, opposite, and an all-zero row (0, not nan)
    np.testing.assert_allclose(K, [[1.0, 0.0, 1 / math.sqrt(2), -1.0, 0.0]], atol=1e-7)


def test_content_addressing_by_hand():
    k = np.array([[1.0, 0.0]])
    M = np.array([[[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]]])  # K = 1, 0, 1/sqrt(2)
    w_c = content_addressing(k, np.array([2.0]), M)
    scores = np.exp([2.0, 0.0, 2 / math.sqrt(2)])
    np.testing.assert_allclose(w_c, [scores / scores.sum()], atol=1e-7)
    uniform = content_addressing(k, 0.0, M)  # beta = 0 ignores the content
    np.testing.assert_allclose(uniform, np.full((1, 3), 1 / 3), atol=1e-15)


def test_interpolate_by_hand():
    w_c = np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    w_prev = np.array([[0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    g = np.array([[0.25], [1.0]])
    np.testing.assert_allclose(
        interpolate(w_c, w_prev, g), [[0.25, 0.0, 0.75], [0.2, 0.3, 0.5]], atol=1e-15
    )
    np.testing.assert_array_equal(interpolate(w_c, w_prev, 0.0), w_prev)


def test_shift_s3_by_hand():
    w_g = np.array([[0.1, 0.2, 0.3, 0.4]])
    s = np.array([[0.25, 0.5, 0.25]])  # offsets -1, 0, +1
    # w~_i = 0.25 w_(i+1) + 0.5 w_i + 0.25 w_(i-1), indices mod 4
    expected = [
        [0.25 * 0.2 + 0.5 * 0.1 + 0.25 * 0.4, 0.2, 0.3, 0.25 * 0.1 + 0.5 * 0.4 + 0.25 * 0.3]
    ]
    np.testing.assert_allclose(shift(w_g, s), expected, atol=1e-15)


@pytest.mark.parametrize(
    "S,column,offset", [(3, 2, 1), (3, 0, -1), (3, 1, 0), (5, 4, 2), (5, 3, 1), (5, 0, -2)]
)
def test_shift_moves_a_one_hot_weighting_by_the_offset(S, column, offset):
    N = 6
    s = np.zeros((N, S))
    s[:, column] = 1.0
    w_g = np.eye(N)  # batch b is one-hot at location b, including the edges
    expected = np.roll(np.eye(N), offset, axis=1)  # location b moves to (b + offset) mod N
    np.testing.assert_array_equal(shift(w_g, s), expected)
    assert ntm.shift_offsets(S)[column] == offset


def test_shift_s5_by_hand():
    w_g = np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]])
    s = np.array([[0.1, 0.2, 0.4, 0.2, 0.1]])  # offsets -2..2
    np.testing.assert_allclose(shift(w_g, s), [[0.1, 0.2, 0.4, 0.2, 0.1, 0.0, 0.0]], atol=1e-15)
    wrap = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]])  # the last location spreads to 0, 1
    np.testing.assert_allclose(shift(wrap, s), [[0.2, 0.1, 0.0, 0.0, 0.1, 0.2, 0.4]], atol=1e-15)


def _paper_shift(w_g, s):
    """Eq. (8) literally: w~_i = sum_j w_g_j s((i - j) mod N), s spread over offsets mod N."""
    B, N = w_g.shape
    S = s.shape[1]
    s_mod = np.zeros((B, N))
    for c in range(S):
        s_mod[:, (c - S // 2) % N] += s[:, c]  # offsets that coincide mod N add up
    return np.array(
        [
            [sum(w_g[b, j] * s_mod[b, (i - j) % N] for j in range(N)) for i in range(N)]
            for b in range(B)
        ]
    )


@given(B=st.integers(1, 3), N=st.integers(1, 7), half=st.integers(0, 4), seed=st.integers(0, 2**16))
def test_shift_is_the_papers_circular_convolution(B, N, half, seed):
    rng = np.random.default_rng(seed)
    w_g, s = distributions(rng, B, N), distributions(rng, B, 2 * half + 1)  # S may exceed N
    np.testing.assert_allclose(shift(w_g, s), _paper_shift(w_g, s), atol=1e-14)


def test_sharpen_by_hand():
    w_tilde = np.array([[0.2, 0.3, 0.5]])
    np.testing.assert_allclose(sharpen(w_tilde, 2.0), [[0.04, 0.09, 0.25]] / np.float64(0.38))


@pytest.mark.parametrize("gamma", [1.0, 1.7, 3.0, 50.0, 1e4])
def test_sharpen_leaves_a_one_hot_weighting_unchanged(gamma):
    one_hot = np.eye(5)[[0, 3, 4]]
    np.testing.assert_array_equal(sharpen(one_hot, np.full((3, 1), gamma)), one_hot)


def test_sharpen_stays_finite_for_a_large_gamma():
    w_tilde = np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # tiny terms may become 0
        w = sharpen(w_tilde, 2000.0)
    np.testing.assert_allclose(w, [[1, 0, 0], [0, 0, 1], [1 / 3, 1 / 3, 1 / 3]], atol=1e-15)


def test_read_and_write_by_hand():
    M_prev = np.array([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])  # B = 1, N = 3, W = 2
    w = np.array([[0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(read(M_prev, w), [[3.0, 4.0]])
    np.testing.assert_allclose(read(M_prev, np.array([[0.5, 0.0, 0.5]])), [[3.0, 4.0]])
    kept = M_prev.copy()
    replaced = write(M_prev, w, np.ones((1, 2)), np.array([[7.0, 8.0]]))  # erase all, then add
    np.testing.assert_array_equal(replaced, [[[1.0, 2.0], [7.0, 8.0], [5.0, 6.0]]])
    half = write(M_prev, np.array([[0.5, 0.0, 0.0]]), np.array([[1.0, 0.0]]), np.zeros((1, 2)))
    np.testing.assert_allclose(half, [[[0.5, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    np.testing.assert_array_equal(M_prev, kept)  # the write made a new array


def test_write_erases_before_it_adds():
    M_prev = np.zeros((1, 2, 1))
    w = np.array([[1.0, 0.0]])
    M = write(M_prev, w, np.ones((1, 1)), np.full((1, 1), 5.0))
    assert M[0, 0, 0] == 5.0  # adding first and erasing after would leave 0


# ----- properties -----


@given(
    B=st.integers(1, 3),
    N=st.integers(1, 8),
    W=st.integers(1, 4),
    half=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_every_stage_is_a_weighting(B, N, W, half, seed):
    rng = np.random.default_rng(seed)
    M, k = rng.normal(size=(B, N, W)), rng.normal(size=(B, W))
    beta, g = rng.uniform(0, 20, size=B), rng.uniform(0, 1, size=(B, 1))
    gamma = 1.0 + rng.exponential(3.0, size=B)
    s, w_prev = distributions(rng, B, 2 * half + 1), distributions(rng, B, N)
    stages = address(k, beta, g, s, gamma, M, w_prev)
    assert stages._fields == ("w_c", "w_g", "w_tilde", "w")
    for stage in stages:
        assert stage.shape == (B, N)
        assert np.all(stage >= 0)
        np.testing.assert_allclose(stage.sum(axis=1), 1.0, atol=1e-12)


def test_scalar_vector_and_column_parameters_agree(rng):
    B, N, W = 3, 5, 4
    M, k = rng.normal(size=(B, N, W)), rng.normal(size=(B, W))
    s, w_prev = distributions(rng, B, 3), distributions(rng, B, N)
    results = [
        address(k, beta, g, s, gamma, M, w_prev).w
        for beta, g, gamma in [
            (4.0, 0.3, 2),
            (np.full(B, 4.0), np.full(B, 0.3), np.full(B, 2.0)),
            (np.full((B, 1), 4.0), np.full((B, 1), 0.3), np.full((B, 1), 2.0)),
        ]
    ]
    for w in results[1:]:
        np.testing.assert_array_equal(w, results[0])


def test_float32_stays_float32(rng):
    B, N, W = 2, 4, 3
    f32 = np.float32
    M, k = rng.normal(size=(B, N, W)).astype(f32), rng.normal(size=(B, W)).astype(f32)
    s, w_prev = distributions(rng, B, 3).astype(f32), distributions(rng, B, N).astype(f32)
    stages = address(k, np.ones(B, f32), np.full(B, 0.5, f32), s, np.full(B, 2.0, f32), M, w_prev)
    assert all(stage.dtype == f32 for stage in stages)
    assert read(M, stages.w).dtype == f32
    assert write(M, stages.w, np.full((B, W), 0.5, f32), k).dtype == f32


# ----- a torch twin, written from the equations -----


def torch_address(k, beta, g, s, gamma, M, w_prev, eps=ntm.EPS):
    """Eqs. (5)-(9) in torch; the shift builds the circulant matrix s((i - j) mod N) instead of
    rolling."""
    K = torch.einsum("bw,bnw->bn", k, M) / (
        k.norm(dim=1, keepdim=True) * M.norm(dim=2) + eps
    )  # (6)
    w_c = torch.softmax(beta[:, None] * K, dim=1)  # (5)
    w_g = g[:, None] * w_c + (1 - g[:, None]) * w_prev  # (7)
    N, S = w_g.shape[1], s.shape[1]
    i, j = torch.arange(N)[:, None], torch.arange(N)[None, :]
    circulant = torch.zeros(s.shape[0], N, N, dtype=s.dtype)  # [b, i, j] = s_b((i - j) mod N)
    for c in range(S):
        circulant = circulant + s[:, c, None, None] * ((i - j) % N == (c - S // 2) % N)
    w_tilde = torch.einsum("bij,bj->bi", circulant, w_g)  # (8)
    powered = w_tilde ** gamma[:, None]
    return w_c, w_g, w_tilde, powered / powered.sum(dim=1, keepdim=True)  # (9)


def torch_read_write(M, w, e, a):
    r = torch.einsum("bn,bnw->bw", w, M)  # (2)
    erased = M * (1 - torch.einsum("bn,bw->bnw", w, e))  # (3)
    return r, erased + torch.einsum("bn,bw->bnw", w, a)  # (4)


@given(
    B=st.integers(1, 3),
    N=st.integers(2, 8),
    W=st.integers(1, 5),
    half=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_numpy_matches_the_torch_twin(B, N, W, half, seed):
    rng = np.random.default_rng(seed)
    M, k = rng.normal(size=(B, N, W)), rng.normal(size=(B, W))
    beta, g = rng.uniform(0, 10, size=B), rng.uniform(0, 1, size=B)
    gamma = 1.0 + rng.exponential(2.0, size=B)
    s, w_prev = distributions(rng, B, 2 * half + 1), distributions(rng, B, N)
    e, a = rng.uniform(0, 1, size=(B, W)), rng.normal(size=(B, W))
    ours = address(k, beta, g, s, gamma, M, w_prev)
    t = [torch.tensor(x) for x in (k, beta, g, s, gamma, M, w_prev)]
    theirs = torch_address(*t)
    for name, x, y in zip(ours._fields, ours, theirs, strict=True):
        np.testing.assert_allclose(x, y.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)
    r, M_new = torch_read_write(torch.tensor(M), theirs[3], torch.tensor(e), torch.tensor(a))
    np.testing.assert_allclose(read(M, ours.w), r.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(write(M, ours.w, e, a), M_new.numpy(), rtol=1e-10, atol=1e-13)


# ----- errors name the argument -----


def _args(rng, B=2, N=4, W=3, S=3):
    return dict(
        k=rng.normal(size=(B, W)),
        beta=np.ones(B),
        g=np.full(B, 0.5),
        s=distributions(rng, B, S),
        gamma=np.full(B, 2.0),
        M=rng.normal(size=(B, N, W)),
        w_prev=distributions(rng, B, N),
    )


@pytest.mark.parametrize(
    "change,error,pattern",
    [
        (
            dict(k=np.zeros((2, 4))),
            ValueError,
            r"k must have shape \(B, W\) = \(2, 3\), got \(2, 4\)",
        ),
        (dict(M=np.zeros((4, 3))), ValueError, r"M must have 3 dimensions, got shape \(4, 3\)"),
        (dict(M=np.zeros((2, 4, 3), int)), TypeError, r"M must be a floating-point array"),
        (
            dict(beta=np.array([1.0, -1.0])),
            ValueError,
            r"beta must be >= 0.0, got -1.0 for batch 1",
        ),
        (dict(beta=np.ones(3)), ValueError, r"beta must have shape \(B,\) or \(B, 1\) with B = 2"),
        (dict(beta=np.array([1.0, np.nan])), ValueError, r"beta must be finite"),
        (dict(beta=np.ones(2, int)), TypeError, r"beta must be a floating-point array"),
        (dict(beta="strong"), TypeError, r"beta must be a NumPy array, got str"),
        (dict(g=1.5), ValueError, r"g must be in \[0.0, 1.0\], got 1.5 for batch 0"),
        (
            dict(gamma=np.array([2.0, 0.5])),
            ValueError,
            r"gamma must be >= 1.0, got 0.5 for batch 1",
        ),
        (dict(s=np.full((2, 4), 0.25)), ValueError, r"odd number S >= 1 of offsets, got 4"),
        (dict(s=np.full((2, 3), 0.5)), ValueError, r"s must be a distribution over shifts"),
        (dict(s=np.full((3, 3), 1 / 3)), ValueError, r"batch sizes differ: w_g has B = 2"),
        (dict(s=np.array([[1.5, 0.0, -0.5]] * 2)), ValueError, r"s must be a distribution"),
        (
            dict(w_prev=np.full((2, 5), 0.2)),
            ValueError,
            r"w_prev must have shape \(B, N\) = \(2, 4\)",
        ),
        (dict(w_prev=-np.full((2, 4), 0.25)), ValueError, r"w_prev must be non-negative"),
    ],
)
def test_bad_arguments_are_named(change, error, pattern, rng):
    args = _args(rng)
    args.update(change)
    with pytest.raises(error, match=pattern):
        address(**args)


def test_bad_read_write_arguments_are_named(rng):
    M, w = rng.normal(size=(2, 4, 3)), distributions(rng, 2, 4)
    e, a = np.full((2, 3), 0.5), rng.normal(size=(2, 3))
    with pytest.raises(ValueError, match=r"w must have shape \(B, N\) = \(2, 4\), got \(4, 2\)"):
        read(M, w.T.copy())
    with pytest.raises(ValueError, match=r"M_prev must have 3 dimensions"):
        write(M[0], w, e, a)
    with pytest.raises(ValueError, match=r"e must have shape \(B, W\) = \(2, 3\), got \(2, 4\)"):
        write(M, w, np.full((2, 4), 0.5), a)
    with pytest.raises(ValueError, match=r"a must have shape \(B, W\) = \(2, 3\), got \(3,\)"):
        write(M, w, e, a[0])
    with pytest.raises(ValueError, match=r"e must lie in \[0, 1\]"):
        write(M, w, e + 1.0, a)


def test_sharpening_nothing_is_refused():
    with pytest.raises(ValueError, match=r"w_tilde is all zeros for batch 1"):
        sharpen(np.array([[0.5, 0.5], [0.0, 0.0]]), 2.0)
