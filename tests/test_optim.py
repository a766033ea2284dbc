"""optim.py: each optimizer and clip_grad_norm against torch.optim / torch.nn.utils in float64."""

import numpy as np
import pytest
import torch

from lstm_course.scratch.optim import SGD, Adagrad, Adam, Momentum, clip_grad_norm, zero_like

SHAPES = {"W_x": (3, 4), "W_h": (4, 4), "b": (4,)}

# (ours, the torch.optim equivalent) with the same hyper-parameters; torch's Adagrad eps
# default is 1e-10, so it is passed explicitly
OPTIMIZERS = {
    "sgd": (lambda: SGD(lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    "momentum": (
        lambda: Momentum(lr=0.1, momentum=0.9),
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    ),
    "adam": (
        lambda: Adam(lr=0.05, betas=(0.8, 0.99), eps=1e-8),
        lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-8),
    ),
    "adam_defaults": (lambda: Adam(), lambda ps: torch.optim.Adam(ps)),
    "adagrad": (
        lambda: Adagrad(lr=0.1, eps=1e-8),
        lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=1e-8),
    ),
}


def _params(rng):
    return {k: rng.normal(size=s) for k, s in SHAPES.items()}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_matches_torch_for_five_steps(rng, name):
    make_ours, make_torch = OPTIMIZERS[name]
    p = _params(rng)
    p_t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    ours, theirs = make_ours(), make_torch(list(p_t.values()))
    arrays = dict(p)
    history = []  # every step's grads and a copy: a later step must not change them either
    for _ in range(5):
        # a gradient that changes scale from step to step, so the state really matters
        grads = {k: rng.normal(scale=rng.uniform(0.1, 3.0), size=v.shape) for k, v in p.items()}
        history.append((grads, {k: g.copy() for k, g in grads.items()}))
        ours.step(p, grads)
        for k, g in grads.items():
            p_t[k].grad = torch.tensor(g)
        theirs.step()
        for k in p:
            assert p[k] is arrays[k]  # updated in place, not replaced
            np.testing.assert_allclose(p[k], p_t[k].detach().numpy(), rtol=0, atol=1e-12)
    for grads, before in history:
        for k in grads:
            np.testing.assert_array_equal(grads[k], before[k])


def test_optimizer_state_is_per_key(rng):
    # stepping W and b together equals stepping each with its own optimizer
    p, grads = _params(rng), _params(rng)
    together, alone = Adam(lr=0.1), {k: Adam(lr=0.1) for k in p}
    p_alone = {k: v.copy() for k, v in p.items()}
    for _ in range(3):
        together.step(p, grads)
        for k in p:
            alone[k].step({k: p_alone[k]}, {k: grads[k]})
    for k in p:
        np.testing.assert_array_equal(p[k], p_alone[k])


def test_adagrad_differs_from_min_char_rnn_form():
    # eps outside the root (torch) vs inside (min-char-rnn): visible only for tiny gradients
    p, g = {"w": np.zeros(1)}, {"w": np.array([1e-6])}
    Adagrad(lr=1.0, eps=1e-8).step(p, g)
    assert p["w"][0] == pytest.approx(-1e-6 / (1e-6 + 1e-8), rel=1e-12)
    assert p["w"][0] != pytest.approx(-1e-6 / np.sqrt(1e-12 + 1e-8), rel=1e-3)


@pytest.mark.parametrize("max_norm", [0.5, 2.0])
def test_clip_grad_norm_matches_torch(rng, max_norm):
    grads = _params(rng)  # norm about 5.6: both thresholds clip
    before = {k: g.copy() for k, g in grads.items()}
    clipped, total_norm = clip_grad_norm(grads, max_norm)
    ps = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES.values()]
    for param, g in zip(ps, grads.values(), strict=True):
        param.grad = torch.tensor(g)
    total_norm_t = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    assert total_norm == pytest.approx(total_norm_t.item(), rel=1e-14)
    assert total_norm > max_norm
    for (k, c), param in zip(clipped.items(), ps, strict=True):
        np.testing.assert_allclose(c, param.grad.numpy(), rtol=1e-14)
        np.testing.assert_array_equal(grads[k], before[k])  # input not mutated
    new_norm = np.sqrt(sum(np.sum(c * c) for c in clipped.values()))
    assert new_norm == pytest.approx(max_norm, rel=1e-6)


def test_clip_grad_norm_below_threshold_is_unchanged(rng):
    grads = _params(rng)
    clipped, total_norm = clip_grad_norm(grads, max_norm=100.0)
    assert total_norm == pytest.approx(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for k, g in grads.items():
        np.testing.assert_array_equal(clipped[k], g)
        assert clipped[k] is not g  # new arrays: modifying them leaves grads alone


def test_zero_like(rng):
    p = _params(rng)
    z = zero_like(p)
    assert set(z) == set(p)
    for k in p:
        assert z[k].shape == p[k].shape and z[k].dtype == p[k].dtype and not z[k].any()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_step_rejects_mismatched_keys_and_shapes(rng, name):
    opt = OPTIMIZERS[name][0]()
    p, grads = _params(rng), _params(rng)
    del grads["b"]
    grads["W_y"] = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"missing \['b'\], unexpected \['W_y'\]"):
        opt.step(p, grads)
    grads = _params(rng)
    grads["W_h"] = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"grads\['W_h'\] must have shape \(4, 4\), got \(4, 3\)"):
        opt.step(p, grads)
    with pytest.raises(TypeError, match=r"grads\['b'\] must be a floating-point array"):
        opt.step(p, {**_params(rng), "b": np.zeros(4, dtype=np.int64)})


def test_step_rejects_a_parameter_whose_shape_changed(rng):
    opt, p = Momentum(lr=0.1), _params(rng)
    opt.step(p, _params(rng))
    p2 = {**p, "b": np.zeros(5)}
    with pytest.raises(ValueError, match=r"p\['b'\] has shape \(5,\) but the optimizer's state"):
        opt.step(p2, {**_params(rng), "b": np.zeros(5)})


def test_hyperparameter_errors():
    with pytest.raises(ValueError, match="lr must be > 0, got -0.1"):
        SGD(lr=-0.1)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\), got 1.5"):
        Momentum(lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match=r"betas\[1\] must be in \[0, 1\), got 1.0"):
        Adam(betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="max_norm must be > 0, got 0"):
        clip_grad_norm({"w": np.ones(2)}, 0)
