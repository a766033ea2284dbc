"""lstm_course.modules cells: torch.nn cell parity (values and gradients), gradcheck, unbatched
inputs, the NumPy scratch step, step loop == sequence module, forget bias, peepholes, errors."""

import numpy as np
import pytest
import torch

from lstm_course.modules.cells import GRUCell, LSTMCell, RNNCell, lstm_cell
from lstm_course.modules.recurrent import GRU, LSTM, RNN
from lstm_course.scratch.gradcheck import rel_error
from lstm_course.scratch.gru import gru_step_forward
from lstm_course.scratch.lstm import lstm_step_forward
from lstm_course.scratch.rnn import rnn_step_forward
from lstm_course.scratch.torch_params import params_from_torch

F64 = torch.float64
KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
OURS = {"rnn_tanh": RNNCell, "rnn_relu": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
THEIRS = {"rnn_tanh": torch.nn.RNNCell, "rnn_relu": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell}
THEIRS["gru"] = torch.nn.GRUCell


def make(kind, D=3, H=4, seed=0, cls=None, **kwargs):
    if kind.startswith("rnn"):
        kwargs["nonlinearity"] = kind[4:]
    torch.manual_seed(seed)
    return (cls or THEIRS)[kind](D, H, dtype=F64, **kwargs)


def pair(kind, **kwargs):
    theirs = make(kind, **kwargs)
    ours = make(kind, seed=1, cls=OURS, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
def test_matches_torch_cell(kind, bias, batched, with_hx):
    ours, theirs = pair(kind, bias=bias)
    gen = torch.Generator().manual_seed(3)
    B = (3,) if batched else ()
    x = torch.randn(B + (3,), generator=gen, dtype=F64)
    hx = [torch.randn(B + (4,), generator=gen, dtype=F64) for _ in range(1 + (kind == "lstm"))]
    upstream = [torch.randn(B + (4,), generator=gen, dtype=F64) for _ in hx]
    results = []
    for cell in (ours, theirs):
        leaves = [t.clone().requires_grad_() for t in [x, *hx]]
        state = None if not with_hx else tuple(leaves[1:]) if kind == "lstm" else leaves[1]
        out = as_tuple(cell(leaves[0], state))
        sum((o * g).sum() for o, g in zip(out, upstream, strict=True)).backward()
        grads = [t.grad for t in leaves[: 1 + len(hx) * with_hx]]
        grads += [p.grad for p in cell.parameters()]
        results.append((out, grads))
    (out_a, grads_a), (out_b, grads_b) = results
    for a, b in zip(out_a, out_b, strict=True):
        assert a.shape == b.shape == B + (4,) and (a - b).abs().max() < 1e-12
    for a, b in zip(grads_a, grads_b, strict=True):
        assert rel_error(a.numpy(), b.numpy()) < 1e-10


@pytest.mark.parametrize("kind", KINDS + ["lstm_peephole"])
def test_cell_gradcheck(kind):
    peephole = kind == "lstm_peephole"
    kind = "lstm" if peephole else kind
    cell = make(kind, D=2, H=3, cls=OURS, **({"peephole": True} if peephole else {}))
    names = [n for n, _ in cell.named_parameters()]
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(2, 2, generator=gen, dtype=F64)
    hx = [torch.randn(2, 3, generator=gen, dtype=F64) for _ in range(1 + (kind == "lstm"))]

    def f(x, *rest):
        state = tuple(rest[: len(hx)]) if kind == "lstm" else rest[0]
        params = dict(zip(names, rest[len(hx) :], strict=True))
        return torch.func.functional_call(cell, params, (x, state))

    inputs = [t.requires_grad_() for t in [x, *hx]]
    inputs += [p.detach().clone().requires_grad_() for p in cell.parameters()]
    assert torch.autograd.gradcheck(f, tuple(inputs))


SCRATCH = {"rnn_tanh": rnn_step_forward, "rnn_relu": rnn_step_forward}
SCRATCH.update(lstm=lstm_step_forward, gru=gru_step_forward)


@pytest.mark.parametrize("kind", KINDS)
def test_matches_numpy_scratch_step(kind, rng):
    cell = make(kind, cls=OURS)
    x, h, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    p = params_from_torch(cell)
    if kind == "lstm":
        h_ref, c_ref, _ = lstm_step_forward(x, h, c, p)
        h_new, c_new = cell(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
        np.testing.assert_allclose(c_new.detach().numpy(), c_ref, rtol=0, atol=1e-12)
    else:
        extra = {"nonlinearity": kind[4:]} if kind.startswith("rnn") else {}
        h_ref, _ = SCRATCH[kind](x, h, p, **extra)
        h_new = cell(torch.tensor(x), torch.tensor(h))
    np.testing.assert_allclose(h_new.detach().numpy(), h_ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_step_loop_equals_sequence_module(kind):
    """A cell looped over time, with a sequence module's layer-0 weights, gives its output."""
    seq_cls = {"rnn_tanh": RNN, "rnn_relu": RNN, "lstm": LSTM, "gru": GRU}[kind]
    extra = {"nonlinearity": kind[4:]} if kind.startswith("rnn") else {}
    module = seq_cls(3, 4, dtype=F64, **extra)
    cell = make(kind, cls=OURS)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in module.state_dict().items()})
    X = torch.randn(5, 2, 3, dtype=F64)
    out, _ = module(X)
    state = None
    for t in range(5):
        state = cell(X[t], state)
        h = state[0] if kind == "lstm" else state
        assert (h - out[t]).abs().max() < 1e-12


def test_lstm_cell_forget_bias_and_peephole():
    H = 4
    cell = LSTMCell(3, H, peephole=True)
    assert (cell.bias_ih[H : 2 * H] == 1).all() and (cell.bias_hh[H : 2 * H] == 0).all()
    assert cell.weight_ch.shape == (3, H) and cell.weight_ch.abs().max() > 0
    torch.manual_seed(6)
    theirs = torch.nn.LSTMCell(3, H)
    torch.manual_seed(6)
    ours = LSTMCell(3, H, forget_bias=None, peephole=True)  # peepholes are drawn last
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name
    x, h, c = torch.randn(2, 3), torch.randn(2, H), torch.randn(2, H)
    plain = LSTMCell(3, H)
    plain.load_state_dict(ours.state_dict(), strict=False)
    assert (ours(x, (h, c))[0] - plain(x, (h, c))[0]).abs().max() > 1e-4


def test_b_hh_folded_into_gx_is_the_same_step():
    """The sequence modules add b_hh to the input projection once; the cell adds it per step."""
    gen = torch.Generator().manual_seed(7)
    gx, h, c = (torch.randn(2, n, generator=gen, dtype=F64) for n in (16, 4, 4))
    W_hh, b_hh = torch.randn(16, 4, generator=gen, dtype=F64), torch.randn(16, dtype=F64)
    a = lstm_cell(gx, h, c, W_hh, b_hh)
    b = lstm_cell(gx + b_hh, h, c, W_hh)
    for u, v in zip(a[:2] + tuple(a[2]), b[:2] + tuple(b[2]), strict=True):
        assert (u - v).abs().max() < 1e-12


@pytest.mark.parametrize(
    "build,call,error,pattern",
    [
        (
            lambda: RNNCell(2, 4),
            lambda m: m(torch.zeros(3, 3)),
            ValueError,
            r"RNNCell: input must have D = input_size = 2 .* got shape \(3, 3\)",
        ),
        (
            lambda: GRUCell(2, 4),
            lambda m: m(torch.zeros(1, 3, 2)),
            ValueError,
            r"input must have 2 dimensions \(B, D\) or 1 for an unbatched input \(D\)",
        ),
        (
            lambda: GRUCell(2, 4),
            lambda m: m(torch.zeros(3, 2), torch.zeros(2, 4)),
            ValueError,
            r"hx must have shape \(B, H\) = \(3, 4\), got \(2, 4\)",
        ),
        (
            lambda: GRUCell(2, 4),
            lambda m: m(torch.zeros(2), torch.zeros(1, 4)),
            ValueError,
            r"hx must have shape \(H\) = \(4,\), got \(1, 4\)",
        ),
        (
            lambda: LSTMCell(2, 4),
            lambda m: m(torch.zeros(3, 2), torch.zeros(3, 4)),
            TypeError,
            r"hx must be a tuple \(h, c\)",
        ),
        (
            lambda: LSTMCell(2, 4),
            lambda m: m(torch.zeros(3, 2), (torch.zeros(3, 4), torch.zeros(3, 5))),
            ValueError,
            r"hx\[1\] \(c\) must have shape \(B, H\) = \(3, 4\), got \(3, 5\)",
        ),
        (
            lambda: RNNCell(2, 4),
            lambda m: m(torch.zeros(3, 2, dtype=F64)),
            TypeError,
            r"input has dtype torch.float64 but the parameters have torch.float32",
        ),
        (lambda: RNNCell(2, 4, nonlinearity="gelu"), None, ValueError, r"nonlinearity"),
        (lambda: GRUCell(0, 4), None, ValueError, r"input_size must be greater than zero"),
        (lambda: GRUCell(2, 4, bias=1), None, TypeError, r"bias must be a bool"),
    ],
)
def test_errors_name_the_argument(build, call, error, pattern):
    with pytest.raises(error, match=pattern):
        module = build()
        if call is not None:
            call(module)
