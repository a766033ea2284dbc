"""The LSTM's fused path (modules/_fused_lstm.py) against the eager reference loop and torch.nn:
outputs, final states and every gradient over layers, directions, layouts, states, lengths and
which outputs the loss uses; gradcheck of the Function; which path runs when."""

import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_course.modules._fused_lstm import LSTMLayerFunction, lstm_layer
from lstm_course.modules.recurrent import LSTM
from lstm_course.scratch.gradcheck import rel_error

F64 = torch.float64
FUSED_NODE = "LSTMLayerFunctionBackward"


def triple(D=3, H=4, seed=0, dtype=F64, **kwargs):
    """(fused, eager, torch.nn) LSTMs with torch.nn's weights."""
    torch.manual_seed(seed)
    theirs = torch.nn.LSTM(D, H, dtype=dtype, **kwargs)
    fused = LSTM(D, H, dtype=dtype, **kwargs)
    eager = LSTM(D, H, dtype=dtype, fused=False, **kwargs)
    fused.load_state_dict(theirs.state_dict())
    eager.load_state_dict(theirs.state_dict())
    return fused, eager, theirs


def graph_names(tensor):
    """The class names of every node of the autograd graph behind ``tensor``."""
    names, todo, seen = set(), [tensor.grad_fn], set()
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(type(node).__name__)
        todo.extend(next_fn for next_fn, _ in node.next_functions)
    return names


def run(module, X, hx, lengths, how, through, G):
    """Forward, then backward of a loss on ``through``; returns output, (h_n, c_n), grads.

    how: "fixed"; "lengths" (torch.nn gets a PackedSequence); "packed" (all get one).
    through: "output", "h_n", "c_n" or "all": what the loss reads (the rest get no gradient).
    """
    x, *state0 = (t.detach().clone().requires_grad_() for t in [X, *hx])
    hx = tuple(state0) if state0 else None
    bf = module.batch_first
    if how == "packed" or (how == "lengths" and isinstance(module, torch.nn.LSTM)):
        packed = pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=False)
        out, (h_n, c_n) = module(packed, hx)
        out, _ = pad_packed_sequence(out, batch_first=bf, total_length=X.shape[int(bf)])
    elif how == "lengths":
        out, (h_n, c_n) = module(x, hx, lengths=lengths)
    else:
        out, (h_n, c_n) = module(x, hx)
    terms = {"output": (out * G[0]).sum(), "h_n": (h_n * G[1]).sum(), "c_n": (c_n * G[2]).sum()}
    loss = sum(terms.values()) if through == "all" else terms[through]
    leaves = [x, *state0, *module.parameters()]
    grads = torch.autograd.grad(loss, leaves, allow_unused=True)
    return out, (h_n, c_n), grads, graph_names(loss)


def assert_same(a, b, out_tol=1e-8, grad_tol=1e-7):
    (out_a, st_a, gr_a, _), (out_b, st_b, gr_b, _) = a, b
    assert out_a.shape == out_b.shape and (out_a - out_b).abs().max() < out_tol
    for s, t in zip(st_a, st_b, strict=True):
        assert s.shape == t.shape and (s - t).abs().max() < out_tol
    assert len(gr_a) == len(gr_b)
    for k, (g, h) in enumerate(zip(gr_a, gr_b, strict=True)):
        assert (g is None) == (h is None), k
        if g is not None:
            assert g.shape == h.shape
            assert rel_error(g.detach().numpy(), h.detach().numpy()) < grad_tol, k


GRID = list(
    itertools.product(
        [1, 2],  # num_layers
        [False, True],  # bidirectional
        [False, True],  # batch_first
        [False, True],  # initial state given
        ["fixed", "lengths", "packed"],
        ["output", "h_n", "c_n", "all"],  # what the loss reads
    )
)


@pytest.mark.parametrize("num_layers,bidirectional,batch_first,with_hx,how,through", GRID)
def test_fused_matches_eager_and_torch_nn(
    num_layers, bidirectional, batch_first, with_hx, how, through
):
    T, B, D, H = 6, 3, 3, 4
    kw = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    fused, eager, theirs = triple(D, H, seed=num_layers, **kw)
    gen = torch.Generator().manual_seed(10 * num_layers + 2 * bidirectional + with_hx)
    S = num_layers * (2 if bidirectional else 1)
    X = torch.randn((B, T, D) if batch_first else (T, B, D), generator=gen, dtype=F64)
    hx = [torch.randn(S, B, H, generator=gen, dtype=F64) for _ in range(2)] if with_hx else []
    lengths = torch.tensor([4, 1, T])  # unsorted, one of length 1, one full, max < T never
    G = [
        torch.randn(X.shape[:2] + (H * (2 if bidirectional else 1),), generator=gen, dtype=F64),
        torch.randn(S, B, H, generator=gen, dtype=F64),
        torch.randn(S, B, H, generator=gen, dtype=F64),
    ]
    a = run(fused, X, hx, lengths, how, through, G)
    b = run(eager, X, hx, lengths, how, through, G)
    c = run(theirs, X, hx, lengths, how, through, G)
    assert FUSED_NODE in a[3] and FUSED_NODE not in b[3]
    assert_same(a, b)
    assert_same(a, c)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_after_every_sequence_and_no_bias(bidirectional):
    """max(lengths) < T, so the last steps are padding for all; bias=False; unbatched too."""
    T, B, D, H = 5, 3, 2, 3
    fused, eager, _ = triple(D, H, bias=False, num_layers=2, bidirectional=bidirectional)
    X = torch.randn(T, B, D, dtype=F64)
    G = [torch.randn(T, B, 2 * H if bidirectional else H, dtype=F64)] + [
        torch.randn(4 if bidirectional else 2, B, H, dtype=F64) for _ in range(2)
    ]
    lengths = [2, 3, 1]
    assert_same(
        run(fused, X, [], lengths, "lengths", "all", G),
        run(eager, X, [], lengths, "lengths", "all", G),
    )
    x = torch.randn(T, D, dtype=F64)  # unbatched
    assert (fused(x)[0] - eager(x)[0]).abs().max() < 1e-12


def test_dropout_between_layers_is_the_same_in_both_paths():
    fused, eager, _ = triple(3, 4, num_layers=3, dropout=0.5)
    X = torch.randn(5, 2, 3, dtype=F64)
    torch.manual_seed(7)
    out_f = fused(X)[0]
    torch.manual_seed(7)
    out_e = eager(X)[0]
    assert (out_f - out_e).abs().max() < 1e-12


def test_float32_matches_torch_nn():
    fused, _, theirs = triple(16, 32, dtype=torch.float32, num_layers=2, bidirectional=True)
    X = torch.randn(20, 8, 16)
    G = [torch.randn(20, 8, 64), torch.randn(4, 8, 32), torch.randn(4, 8, 32)]
    a = run(fused, X, [], None, "fixed", "all", G)
    c = run(theirs, X, [], None, "fixed", "all", G)
    assert a[0].dtype == torch.float32
    assert_same(a, c, out_tol=1e-5, grad_tol=1e-5)


def test_backward_twice_with_retain_graph():
    """The backward pass must not overwrite what the forward pass saved."""
    fused, eager, _ = triple(3, 4, num_layers=2)
    X = torch.randn(5, 2, 3, dtype=F64)
    grads = []
    for module in (fused, fused, eager):
        module.zero_grad()
        out, (h_n, c_n) = module(X)
        loss = out.sin().sum() + c_n.sum()
        loss.backward(retain_graph=True)
        loss.backward()  # accumulates: twice the gradient
        grads.append([p.grad.clone() for p in module.parameters()])
    for a, b in zip(grads[0], grads[2], strict=True):
        assert rel_error(a.numpy(), b.numpy()) < 1e-10


def test_only_some_inputs_need_a_gradient():
    """X and W_ih frozen, so Gx needs none: only W_hh (and h0) get one, as in the eager path."""
    X = torch.randn(5, 2, 3, dtype=F64)
    h0 = torch.randn(2, 2, 4, dtype=F64, requires_grad=True)
    grads = []
    for module in triple(3, 4, bidirectional=True)[:2]:
        for name, p in module.named_parameters():
            p.requires_grad_(name.startswith("weight_hh"))
        out, (h_n, _) = module(X, (h0, torch.zeros_like(h0)), lengths=[5, 3])
        params = [p for p in module.parameters() if p.requires_grad]
        grads.append(torch.autograd.grad(out.sum() + h_n.sum(), [h0, *params]))
    assert len(grads[0]) == 3
    for a, b in zip(*grads, strict=True):
        assert rel_error(a.numpy(), b.numpy()) < 1e-10


def test_no_grad_forward_matches():
    fused, eager, _ = triple(3, 4, bidirectional=True)
    X = torch.randn(5, 2, 3, dtype=F64)
    with torch.no_grad():
        out, (h_n, c_n) = fused(X, lengths=[5, 2])
    assert not out.requires_grad
    ref, (h_ref, c_ref) = eager(X, lengths=[5, 2])
    for a, b in [(out, ref), (h_n, h_ref), (c_n, c_ref)]:
        assert (a - b).abs().max() < 1e-12


def test_double_backward_is_refused():
    fused, _, _ = triple(3, 4)
    X = torch.randn(5, 2, 3, dtype=F64, requires_grad=True)
    (gX,) = torch.autograd.grad(fused(X)[0].sin().sum(), X, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        gX.sum().backward()


# -- the Function itself ------------------------------------------------------------------------


def function_inputs(T, B, D, H, seed=3, bias=True):
    """X, W_ih, b (or None), h0, c0, W_hh in float64, each requiring a gradient."""
    gen = torch.Generator().manual_seed(seed)
    shapes = [(T, B, D), (4 * H, D), (4 * H,), (B, H), (B, H), (4 * H, H)]
    X, W_ih, b, h0, c0, W_hh = (
        torch.randn(shape, generator=gen, dtype=F64).requires_grad_() for shape in shapes
    )
    return X, W_ih, b if bias else None, h0, c0, W_hh


def length_mask(T, lengths):
    """(T, B, 1) bool, True at real steps, or None."""
    if lengths is None:
        return None
    return (torch.arange(T).unsqueeze(1) < torch.tensor(lengths)).unsqueeze(2)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [3, 1, 2]])
@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck_of_the_function(reverse, lengths, bias):
    X, W_ih, b, h0, c0, W_hh = function_inputs(3, 3, 2, 2, bias=bias)
    mask = length_mask(3, lengths)
    weights = (X, W_ih, b) if bias else (X, W_ih)

    def f(*args):
        *projection, h0, c0, W_hh = args
        b = projection[2] if bias else None
        return lstm_layer(projection[0], projection[1], b, h0, c0, W_hh, mask, reverse)

    # check_undefined_grad (the default) also feeds None for each output in turn
    assert torch.autograd.gradcheck(f, (*weights, h0, c0, W_hh))


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [5, 2, 1]])
@pytest.mark.parametrize("chunk_steps", [1, 2, 3])
def test_backward_in_chunks_is_the_same(monkeypatch, reverse, lengths, chunk_steps):
    """The backward pass prepares its factors a chunk of steps at a time (CHUNK_FLOATS):
    chunks of 1, 2 or 3 of the 5 steps give exactly the gradients of one chunk for all."""
    import lstm_course.modules._fused_lstm as fused_lstm

    T, B, D, H = 5, 3, 2, 2
    inputs, mask = function_inputs(T, B, D, H), length_mask(T, lengths)
    G = torch.randn(T, B, H, dtype=F64)

    def grads():
        out, h_n, c_n = lstm_layer(*inputs, mask, reverse)
        loss = (out * G).sum() + h_n.sum() + (c_n * c_n).sum()
        return torch.autograd.grad(loss, inputs)

    whole = grads()
    monkeypatch.setattr(fused_lstm, "CHUNK_FLOATS", chunk_steps * B * 4 * H)
    for a, b in zip(whole, grads(), strict=True):
        assert torch.equal(a, b)


def test_function_matches_the_written_equations():
    """One layer, reversed, by hand: a_t = x_t W_ih^T + b + h W_hh^T; i, f, g, o; c; h."""
    T, B, D, H = 4, 2, 3, 3
    X, W_ih, b, h, c, W_hh = (x.detach() for x in function_inputs(T, B, D, H))
    out, h_n, c_n = LSTMLayerFunction.apply(X, W_ih, b, h, c, W_hh, None, True)
    for t in reversed(range(T)):
        a_i, a_f, a_g, a_o = (X[t] @ W_ih.T + b + h @ W_hh.T).chunk(4, dim=1)
        c = torch.sigmoid(a_f) * c + torch.sigmoid(a_i) * torch.tanh(a_g)
        h = torch.sigmoid(a_o) * torch.tanh(c)
        assert (out[t] - h).abs().max() < 1e-14
    assert (h_n - h).abs().max() < 1e-14 and (c_n - c).abs().max() < 1e-14


# -- which path runs ----------------------------------------------------------------------------


def test_dispatch_fused_by_default_eager_when_asked():
    X = torch.randn(4, 2, 3, dtype=F64)
    fused, eager, _ = triple(3, 4, num_layers=2)
    assert fused.fused and not eager.fused
    assert "fused=False" in repr(eager) and "fused" not in repr(fused)
    assert FUSED_NODE in graph_names(fused(X)[0])
    assert FUSED_NODE not in graph_names(eager(X)[0])


def test_dispatch_peephole_uses_the_eager_path():
    torch.manual_seed(0)
    a = LSTM(3, 4, num_layers=2, bidirectional=True, peephole=True, dtype=F64)
    b = LSTM(3, 4, num_layers=2, bidirectional=True, peephole=True, dtype=F64, fused=False)
    b.load_state_dict(a.state_dict())
    X = torch.randn(4, 2, 3, dtype=F64)
    out_a, (h_a, c_a) = a(X, lengths=[4, 2])
    out_b, (h_b, c_b) = b(X, lengths=[4, 2])
    assert FUSED_NODE not in graph_names(out_a)
    assert torch.equal(out_a, out_b) and torch.equal(h_a, h_b) and torch.equal(c_a, c_b)
    plain = LSTM(3, 4, num_layers=2, bidirectional=True, dtype=F64)
    plain.load_state_dict(a.state_dict(), strict=False)
    assert (plain(X)[0] - a(X)[0]).abs().max() > 1e-3  # the peepholes did act


def test_dispatch_record_gates_uses_the_eager_path():
    fused, _, _ = triple(3, 4, num_layers=2, bidirectional=True)
    X = torch.randn(4, 2, 3, dtype=F64)
    with fused.record_gates() as gates:
        out_rec, (h_rec, c_rec) = fused(X, lengths=[4, 3])
    assert FUSED_NODE not in graph_names(out_rec)
    out, (h_n, c_n) = fused(X, lengths=[4, 3])  # after the block: fused again
    assert FUSED_NODE in graph_names(out)
    for a, b in [(out_rec, out), (h_rec, h_n), (c_rec, c_n)]:
        assert (a - b).abs().max() < 1e-12
    g = gates[1, 0]
    assert (g["o"] * torch.tanh(g["c"]) - out_rec[..., :4].detach()).abs().max() < 1e-12


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("lengths", [None, [3, 1, 5]])
def test_cuda_fused_matches_cpu(lengths):
    fused, eager, _ = triple(3, 4, num_layers=2, bidirectional=True)
    gpu = LSTM(3, 4, num_layers=2, bidirectional=True, dtype=F64, device="cuda")
    gpu.load_state_dict(fused.state_dict())
    X = torch.randn(5, 3, 3, dtype=F64)
    G = [torch.randn(5, 3, 8, dtype=F64)] + [torch.randn(4, 3, 4, dtype=F64) for _ in range(2)]
    how = "fixed" if lengths is None else "lengths"
    a = run(gpu, X.cuda(), [], lengths, how, "all", [g.cuda() for g in G])
    assert a[0].device.type == "cuda" and FUSED_NODE in a[3]
    a = (a[0].cpu(), [s.cpu() for s in a[1]], [g.cpu() for g in a[2]], a[3])
    assert_same(a, run(eager, X, [], lengths, how, "all", G))
