"""The torch attention modules: NumPy parity, autograd gradcheck, masks, sequences of queries."""

import numpy as np
import pytest
import torch

from lstm_course.modules.attention import AdditiveAttention, LuongAttention
from lstm_course.scratch.attention import (
    additive_attention_backward,
    additive_attention_forward,
    luong_attention_backward,
    luong_attention_forward,
)
from lstm_course.scratch.gradcheck import rel_error

MODULES = ["additive", "dot", "general"]


def make(kind, Dq, Dk, A=5, seed=0, **kwargs):
    """A float64 attention module with seeded weights; the dot score needs Dq == Dk."""
    torch.manual_seed(seed)
    if kind == "additive":
        return AdditiveAttention(Dq, Dk, A, dtype=torch.float64, **kwargs)
    return LuongAttention(Dq, Dk, score=kind, dtype=torch.float64, **kwargs)


def numpy_twin(kind, module):
    """(forward, backward) of the scratch twin, with the module's weights as p."""
    p = {k: v.detach().numpy() for k, v in module.named_parameters()}

    def forward(s_prev, Hs, mask):
        if kind == "additive":
            return additive_attention_forward(s_prev, Hs, p, mask)
        return luong_attention_forward(s_prev, Hs, p, mask, score=kind)

    backward = additive_attention_backward if kind == "additive" else luong_attention_backward
    return forward, backward


def inputs(rng, S, B, Dq, Dk, T=None):
    """query (B, Dq) or (T, B, Dq), keys (S, B, Dk), mask (S, B) with a True in every column."""
    query = rng.normal(size=(B, Dq) if T is None else (T, B, Dq))
    keys = rng.normal(size=(S, B, Dk))
    mask = rng.random((S, B)) < 0.6
    mask[rng.integers(S, size=B), np.arange(B)] = True
    return query, keys, mask


def sizes(kind, Dq, Dk):
    return (Dk, Dk) if kind == "dot" else (Dq, Dk)


@pytest.mark.parametrize("kind", MODULES)
@pytest.mark.parametrize("S,B,Dq,Dk", [(1, 1, 1, 1), (5, 3, 2, 4), (9, 4, 6, 3)])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_numpy_twin(kind, S, B, Dq, Dk, masked, rng):
    Dq, Dk = sizes(kind, Dq, Dk)
    module = make(kind, Dq, Dk, seed=S * 10 + Dq)
    forward, backward = numpy_twin(kind, module)
    query, keys, mask = inputs(rng, S, B, Dq, Dk)
    mask = mask if masked else None
    dcontext, dalpha = rng.normal(size=(B, Dk)), rng.normal(size=(S, B))

    q_t, k_t = torch.tensor(query, requires_grad=True), torch.tensor(keys, requires_grad=True)
    context_t, weights_t = module(q_t, k_t, None if mask is None else torch.tensor(mask))
    loss = (context_t * torch.tensor(dcontext)).sum() + (weights_t * torch.tensor(dalpha)).sum()
    loss.backward()

    context, alpha, cache = forward(query, keys, mask)
    np.testing.assert_allclose(context, context_t.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(alpha, weights_t.detach().numpy(), rtol=0, atol=1e-10)
    ds_prev, dHs, grads = backward(dcontext, cache, dalpha)
    assert set(grads) == {name for name, _ in module.named_parameters()}
    assert rel_error(ds_prev, q_t.grad.numpy()) < 1e-7
    assert rel_error(dHs, k_t.grad.numpy()) < 1e-7
    for name, param in module.named_parameters():
        assert rel_error(grads[name], param.grad.numpy()) < 1e-7, name


@pytest.mark.parametrize("kind", MODULES)
@pytest.mark.parametrize("T", [None, 3])
def test_gradcheck_with_mask(kind, T, rng):
    Dq, Dk = sizes(kind, 3, 2)
    module = make(kind, Dq, Dk, A=4)
    query, keys, mask = inputs(rng, 4, 2, Dq, Dk, T=T)
    mask[-1] = False  # some padding in every column
    mask_t = torch.tensor(mask)
    params = list(module.parameters())
    names = [name for name, _ in module.named_parameters()]

    def f(query, keys, *values):
        return torch.func.functional_call(
            module, dict(zip(names, values, strict=True)), (query, keys, mask_t)
        )

    args = (
        torch.tensor(query, requires_grad=True),
        torch.tensor(keys, requires_grad=True),
        *(p.detach().clone().requires_grad_() for p in params),
    )
    assert torch.autograd.gradcheck(f, args)


@pytest.mark.parametrize("kind", MODULES)
def test_weights_sum_to_one_and_respect_the_mask(kind, rng):
    S, B = 7, 4
    Dq, Dk = sizes(kind, 3, 5)
    module = make(kind, Dq, Dk)
    query, keys, mask = inputs(rng, S, B, Dq, Dk, T=2)
    mask[:, 0] = False
    mask[2, 0] = True  # a single real position takes all the weight
    context, weights = module(torch.tensor(query), torch.tensor(keys), torch.tensor(mask))
    assert weights.shape == (2, S, B) and context.shape == (2, B, Dk)
    assert torch.all(weights[:, torch.tensor(~mask)] == 0.0)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(2, B, dtype=torch.float64))
    assert torch.all(weights[:, 2, 0] == 1.0)
    torch.testing.assert_close(context[:, 0], torch.tensor(keys[2, 0]).expand(2, Dk))
    # padding content is never read
    garbage = keys.copy()
    garbage[~mask] = 1e3
    context2, weights2 = module(torch.tensor(query), torch.tensor(garbage), torch.tensor(mask))
    assert torch.equal(context, context2) and torch.equal(weights, weights2)


@pytest.mark.parametrize("kind", MODULES)
@pytest.mark.parametrize("masked", [False, True])
def test_sequence_of_queries_equals_the_loop(kind, masked, rng):
    T, S, B = 4, 6, 3
    Dq, Dk = sizes(kind, 2, 5)
    module = make(kind, Dq, Dk)
    query, keys, mask = inputs(rng, S, B, Dq, Dk, T=T)
    query, keys, mask = torch.tensor(query), torch.tensor(keys), torch.tensor(mask)
    mask = mask if masked else None
    context, weights = module(query, keys, mask)
    assert context.shape == (T, B, Dk) and weights.shape == (T, S, B)
    for t in range(T):
        context_t, weights_t = module(query[t], keys, mask)
        torch.testing.assert_close(context[t], context_t, rtol=0, atol=1e-14)
        torch.testing.assert_close(weights[t], weights_t, rtol=0, atol=1e-14)


def test_precompute_equals_the_plain_path(rng):
    T, S, B, Dq, Dk, A = 5, 6, 3, 2, 4, 7
    module = make("additive", Dq, Dk, A)
    query, keys, mask = (torch.tensor(a) for a in inputs(rng, S, B, Dq, Dk, T=T))
    keys_proj = module.precompute(keys)
    assert keys_proj.shape == (S, B, A)
    torch.testing.assert_close(keys_proj, keys @ module.W_k, rtol=0, atol=0)
    for t in range(T):  # a decoder loop: h_j W_k is computed once, not T times
        plain = module(query[t], keys, mask)
        cached = module(query[t], keys, mask, keys_proj=keys_proj)
        for a, b in zip(plain, cached, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-15)
    whole = module(query, keys, mask, keys_proj=keys_proj)
    for a, b in zip(whole, module(query, keys, mask), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match=r"keys_proj must have shape \(S, B, A\) = \(6, 3, 7\)"):
        module(query[0], keys, mask, keys_proj=keys_proj[:, :, :3])


def test_parameters_are_the_numpy_dict():
    module = AdditiveAttention(3, 4, 5)
    shapes = {name: tuple(p.shape) for name, p in module.named_parameters()}
    assert shapes == {"W_q": (3, 5), "W_k": (4, 5), "b": (5,), "v": (5,)}
    assert dict(LuongAttention(3, 4, score="general").named_parameters())["W_a"].shape == (3, 4)
    assert list(LuongAttention(4, 4).parameters()) == []
    assert module.W_q.dtype == torch.get_default_dtype()
    assert make("additive", 3, 4).W_q.dtype == torch.float64


def test_dot_with_different_sizes_raises():
    with pytest.raises(ValueError, match=r"dot score needs query_size == key_size.*= 3.*= 4"):
        LuongAttention(3, 4, score="dot")
    with pytest.raises(ValueError, match=r"score must be one of \('dot', 'general'\), got 'cos'"):
        LuongAttention(3, 3, score="cos")


@pytest.mark.parametrize("kind", MODULES)
def test_bad_arguments_are_named(kind, rng):
    Dq, Dk = sizes(kind, 3, 4)
    module = make(kind, Dq, Dk)
    query, keys, mask = (torch.tensor(a) for a in inputs(rng, 5, 2, Dq, Dk))
    with pytest.raises(ValueError, match=r"keys must have shape \(S, B, Dk\) with Dk = 4, got"):
        module(query, keys[..., :2])
    with pytest.raises(ValueError, match=rf"query must have shape \(B, Dq\) .* Dq = {Dq}, got"):
        module(query[:, :1], keys)
    with pytest.raises(ValueError, match=r"batch sizes differ: query has B = 1 .* keys has B = 2"):
        module(query[:1], keys)
    with pytest.raises(ValueError, match=r"mask must have shape \(S, B\) = \(5, 2\), got \(2, 5\)"):
        module(query, keys, mask.T)
    with pytest.raises(TypeError, match=r"mask must be a bool tensor"):
        module(query, keys, mask.double())
    mask[:, 1] = False
    with pytest.raises(
        ValueError, match=r"mask removes every source position for batch element\(s\) \[1\]"
    ):
        module(query, keys, mask)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("kind", MODULES)
def test_cuda_matches_cpu(kind, rng):
    Dq, Dk = sizes(kind, 3, 4)
    module = make(kind, Dq, Dk)
    query, keys, mask = (torch.tensor(a) for a in inputs(rng, 6, 3, Dq, Dk, T=2))
    expected = module(query, keys, mask)
    cuda = torch.device("cuda")
    module.to(cuda)
    query, keys = (x.to(cuda).requires_grad_() for x in (query, keys))
    got = module(query, keys, mask.to(cuda))
    for a, b in zip(got, expected, strict=True):
        assert a.device.type == "cuda"
        torch.testing.assert_close(a.cpu(), b.detach())
    sum(x.sum() for x in got).backward()
    leaves = [query, keys, *module.parameters()]
    assert all(x.grad.device.type == "cuda" for x in leaves)
