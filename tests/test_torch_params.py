"""params_from_torch / params_to_torch: layout, layers, directions, biases, round trips, errors."""

import numpy as np
import pytest
import torch

from lstm_course.scratch.gru import gru_forward
from lstm_course.scratch.lstm import lstm_forward
from lstm_course.scratch.rnn import rnn_forward
from lstm_course.scratch.torch_params import params_from_torch, params_to_torch

FORWARD = {"rnn": rnn_forward, "lstm": lstm_forward, "gru": gru_forward}
MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_layout_and_bias_sum(kind):
    torch.manual_seed(0)
    module = MODULES[kind](3, 5).double()
    p = params_from_torch(module)
    k = GATES[kind]
    assert p["W_x"].shape == (3, k * 5) and p["W_h"].shape == (5, k * 5)
    np.testing.assert_array_equal(p["W_x"], module.weight_ih_l0.detach().numpy().T)
    if kind == "gru":
        np.testing.assert_array_equal(p["b_x"], module.bias_ih_l0.detach().numpy())
        np.testing.assert_array_equal(p["b_h"], module.bias_hh_l0.detach().numpy())
    else:
        both = module.bias_ih_l0 + module.bias_hh_l0
        np.testing.assert_array_equal(p["b"], both.detach().numpy())
    assert p["W_x"].dtype == np.float64
    p["W_x"][0, 0] += 1.0  # a copy: changing it does not touch the module
    assert module.weight_ih_l0[0, 0].item() != p["W_x"][0, 0]


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_every_layer_and_direction_of_a_deep_bidirectional_module(kind, rng):
    """Feeding layer l's input through our forward with layer l's weights gives torch's output."""
    torch.manual_seed(1)
    T, B, D, H = 4, 2, 3, 5
    module = MODULES[kind](D, H, num_layers=2, bidirectional=True).double()
    X = rng.normal(size=(T, B, D))
    out, _ = module(torch.tensor(X))
    # Layer 0's forward direction fills out[..., :H]; its reverse direction reads X backwards.
    layer_input = X
    for layer in range(2):
        outputs = []
        for direction in (0, 1):
            p = params_from_torch(module, layer=layer, direction=direction)
            seq = layer_input if direction == 0 else layer_input[::-1].copy()
            H_all, _, _ = FORWARD[kind](seq, None, p)
            outputs.append(H_all if direction == 0 else H_all[::-1])
        layer_input = np.concatenate(outputs, axis=2)
    np.testing.assert_allclose(layer_input, out.detach().numpy(), rtol=0, atol=1e-8)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_round_trip_and_same_outputs(kind, rng):
    torch.manual_seed(2)
    source = MODULES[kind](3, 4).double()
    target = MODULES[kind](3, 4).double()
    p = params_from_torch(source)
    params_to_torch(p, target)
    for key, value in params_from_torch(target).items():
        np.testing.assert_allclose(value, p[key], rtol=0, atol=1e-15)
    X = torch.tensor(rng.normal(size=(6, 2, 3)))
    np.testing.assert_allclose(
        target(X)[0].detach().numpy(), source(X)[0].detach().numpy(), rtol=0, atol=1e-12
    )
    if kind != "gru":  # our single bias went into bias_ih, and bias_hh is zero
        assert torch.count_nonzero(target.bias_hh_l0) == 0


def test_cells_and_float32(rng):
    torch.manual_seed(3)
    cell = torch.nn.GRUCell(3, 4)
    p = params_from_torch(cell)
    assert set(p) == {"W_x", "W_h", "b_x", "b_h"} and p["W_x"].dtype == np.float32
    params_to_torch({k: v * 2 for k, v in p.items()}, cell)
    np.testing.assert_allclose(cell.weight_hh.detach().numpy().T, 2 * p["W_h"], rtol=1e-6)
    with pytest.raises(ValueError, match="a cell has one layer"):
        params_from_torch(cell, layer=1)


def test_bias_false():
    module = torch.nn.LSTM(3, 4, bias=False).double()
    p = params_from_torch(module)
    np.testing.assert_array_equal(p["b"], np.zeros(16))
    params_to_torch(p, module)
    with pytest.raises(ValueError, match="bias=False"):
        params_to_torch({**p, "b": np.ones(16)}, module)


def test_errors_name_the_problem():
    lstm = torch.nn.LSTM(3, 4, num_layers=2).double()
    with pytest.raises(ValueError, match=r"LSTM has no layer 2 direction 0 \(num_layers=2"):
        params_from_torch(lstm, layer=2)
    with pytest.raises(ValueError, match="no layer 0 direction 1"):
        params_from_torch(lstm, direction=1)
    with pytest.raises(ValueError, match="direction must be 0"):
        params_from_torch(lstm, direction=2)
    with pytest.raises(ValueError, match="proj_size"):
        params_from_torch(torch.nn.LSTM(3, 4, proj_size=2))
    with pytest.raises(TypeError, match="expected an RNN, LSTM or GRU module, got Linear"):
        params_from_torch(torch.nn.Linear(3, 4))
    p = params_from_torch(lstm)
    with pytest.raises(ValueError, match=r"p\['W_h'\] must have shape \(4, 16\), got \(4, 12\)"):
        params_to_torch({**p, "W_h": np.zeros((4, 12))}, lstm)
    with pytest.raises(ValueError, match=r"exactly the keys \['W_h', 'W_x', 'b'\]"):
        params_to_torch({"W_x": p["W_x"]}, lstm)
