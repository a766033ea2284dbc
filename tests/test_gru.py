"""NumPy GRU tests: numeric gradients, parity with torch.nn.GRU and GRUCell, errors, extremes."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lstm_course.scratch.gradcheck import numeric_gradient, rel_error
from lstm_course.scratch.gru import (
    gru_backward,
    gru_forward,
    gru_param_shapes,
    gru_step_backward,
    gru_step_forward,
)

KEYS = ("W_x", "W_h", "b_x", "b_h")


def make_params(rng, D, H, scale=0.5):
    """Random float64 parameters; scale 0.5 keeps the gates away from saturation."""
    shapes = gru_param_shapes(D, H)
    return {k: scale * rng.standard_normal(shape) for k, (shape, _) in shapes.items()}


def params_from_torch(weight_ih, weight_hh, bias_ih, bias_hh):
    """torch stores (3H, D) and (3H, H) weights for column vectors; row-vector maths transposes."""
    return {
        "W_x": weight_ih.detach().numpy().T.copy(),
        "W_h": weight_hh.detach().numpy().T.copy(),
        "b_x": bias_ih.detach().numpy().copy(),
        "b_h": bias_hh.detach().numpy().copy(),
    }


def torch_grads_as_p(weight_ih, weight_hh, bias_ih, bias_hh):
    """The .grad of torch's four parameters, laid out like our p."""
    return {
        "W_x": weight_ih.grad.numpy().T,
        "W_h": weight_hh.grad.numpy().T,
        "b_x": bias_ih.grad.numpy(),
        "b_h": bias_hh.grad.numpy(),
    }


sizes = st.integers(1, 4)
small = st.integers(1, 3)
seeds = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------- numeric gradients


@given(B=small, D=sizes, H=sizes, seed=seeds)
def test_step_backward_matches_numeric_gradient(B, D, H, seed):
    rng = np.random.default_rng(seed)
    x_t = rng.standard_normal((B, D))
    h_prev = rng.standard_normal((B, H))
    p = make_params(rng, D, H)
    dh = rng.standard_normal((B, H))

    h, cache = gru_step_forward(x_t, h_prev, p)
    dx_t, dh_prev, grads = gru_step_backward(dh, cache)
    assert set(grads) == set(p)

    def loss():
        return np.sum(gru_step_forward(x_t, h_prev, p)[0] * dh)

    assert rel_error(dx_t, numeric_gradient(loss, x_t)) < 1e-7
    assert rel_error(dh_prev, numeric_gradient(loss, h_prev)) < 1e-7
    for k in KEYS:
        assert grads[k].shape == p[k].shape
        assert rel_error(grads[k], numeric_gradient(loss, p[k])) < 1e-7, k


@given(T=sizes, B=small, D=sizes, H=sizes, seed=seeds)
def test_sequence_backward_matches_numeric_gradient(T, B, D, H, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, B, D))
    h0 = rng.standard_normal((B, H))
    p = make_params(rng, D, H)
    dH_all = rng.standard_normal((T, B, H))
    dh_T = rng.standard_normal((B, H))

    H_all, h_T, cache = gru_forward(X, h0, p)
    dX, dh0, grads = gru_backward(dH_all, cache, dh_T)
    assert set(grads) == set(p)

    def loss():
        H_all, h_T, _ = gru_forward(X, h0, p)
        return np.sum(H_all * dH_all) + np.sum(h_T * dh_T)

    assert rel_error(dX, numeric_gradient(loss, X)) < 1e-7
    assert rel_error(dh0, numeric_gradient(loss, h0)) < 1e-7
    for k in KEYS:
        assert grads[k].shape == p[k].shape
        assert rel_error(grads[k], numeric_gradient(loss, p[k])) < 1e-7, k


# ---------------------------------------------------------------- parity with torch.nn


@pytest.mark.parametrize(
    "T, B, D, H",
    [(1, 1, 1, 1), (1, 3, 4, 5), (6, 1, 3, 2), (5, 4, 6, 8), (12, 2, 2, 3)],
)
def test_matches_torch_gru(T, B, D, H):
    rng = np.random.default_rng(T * 1000 + B * 100 + D * 10 + H)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        gru = torch.nn.GRU(D, H).double()
    w = (gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0)
    p = params_from_torch(*w)
    X = rng.standard_normal((T, B, D))
    h0 = rng.standard_normal((B, H))
    dH_all = rng.standard_normal((T, B, H))
    dh_T = rng.standard_normal((B, H))

    H_all, h_T, cache = gru_forward(X, h0, p)
    dX, dh0, grads = gru_backward(dH_all, cache, dh_T)

    X_t = torch.tensor(X, requires_grad=True)
    h0_t = torch.tensor(h0[None], requires_grad=True)  # torch wants (layers, B, H)
    out, h_n = gru(X_t, h0_t)
    np.testing.assert_allclose(H_all, out.detach().numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(h_T, h_n[0].detach().numpy(), rtol=0, atol=1e-8)

    loss = (out * torch.tensor(dH_all)).sum() + (h_n[0] * torch.tensor(dh_T)).sum()
    loss.backward()
    assert rel_error(dX, X_t.grad.numpy()) < 1e-7
    assert rel_error(dh0, h0_t.grad.numpy()[0]) < 1e-7
    torch_grads = torch_grads_as_p(*w)
    for k in KEYS:
        assert rel_error(grads[k], torch_grads[k]) < 1e-7, k


@pytest.mark.parametrize("B, D, H", [(1, 1, 1), (3, 4, 5), (2, 7, 3)])
def test_step_matches_torch_gru_cell(B, D, H):
    rng = np.random.default_rng(B * 100 + D * 10 + H)
    with torch.random.fork_rng():
        torch.manual_seed(1)
        cell = torch.nn.GRUCell(D, H).double()
    w = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    p = params_from_torch(*w)
    x_t = rng.standard_normal((B, D))
    h_prev = rng.standard_normal((B, H))
    dh = rng.standard_normal((B, H))

    h, cache = gru_step_forward(x_t, h_prev, p)
    dx_t, dh_prev, grads = gru_step_backward(dh, cache)

    x_tt = torch.tensor(x_t, requires_grad=True)
    h_prev_t = torch.tensor(h_prev, requires_grad=True)
    h_t = cell(x_tt, h_prev_t)
    np.testing.assert_allclose(h, h_t.detach().numpy(), rtol=0, atol=1e-8)
    (h_t * torch.tensor(dh)).sum().backward()
    assert rel_error(dx_t, x_tt.grad.numpy()) < 1e-7
    assert rel_error(dh_prev, h_prev_t.grad.numpy()) < 1e-7
    torch_grads = torch_grads_as_p(*w)
    for k in KEYS:
        assert rel_error(grads[k], torch_grads[k]) < 1e-7, k


# ---------------------------------------------------------------- step == sequence


@pytest.mark.parametrize("with_dh_T", [False, True])
def test_step_loop_equals_sequence(rng, with_dh_T):
    T, B, D, H = 5, 3, 4, 2
    X = rng.standard_normal((T, B, D))
    h0 = rng.standard_normal((B, H))
    p = make_params(rng, D, H)
    dH_all = rng.standard_normal((T, B, H))
    dh_T = rng.standard_normal((B, H)) if with_dh_T else None

    H_all, h_T, cache = gru_forward(X, h0, p)
    dX, dh0, grads = gru_backward(dH_all, cache, dh_T)

    h, caches, hs = h0, [], []
    for t in range(T):
        h, c = gru_step_forward(X[t], h, p)
        hs.append(h)
        caches.append(c)
    np.testing.assert_allclose(H_all, np.stack(hs), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_T, h, rtol=1e-12, atol=1e-12)

    dh_next = np.zeros((B, H)) if dh_T is None else dh_T
    step_grads = {k: np.zeros_like(v) for k, v in p.items()}
    dxs = []
    for t in reversed(range(T)):
        dx_t, dh_next, g = gru_step_backward(dH_all[t] + dh_next, caches[t])
        dxs.append(dx_t)
        for k in KEYS:
            step_grads[k] += g[k]
    np.testing.assert_allclose(dX, np.stack(dxs[::-1]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dh0, dh_next, rtol=1e-12, atol=1e-12)
    for k in KEYS:
        np.testing.assert_allclose(grads[k], step_grads[k], rtol=1e-12, atol=1e-12, err_msg=k)


def test_h0_none_means_zeros(rng):
    X = rng.standard_normal((3, 2, 4))
    p = make_params(rng, 4, 5)
    H_none, h_none, _ = gru_forward(X, None, p)
    H_zero, h_zero, _ = gru_forward(X, np.zeros((2, 5)), p)
    np.testing.assert_array_equal(H_none, H_zero)
    np.testing.assert_array_equal(h_none, h_zero)


# ---------------------------------------------------------------- error messages


def _bad_calls():
    """One pytest.param(call, exception, regex) per argument error the course promises to name.

    Every call to the GRU sits inside a lambda, so a broken module fails these tests one by one
    instead of breaking collection.
    """
    rng = np.random.default_rng(0)
    T, B, D, H = 3, 2, 4, 5
    p = make_params(rng, D, H)
    X = rng.standard_normal((T, B, D))
    x_t, h_prev, h0 = X[0], rng.standard_normal((B, H)), rng.standard_normal((B, H))
    four_gates = {**p, "W_x": rng.standard_normal((D, 4 * H))}
    four_bias = {**p, "b_h": rng.standard_normal(4 * H)}
    missing = {k: v for k, v in p.items() if k != "b_h"}
    extra = {**p, "b": p["b_x"]}
    cases = [
        (
            "gate count W_x",
            lambda: gru_forward(X, h0, four_gates),
            ValueError,
            r"p\['W_x'\] must have shape \(D, 3H\) = \(4, 15\), got \(4, 20\) "
            r"\(4 gates of size H = 5 stacked; this cell needs 3\)",
        ),
        (
            "gate count b_h",
            lambda: gru_step_forward(x_t, h_prev, four_bias),
            ValueError,
            r"gru_step_forward: p\['b_h'\] must have shape \(3H,\) = \(15,\), got \(20,\)"
            r" \(4 gates of size H = 5 stacked; this cell needs 3\)",
        ),
        (
            "wrong D",
            lambda: gru_forward(rng.standard_normal((T, B, D + 1)), h0, p),
            ValueError,
            r"p\['W_x'\] must have shape \(D, 3H\) = \(5, 15\), got \(4, 15\)",
        ),
        # a state whose H disagrees with p['W_h'] is blamed on the state
        (
            "wrong H in h_prev",
            lambda: gru_step_forward(x_t, np.zeros((B, H + 1)), p),
            ValueError,
            r"gru_step_forward: h_prev has H = 6 \(shape \(2, 6\)\) but p\['W_h'\] has "
            r"shape \(5, 15\), i.e. H = 5",
        ),
        (
            "wrong H in h0",
            lambda: gru_forward(X, np.zeros((B, H - 1)), p),
            ValueError,
            r"gru_forward: h0 has H = 4 \(shape \(2, 4\)\) but p\['W_h'\] has shape "
            r"\(5, 15\), i.e. H = 5",
        ),
        (
            "batch step",
            lambda: gru_step_forward(x_t, np.zeros((B + 1, H)), p),
            ValueError,
            r"batch sizes differ: x_t has B = 2 .* but h_prev has B = 3",
        ),
        (
            "batch sequence",
            lambda: gru_forward(X, np.zeros((B + 1, H)), p),
            ValueError,
            r"batch sizes differ: X has B = 2 .* but h0 has B = 3",
        ),
        (
            "int x_t",
            lambda: gru_step_forward(np.ones((B, D), dtype=int), h_prev, p),
            TypeError,
            r"x_t must be a floating-point array, got dtype int",
        ),
        (
            "int W_h",
            lambda: gru_forward(X, h0, {**p, "W_h": np.ones((H, 3 * H), dtype=int)}),
            TypeError,
            r"p\['W_h'\] must be a floating-point array",
        ),
        (
            "list X",
            lambda: gru_forward(X.tolist(), h0, p),
            TypeError,
            r"X must be a NumPy array, got list",
        ),
        (
            "list h_prev",
            lambda: gru_step_forward(x_t, h_prev.tolist(), p),
            TypeError,
            r"h_prev must be a NumPy array, got list",
        ),
        (
            "X not 3-D",
            lambda: gru_forward(x_t, h0, p),
            ValueError,
            r"X must have 3 dimensions, got shape \(2, 4\)",
        ),
        (
            "missing key",
            lambda: gru_forward(X, h0, missing),
            ValueError,
            r"gru_forward: p must have exactly the keys .*missing \['b_h'\], unexpected \[\]",
        ),
        (
            "extra key",
            lambda: gru_step_forward(x_t, h_prev, extra),
            ValueError,
            r"gru_step_forward: p must have exactly the keys .*missing \[\], unexpected \['b'\]",
        ),
        (
            "dH_all shape",
            lambda: gru_backward(np.zeros((T, B, H + 1)), gru_forward(X, h0, p)[2]),
            ValueError,
            r"dH_all must have shape \(T, B, H\) = \(3, 2, 5\), got \(3, 2, 6\)",
        ),
        (
            "dh_T shape",
            lambda: gru_backward(np.zeros((T, B, H)), gru_forward(X, h0, p)[2], np.zeros(H)),
            ValueError,
            r"dh_T must have shape \(B, H\) = \(2, 5\), got \(5,\)",
        ),
        (
            "dh shape",
            lambda: gru_step_backward(np.zeros((B, H + 1)), gru_step_forward(x_t, h_prev, p)[1]),
            ValueError,
            r"dh must have shape \(B, H\) = \(2, 5\), got \(2, 6\)",
        ),
    ]
    return [pytest.param(*rest, id=name) for name, *rest in cases]


@pytest.mark.parametrize("call, exc, match", _bad_calls())
def test_bad_arguments_are_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- extreme inputs


@pytest.mark.parametrize("where", ["X", "weights"])
def test_extreme_preactivations_stay_finite(rng, where):
    T, B, D, H = 4, 3, 5, 4
    p = make_params(rng, D, H)
    X = rng.standard_normal((T, B, D))
    if where == "X":
        X *= 1e4 / np.abs(X @ p["W_x"]).max()
    else:
        p["W_x"] *= 1e4 / np.abs(X @ p["W_x"]).max()
        p["W_h"] *= 1e4
    h0 = rng.uniform(-1, 1, (B, H))
    dH_all = rng.standard_normal((T, B, H))
    dh_T = rng.standard_normal((B, H))
    # the test is only meaningful if some pre-activation really is ~1e4
    assert np.abs(X @ p["W_x"]).max() >= 0.99e4

    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        H_all, h_T, cache = gru_forward(X, h0, p)
        dX, dh0, grads = gru_backward(dH_all, cache, dh_T)
        h, step_cache = gru_step_forward(X[0], h0, p)
        dx_t, dh_prev, step_grads = gru_step_backward(dH_all[0], step_cache)

    for a in (H_all, h_T, dX, dh0, h, dx_t, dh_prev, *grads.values(), *step_grads.values()):
        assert np.all(np.isfinite(a))
    # h is a convex combination of tanh outputs and h0, so it stays in [-1, 1]
    assert np.abs(H_all).max() <= 1.0
    np.testing.assert_array_equal(H_all[0], h)
