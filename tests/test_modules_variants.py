"""modules.variants.LSTMVariant: vanilla equals modules.LSTM (values and gradients), each variant
computes its equations (checked against a NumPy reference), its gates and its initialisation."""

import numpy as np
import pytest
import torch

from lstm_course.modules.cells import lstm_cell
from lstm_course.modules.recurrent import LSTM
from lstm_course.modules.variants import GATES, VARIANTS, LSTMVariant, lstm_variant_cell

F64 = torch.float64


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def reference(X, module, variant):
    """The variant's equations written out in NumPy with one weight block per gate."""
    H = module.hidden_size
    W_ih = module.weight_ih_l0.detach().numpy()
    W_hh = module.weight_hh_l0.detach().numpy()
    b = (module.bias_ih_l0 + module.bias_hh_l0).detach().numpy()
    rows = {name: slice(k * H, (k + 1) * H) for k, name in enumerate(GATES[variant])}
    h = c = np.zeros((X.shape[1], H))
    outputs = []
    for x_t in X.numpy():

        def a(name, h=h, x_t=x_t):
            s = rows[name]
            return x_t @ W_ih[s].T + h @ W_hh[s].T + b[s]

        i = sigmoid(a("i")) if "i" in rows else 1.0
        f = 1.0 - i if variant == "CIFG" else (sigmoid(a("f")) if "f" in rows else 1.0)
        g = np.tanh(a("g"))
        o = sigmoid(a("o")) if "o" in rows else 1.0
        c = f * c + i * g
        h = o * (c if variant == "NOAF" else np.tanh(c))
        outputs.append(h)
    return np.stack(outputs), h, c


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_computes_its_equations(variant):
    torch.manual_seed(0)
    module = LSTMVariant(3, 4, variant, dtype=F64)
    X = torch.randn(7, 2, 3, dtype=F64)
    output, (h_n, c_n) = module(X)
    out_ref, h_ref, c_ref = reference(X, module, variant)
    np.testing.assert_allclose(output.detach().numpy(), out_ref, atol=1e-12)
    np.testing.assert_allclose(h_n[0].detach().numpy(), h_ref, atol=1e-12)
    np.testing.assert_allclose(c_n[0].detach().numpy(), c_ref, atol=1e-12)


@pytest.mark.parametrize("fused", [True, False])
def test_vanilla_equals_lstm_on_the_same_weights(fused):
    torch.manual_seed(1)
    theirs = LSTM(3, 5, num_layers=2, bidirectional=True, dtype=F64)
    ours = LSTMVariant(3, 5, "vanilla", num_layers=2, bidirectional=True, fused=fused, dtype=F64)
    ours.load_state_dict(theirs.state_dict())
    X = torch.randn(6, 3, 3, dtype=F64, requires_grad=True)
    lengths = [6, 4, 2]
    out_a, (h_a, c_a) = ours(X, lengths=lengths)
    out_b, (h_b, c_b) = theirs(X, lengths=lengths)
    for a, b in [(out_a, out_b), (h_a, h_b), (c_a, c_b)]:
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    grads_a = torch.autograd.grad((out_a**2).sum() + h_a.sum(), [X, *ours.parameters()])
    grads_b = torch.autograd.grad((out_b**2).sum() + h_b.sum(), [X, *theirs.parameters()])
    for a, b in zip(grads_a, grads_b, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_vanilla_starts_like_lstm_under_the_same_seed():
    torch.manual_seed(2)
    theirs = LSTM(3, 4, forget_bias=1.0)
    torch.manual_seed(2)
    ours = LSTMVariant(3, 4)
    for (name_a, a), (name_b, b) in zip(
        ours.named_parameters(), theirs.named_parameters(), strict=True
    ):
        assert name_a == name_b
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_variant_cell_vanilla_is_lstm_cell():
    gen = torch.Generator().manual_seed(3)
    gx, h, c = (torch.randn(2, n, generator=gen, dtype=F64) for n in (16, 4, 4))
    W_hh = torch.randn(16, 4, generator=gen, dtype=F64)
    for a, b in zip(lstm_variant_cell(gx, h, c, W_hh), lstm_cell(gx, h, c, W_hh), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_recorded_gates_and_sizes(variant):
    torch.manual_seed(4)
    module = LSTMVariant(2, 6, variant)
    assert module.weight_ih_l0.shape == (len(GATES[variant]) * 6, 2)
    assert module.weight_hh_l0.shape == (len(GATES[variant]) * 6, 6)
    with module.record_gates() as gates:
        output, _ = module(torch.randn(5, 3, 2))
    i, f, o, c = (gates[0, 0][name] for name in "ifoc")
    assert torch.all(i == 1) == (variant == "NIG")
    assert torch.all(f == 1) == (variant == "NFG")
    assert torch.all(o == 1) == (variant == "NOG")
    assert torch.allclose(f, 1 - i) == (variant == "CIFG")
    squashed = torch.tanh(c) if variant != "NOAF" else c
    torch.testing.assert_close(output, o * squashed)


@pytest.mark.parametrize(
    ("variant", "slot", "value"),
    [("vanilla", 1, 1.5), ("NIG", 0, 1.5), ("NOG", 1, 1.5), ("NOAF", 1, 1.5), ("CIFG", 0, -1.5)],
)
def test_forget_bias_sits_on_the_forget_gate(variant, slot, value):
    H = 5
    module = LSTMVariant(2, H, variant, forget_bias=1.5, num_layers=2)
    for layer in range(2):
        b_ih = getattr(module, f"bias_ih_l{layer}").detach()
        b_hh = getattr(module, f"bias_hh_l{layer}").detach()
        assert torch.all(b_ih[slot * H : (slot + 1) * H] == value)
        assert torch.all(b_hh[slot * H : (slot + 1) * H] == 0)
        others = torch.cat([b_ih[: slot * H], b_ih[(slot + 1) * H :]])
        assert others.abs().max() <= 1 / H**0.5  # torch's uniform initialisation elsewhere


def test_cifg_forget_gate_starts_at_sigma_of_the_bias():
    module = LSTMVariant(2, 8, "CIFG", forget_bias=1.0)
    with torch.no_grad():
        for name, weight in module.named_parameters():
            if name.startswith("weight") or name.startswith("bias_hh"):
                weight.zero_()
            else:  # keep only the forget-bias slot of bias_ih
                weight[8:].zero_()
    with module.record_gates() as gates:
        module(torch.randn(3, 2, 2))
    torch.testing.assert_close(
        gates[0, 0]["f"], torch.full((3, 2, 8), torch.sigmoid(torch.tensor(1.0)).item())
    )


def test_nfg_ignores_forget_bias_and_none_keeps_torch_init():
    torch.manual_seed(5)
    a = LSTMVariant(2, 4, "NFG", forget_bias=3.0)
    torch.manual_seed(5)
    b = LSTMVariant(2, 4, "NFG", forget_bias=None)
    for x, y in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)


def test_variants_train():
    torch.manual_seed(6)
    module = LSTMVariant(2, 4, "CIFG")
    X = torch.randn(5, 2, 2)
    module(X)[0].sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in module.parameters())
    assert module.weight_hh_l0.grad.abs().sum() > 0


def test_errors_and_repr():
    with pytest.raises(ValueError, match="variant must be one of"):
        LSTMVariant(2, 4, "NXG")
    with pytest.raises(ValueError, match="peephole"):
        LSTMVariant(2, 4, "NIG", peephole=True)
    assert "variant='NOG'" in repr(LSTMVariant(2, 4, "NOG"))
