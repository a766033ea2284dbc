"""lstm_course.modules RNN/LSTM/GRU: torch.nn parity (values and every gradient) over layers,
directions, layouts, states and lengths; NumPy scratch; padding; dropout; LSTM extras; errors."""

import itertools

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstm_course.modules.recurrent import GRU, LSTM, RNN
from lstm_course.scratch.gradcheck import rel_error
from lstm_course.scratch.gru import gru_forward
from lstm_course.scratch.lstm import lstm_forward
from lstm_course.scratch.rnn import rnn_forward
from lstm_course.scratch.torch_params import params_from_torch

F64 = torch.float64
MODES = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
OURS = {"rnn_tanh": RNN, "rnn_relu": RNN, "lstm": LSTM, "gru": GRU}
THEIRS = {"rnn_tanh": torch.nn.RNN, "rnn_relu": torch.nn.RNN, "lstm": torch.nn.LSTM}
THEIRS["gru"] = torch.nn.GRU


def make(mode, D=3, H=4, seed=0, cls=None, **kwargs):
    """torch.nn's module of this mode in float64 under a seed (or ours, cls=OURS)."""
    if mode.startswith("rnn"):
        kwargs["nonlinearity"] = mode[4:]
    torch.manual_seed(seed)
    return (cls or THEIRS)[mode](D, H, dtype=F64, **kwargs)


def pair(mode, D=3, H=4, seed=0, **kwargs):
    """(ours, torch.nn's) with torch's weights loaded into ours."""
    theirs = make(mode, D, H, seed, **kwargs)
    ours = make(mode, D, H, seed + 1, OURS, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def states(out):
    """h_n or (h_n, c_n) as a tuple."""
    return out if isinstance(out, tuple) else (out,)


def leaf(shape, gen):
    return torch.randn(shape, generator=gen, dtype=F64).requires_grad_()


# The full grid: mode x layers x bidirectional x batch_first x initial state, times the three
# ways to give lengths (none, lengths=, PackedSequence) in the test: 288 cases in about 6 s.
GRID = list(itertools.product(MODES, [1, 2, 3], [False, True], [False, True], [False, True]))


def run(module, X, hx, lengths, how, G_out, G_state):
    """Forward and backward through one module; returns output, states, leaves, parameters.

    how: "fixed"; "lengths" (ours: lengths=..., torch.nn: packed); "packed" (both packed).
    """
    x, *state0 = (t.detach().clone().requires_grad_() for t in [X, *hx])
    leaves = [x, *state0]
    hx = None if not state0 else tuple(state0) if len(state0) == 2 else state0[0]
    batch_first = module.batch_first
    if how == "packed" or (how == "lengths" and isinstance(module, torch.nn.RNNBase)):
        packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        out, state_n = module(packed, hx)
        assert isinstance(out, PackedSequence)
        out, _ = pad_packed_sequence(
            out, batch_first=batch_first, total_length=X.shape[int(batch_first)]
        )
    elif how == "lengths":
        out, state_n = module(x, hx, lengths=lengths)
    else:
        out, state_n = module(x, hx)
    loss = (out * G_out).sum() + sum(
        (s * g).sum() for s, g in zip(states(state_n), G_state, strict=True)
    )
    loss.backward()
    return out, states(state_n), leaves, dict(module.named_parameters())


@pytest.mark.parametrize("how", ["fixed", "lengths", "packed"])
@pytest.mark.parametrize("mode,num_layers,bidirectional,batch_first,with_hx", GRID)
def test_matches_torch_nn(mode, num_layers, bidirectional, batch_first, with_hx, how):
    T, B, D, H = 5, 3, 3, 4
    kw = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    ours, theirs = pair(mode, D, H, **kw)
    gen = torch.Generator().manual_seed(num_layers * 7 + bidirectional)
    n_dir, n_states = (2 if bidirectional else 1), (2 if mode == "lstm" else 1)
    X = leaf((B, T, D) if batch_first else (T, B, D), gen)
    hx = [leaf((num_layers * n_dir, B, H), gen) for _ in range(n_states)] if with_hx else []
    lengths = torch.tensor([3, 1, T])  # unsorted, one full, one of length 1
    G_out = torch.randn(X.shape[:2] + (n_dir * H,), generator=gen, dtype=F64)
    G_state = [
        torch.randn(num_layers * n_dir, B, H, generator=gen, dtype=F64) for _ in range(n_states)
    ]

    out_a, st_a, in_a, par_a = run(ours, X, hx, lengths, how, G_out, G_state)
    out_b, st_b, in_b, par_b = run(theirs, X, hx, lengths, how, G_out, G_state)
    assert out_a.shape == out_b.shape
    assert (out_a - out_b).abs().max() < 1e-8
    for a, b in zip(st_a, st_b, strict=True):
        assert a.shape == b.shape and (a - b).abs().max() < 1e-8
    for a, b in zip(in_a, in_b, strict=True):
        assert rel_error(a.grad.numpy(), b.grad.numpy()) < 1e-7
    assert par_a.keys() == par_b.keys()
    for name in par_a:
        assert rel_error(par_a[name].grad.numpy(), par_b[name].grad.numpy()) < 1e-7, name


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_matches_torch_nn_without_bias(mode, bidirectional):
    ours, theirs = pair(mode, num_layers=2, bias=False, bidirectional=bidirectional)
    assert not any("bias" in name for name, _ in ours.named_parameters())
    X = torch.randn(4, 2, 3, dtype=F64)
    for a, b in zip(states(ours(X)[1]), states(theirs(X)[1]), strict=True):
        assert (a - b).abs().max() < 1e-8


@pytest.mark.parametrize("mode", MODES)
def test_state_dict_round_trip_both_ways(mode):
    kw = dict(num_layers=2, bidirectional=True)
    ours, theirs = make(mode, seed=1, cls=OURS, **kw), make(mode, seed=2, **kw)
    X = torch.randn(4, 2, 3, dtype=F64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())  # ours -> torch.nn
    assert (ours(X)[0] - theirs(X)[0]).abs().max() < 1e-8
    fresh = make(mode, seed=3, cls=OURS, **kw)
    fresh.load_state_dict(theirs.state_dict())  # torch.nn -> ours
    for (name, a), (_, b) in zip(
        fresh.state_dict().items(), theirs.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("with_hx", [False, True])
def test_unbatched_input(mode, with_hx):
    ours, theirs = pair(mode, num_layers=2, bidirectional=True)
    X = torch.randn(5, 3, dtype=F64)  # (T, D)
    hx = [torch.randn(4, 4, dtype=F64) for _ in range(2 if mode == "lstm" else 1)]
    hx = (tuple(hx) if mode == "lstm" else hx[0]) if with_hx else None
    out_a, st_a = ours(X, hx)
    out_b, st_b = theirs(X, hx)
    assert out_a.shape == (5, 8) and (out_a - out_b).abs().max() < 1e-8
    for a, b in zip(states(st_a), states(st_b), strict=True):
        assert a.shape == (4, 4) and (a - b).abs().max() < 1e-8


@pytest.mark.parametrize("mode", MODES)
def test_dropout_in_eval_mode_is_no_dropout(mode):
    with_dropout = make(mode, seed=0, cls=OURS, num_layers=3, dropout=0.5).eval()
    without = make(mode, seed=0, cls=OURS, num_layers=3)
    X = torch.randn(5, 2, 3, dtype=F64)
    assert torch.equal(with_dropout(X)[0], without(X)[0])


@pytest.mark.parametrize("mode", MODES)
def test_dropout_in_train_mode_is_torchs_between_layers(mode):
    """Under one seed torch.nn draws the same masks: so ours drops the same, between layers."""
    ours, theirs = pair(mode, num_layers=3, dropout=0.5, bidirectional=True)
    X = torch.randn(5, 2, 3, dtype=F64)
    torch.manual_seed(7)
    out_a, st_a = ours(X)
    torch.manual_seed(7)
    out_b, st_b = theirs(X)
    assert (out_a - out_b).abs().max() < 1e-8
    for a, b in zip(states(st_a), states(st_b), strict=True):
        assert (a - b).abs().max() < 1e-8
    assert (out_a - ours.eval()(X)[0]).abs().max() > 1e-3  # dropout was on
    if mode != "rnn_relu":  # not after the last layer: no output zeroed
        assert (out_a != 0).all()


@pytest.mark.parametrize("mode", MODES)
def test_dropout_with_one_layer_warns_and_does_nothing(mode):
    with pytest.warns(UserWarning, match="dropout"):
        ours = make(mode, cls=OURS, dropout=0.5)
    X = torch.randn(5, 2, 3, dtype=F64)
    assert torch.equal(ours.train()(X)[0], ours.eval()(X)[0])


SCRATCH = {"rnn_tanh": rnn_forward, "rnn_relu": rnn_forward, "lstm": lstm_forward}
SCRATCH["gru"] = gru_forward


@pytest.mark.parametrize("mode", MODES)
def test_matches_numpy_scratch(mode, rng):
    """Layer by layer, direction by direction, the NumPy reference on params_from_torch(ours)."""
    ours = make(mode, seed=4, cls=OURS, num_layers=2, bidirectional=True)
    X = rng.normal(size=(5, 2, 3))
    out, _ = ours(torch.tensor(X))
    extra = {"nonlinearity": mode[4:]} if mode.startswith("rnn") else {}
    layer_input = X
    for layer in range(2):
        outputs = []
        for direction in (0, 1):
            p = params_from_torch(ours, layer=layer, direction=direction)
            seq = layer_input if direction == 0 else layer_input[::-1].copy()
            H_all, _, _ = SCRATCH[mode](seq, None, p, **extra)
            outputs.append(H_all if direction == 0 else H_all[::-1])
        layer_input = np.concatenate(outputs, axis=2)
    np.testing.assert_allclose(out.detach().numpy(), layer_input, rtol=0, atol=1e-10)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_never_leaks(mode, bidirectional):
    ours = make(mode, cls=OURS, num_layers=2, bidirectional=bidirectional)
    T, B = 6, 3
    lengths = [2, 5, 1]  # max < T: step 6 is padding for all
    X = torch.randn(T, B, 3, dtype=F64)
    padded = torch.arange(T).unsqueeze(1) >= torch.tensor(lengths)  # (T, B)
    results = []
    for fill in [None, 100.0, float("nan")]:
        X_fill = X.clone()
        X_fill[padded] = torch.randn(int(padded.sum()), 3, dtype=F64) if fill is None else fill
        X_fill.requires_grad_()
        out, state_n = ours(X_fill, lengths=lengths)
        ours.zero_grad()
        (out.sum() + sum(s.sum() for s in states(state_n))).backward()
        grads = [p.grad.clone() for p in ours.parameters()]
        results.append((out, states(state_n), X_fill.grad, grads))
    out, st, dX, grads = results[0]
    assert (out[padded] == 0).all()
    assert (dX[padded] == 0).all()
    for out_k, st_k, dX_k, grads_k in results[1:]:
        assert torch.equal(out, out_k)
        assert all(torch.equal(a, b) for a, b in zip(st, st_k, strict=True))
        assert torch.equal(dX, dX_k)
        assert all(torch.equal(a, b) for a, b in zip(grads, grads_k, strict=True))
    # Each sequence alone, cut at its length, has the same outputs and final state.
    for b, n in enumerate(lengths):
        out_b, st_b = ours(X[:n, b : b + 1])
        assert (out_b[:, 0] - out[:n, b]).abs().max() < 1e-12
        for s, s_b in zip(st, states(st_b), strict=True):
            assert (s[:, b] - s_b[:, 0]).abs().max() < 1e-12


@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True)])
def test_lstm_forget_bias_starts_at_one(num_layers, bidirectional):
    H = 6
    lstm = LSTM(3, H, num_layers=num_layers, bidirectional=bidirectional, dtype=F64)
    biases = {n: p.detach() for n, p in lstm.named_parameters() if n.startswith("bias")}
    assert len(biases) == 2 * num_layers * (2 if bidirectional else 1)
    for name, b in biases.items():
        expected = 1.0 if "_ih_" in name else 0.0
        assert (b[H : 2 * H] == expected).all(), name
        rest = torch.cat([b[:H], b[2 * H :]])
        assert (rest.abs() <= H**-0.5).all() and rest.std() > 0.1, name  # torch's U(-k, k)
    assert (LSTM(3, H, forget_bias=2.5).bias_ih_l0[H : 2 * H] == 2.5).all()


@pytest.mark.parametrize("mode,peephole", [(mode, False) for mode in MODES] + [("lstm", True)])
def test_same_seed_same_initial_weights_as_torch(mode, peephole):
    """forget_bias=None: torch's initialisation exactly; peepholes are drawn after the rest."""
    kw = dict(num_layers=2, bidirectional=True)
    extra = {"forget_bias": None, "peephole": peephole} if mode == "lstm" else {}
    ours = make(mode, seed=5, cls=OURS, **kw, **extra)
    theirs = make(mode, seed=5, **kw)
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name


def test_peephole_parameters_and_equations():
    T, B, D, H = 4, 2, 3, 5
    lstm = LSTM(D, H, num_layers=2, bidirectional=True, peephole=True, dtype=F64)
    peep = {n: p for n, p in lstm.named_parameters() if n.startswith("weight_ch")}
    assert sorted(peep) == sorted(f"weight_ch_l{k}{s}" for k in (0, 1) for s in ("", "_reverse"))
    assert all(
        p.shape == (3, H) and (p.abs() <= H**-0.5).all() and p.std() > 0 for p in peep.values()
    )
    plain = LSTM(D, H, num_layers=2, bidirectional=True, dtype=F64)
    plain.load_state_dict(lstm.state_dict(), strict=False)  # the same weights, no peepholes
    X = torch.randn(T, B, D, dtype=F64)
    assert (lstm(X)[0] - plain(X)[0]).abs().max() > 1e-3

    # The equations by hand, for a one-layer peephole LSTM.
    one = LSTM(D, H, peephole=True, dtype=F64)
    W_ih, W_hh, b_ih, b_hh, W_ch = (p.detach() for p in one.parameters())
    h, c = torch.zeros(B, H, dtype=F64), torch.zeros(B, H, dtype=F64)
    for t in range(T):
        a_i, a_f, a_g, a_o = (X[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
        i, f = torch.sigmoid(a_i + W_ch[0] * c), torch.sigmoid(a_f + W_ch[1] * c)
        c = f * c + i * torch.tanh(a_g)
        h = torch.sigmoid(a_o + W_ch[2] * c) * torch.tanh(c)
    _, (h_n, c_n) = one(X)
    assert (h_n[0] - h).abs().max() < 1e-12 and (c_n[0] - c).abs().max() < 1e-12


@pytest.mark.parametrize("lengths", [None, [3, 2]])
def test_peephole_lstm_gradcheck(lengths):
    lstm = LSTM(2, 2, num_layers=2, bidirectional=True, peephole=True, dtype=F64)
    names = [n for n, _ in lstm.named_parameters()]
    X, h0, c0 = (
        torch.randn(s, dtype=F64, requires_grad=True) for s in [(3, 2, 2), (4, 2, 2), (4, 2, 2)]
    )

    def f(X, h0, c0, *params):
        out, (h_n, c_n) = torch.func.functional_call(
            lstm, dict(zip(names, params, strict=True)), (X, (h0, c0)), {"lengths": lengths}
        )
        return out, h_n, c_n

    params = [p.detach().clone().requires_grad_() for p in lstm.parameters()]
    assert torch.autograd.gradcheck(f, (X, h0, c0, *params))


@pytest.mark.parametrize("mode", ["lstm", "gru"])
@pytest.mark.parametrize("lengths", [None, [4, 2]])
def test_record_gates_reproduces_h(mode, lengths):
    T, B, H = 4, 2, 5
    module = make(mode, H=H, cls=OURS, num_layers=2, bidirectional=True, batch_first=True)
    X = torch.randn(B, T, 3, dtype=F64, requires_grad=True)
    with module.record_gates() as gates:
        out, state_n = module(X, lengths=lengths)
    module(X)  # after the block nothing is recorded
    assert sorted(gates) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    names = "ifgoc" if mode == "lstm" else "rzn"
    for trace in gates.values():
        assert sorted(trace) == sorted(names)
        assert all(v.shape == (T, B, H) and not v.requires_grad for v in trace.values())
    out = out.detach().transpose(0, 1)  # time-major, like the recorded gates
    for direction in (0, 1):
        g = gates[1, direction]
        h = out[..., direction * H : (direction + 1) * H]
        if mode == "lstm":
            assert (g["o"] * torch.tanh(g["c"]) - h).abs().max() < 1e-12
        else:  # h_t = (1 - z) * n + z * h_{t-1}, h_{t-1} the neighbour in reading order
            h_prev = torch.zeros_like(h)  # h_0 = 0; outputs at padded steps are 0 too
            if direction == 0:
                h_prev[1:] = h[:-1]
            else:
                h_prev[:-1] = h[1:]
            assert ((1 - g["z"]) * g["n"] + g["z"] * h_prev - h).abs().max() < 1e-12
        if lengths is not None:
            assert (g[names[0]][2:, 1] == 0).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("mode", MODES)
def test_cuda_matches_cpu(mode):
    ours = make(mode, cls=OURS, num_layers=2, bidirectional=True)
    gpu = make(mode, cls=OURS, num_layers=2, bidirectional=True, device="cuda")
    gpu.load_state_dict(ours.state_dict())
    X = torch.randn(5, 3, 3, dtype=F64)
    for lengths in [None, [3, 1, 5]]:
        out, st = ours(X, lengths=lengths)
        out_gpu, st_gpu = gpu(X.cuda(), lengths=lengths)
        assert out_gpu.device.type == "cuda" and (out_gpu.cpu() - out).abs().max() < 1e-8
        for a, b in zip(states(st), states(st_gpu), strict=True):
            assert (b.cpu() - a).abs().max() < 1e-8
        out_gpu.sum().backward()
    packed = pack_padded_sequence(X.cuda(), [3, 1, 5], enforce_sorted=False)
    assert gpu(packed)[0].data.device.type == "cuda"


def test_device_and_dtype_reach_every_parameter():
    lstm = LSTM(3, 4, num_layers=2, bidirectional=True, peephole=True, device="meta", dtype=F64)
    assert all(p.device.type == "meta" and p.dtype == F64 for p in lstm.parameters())
    assert all(p.dtype == torch.float32 for p in GRU(3, 4).parameters())


H0 = torch.zeros(1, 3, 4)
X0 = torch.zeros(5, 3, 2)


@pytest.mark.parametrize(
    "build,call,error,pattern",
    [
        (
            lambda: RNN(2, 4),
            lambda m: m(torch.zeros(5, 3, 3)),
            ValueError,
            r"input must have D = input_size = 2 .* got shape \(5, 3, 3\)",
        ),
        (
            lambda: GRU(2, 4),
            lambda m: m(torch.zeros(5, 3, 2, 1)),
            ValueError,
            r"input must have 3 dimensions \(T, B, D\) or 2 .* got shape \(5, 3, 2, 1\)",
        ),
        (
            lambda: GRU(2, 4, batch_first=True),
            lambda m: m(torch.zeros(3)),
            ValueError,
            r"\(B, T, D\)",
        ),
        (lambda: RNN(2, 4), lambda m: m([[0.0, 0.0]]), TypeError, r"input must be a torch.Tensor"),
        (lambda: RNN(2, 4), lambda m: m(X0.double()), TypeError, r"dtype torch.float64 but"),
        (
            lambda: GRU(2, 4, num_layers=2),
            lambda m: m(X0, H0),
            ValueError,
            r"hx \(h_0\) must have shape \(num_layers \* num_directions, B, H\) = \(2, 3, 4\), "
            r"got \(1, 3, 4\)",
        ),
        (lambda: LSTM(2, 4), lambda m: m(X0, H0), TypeError, r"tuple \(h_0, c_0\)"),
        (
            lambda: LSTM(2, 4),
            lambda m: m(X0, (H0, torch.zeros(1, 2, 4))),
            ValueError,
            r"hx\[1\] \(c_0\) must have shape .* = \(1, 3, 4\), got \(1, 2, 4\)",
        ),
        (lambda: RNN(2, 4), lambda m: m(X0[:, 0], H0), ValueError, r"= \(1, 4\), got \(1, 3, 4\)"),
        (
            lambda: LSTM(2, 4),
            lambda m: m(X0, lengths=[5, 0, 2]),
            ValueError,
            r"every length must be in \[1, T\] = \[1, 5\], got \[5, 0, 2\]",
        ),
        (lambda: LSTM(2, 4), lambda m: m(X0, lengths=[6, 1, 2]), ValueError, r"\[1, 5\]"),
        (
            lambda: LSTM(2, 4),
            lambda m: m(X0, lengths=[5, 1]),
            ValueError,
            r"lengths must have shape \(B,\) = \(3,\)",
        ),
        (lambda: LSTM(2, 4), lambda m: m(X0, lengths=torch.ones(3)), TypeError, r"integers"),
        (
            lambda: LSTM(2, 4),
            lambda m: m(pack_padded_sequence(X0, [5, 2, 1]), lengths=[5, 2, 1]),
            ValueError,
            r"carries its lengths",
        ),
        (lambda: LSTM(2, 4, proj_size=2), None, ValueError, r"proj_size=2 is not supported"),
        (lambda: RNN(2, 4, nonlinearity="sigmoid"), None, ValueError, r"nonlinearity"),
        (lambda: GRU(2, 0), None, ValueError, r"hidden_size must be greater than zero"),
        (lambda: GRU(2.0, 3), None, TypeError, r"input_size must be an int"),
        (lambda: LSTM(2, 3, num_layers=2, dropout=1.5), None, ValueError, r"dropout"),
        (lambda: LSTM(2, 3, forget_bias="1"), None, TypeError, r"forget_bias"),
    ],
)
def test_errors_name_the_argument(build, call, error, pattern):
    with pytest.raises(error, match=pattern):
        module = build()
        if call is not None:
            call(module)
