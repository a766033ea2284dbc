"""lstm_course.analysis.cell_flow: Jacobian norms, Graves' deltas, the nngraph cell, peepholes."""

import numpy as np
import pytest
import torch

from lstm_course import modules
from lstm_course.analysis import cell_flow
from lstm_course.scratch.lstm import _cell_backward, lstm_step_forward


def test_forget_gate_products_by_hand():
    f = np.array([0.5, 0.8, 0.1]).reshape(3, 1, 1)  # f_1, f_2, f_3
    P = cell_flow.forget_gate_products(f)[:, 0, 0]
    np.testing.assert_allclose(P, [0.5 * 0.8 * 0.1, 0.8 * 0.1, 0.1, 1.0])


def test_lstm_jacobian_is_the_forget_gate_product_when_h_cannot_reach_the_gates():
    torch.manual_seed(0)
    lstm = modules.LSTM(2, 3, fused=False)
    with torch.no_grad():
        lstm.weight_hh_l0.zero_()  # the gates then ignore h: only the cell path is left
    X = torch.randn(15, 4, 2)
    with lstm.record_gates() as recorded:
        lstm(X)
    full = cell_flow.lstm_cell_jacobian_norms(lstm, X)
    np.testing.assert_allclose(full, cell_flow.belt_norms(recorded[0, 0]["f"]), rtol=1e-5)
    assert full[-1] == pytest.approx(1.0)
    assert np.all(np.diff(full) > 0)  # every step back multiplies by f < 1


def test_rnn_jacobian_of_a_scaled_identity_is_a_power():
    rnn = modules.RNN(1, 4)
    with torch.no_grad():
        for param in rnn.parameters():
            param.zero_()
        rnn.weight_hh_l0.copy_(0.5 * torch.eye(4))
    X = torch.zeros(10, 2, 1)  # h stays 0, where tanh' = 1
    norms = cell_flow.rnn_hidden_jacobian_norms(rnn, X)
    np.testing.assert_allclose(norms, 0.5 ** np.arange(10, -1, -1))


def test_forget_bias_slows_the_decay_along_the_cell():
    X = torch.randn(40, 8, 2, generator=torch.Generator().manual_seed(0))
    norms = {}
    for bias in (0.0, 3.0):
        torch.manual_seed(0)
        norms[bias] = cell_flow.lstm_cell_jacobian_norms(modules.LSTM(2, 8, forget_bias=bias), X)
    assert norms[3.0][0] > 1e3 * norms[0.0][0]


def _step(rng, B=3, D=2, H=4):
    p = {"W_x": rng.normal(size=(D, 4 * H)), "W_h": rng.normal(size=(H, 4 * H))}
    p["b"] = rng.normal(size=4 * H)
    x_t, h_prev, c_prev = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    return lstm_step_forward(x_t, h_prev, c_prev, p)[2]


def test_graves_deltas_are_what_cell_backward_computes(rng):
    cache = _step(rng)
    eps_c, dc_next = rng.normal(size=cache.c.shape), rng.normal(size=cache.c.shape)
    deltas = cell_flow.graves_deltas(eps_c, dc_next, cache)
    da, dc_prev = _cell_backward(
        eps_c, dc_next, cache.c_prev, cache.i, cache.f, cache.g, cache.o, cache.tanh_c
    )
    stacked = np.concatenate([deltas.delta_i, deltas.delta_f, deltas.delta_g, deltas.delta_o], 1)
    np.testing.assert_allclose(stacked, da, rtol=1e-12)
    np.testing.assert_allclose(cache.f * deltas.eps_s, dc_prev, rtol=1e-12)


def test_lstm_gradcheck_reports_tiny_errors_for_every_array():
    errors = cell_flow.lstm_gradcheck(T=3, B=2, D=2, H=3, seed=1)
    assert set(errors) == {"W_x", "W_h", "b", "X", "h0", "c0"}
    assert max(errors.values()) < 1e-7, errors


def test_nngraph_step_equals_our_lstm_cell():
    torch.manual_seed(0)
    step = cell_flow.NNGraphLSTMStep(3, 5)
    cell = step.copy_to(modules.LSTMCell(3, 5))
    x, h, c = torch.randn(4, 3), torch.randn(4, 5), torch.randn(4, 5)
    ours = cell(x, (h, c))
    theirs = step(x, h, c)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b)


def test_nngraph_network_equals_a_two_layer_lstm():
    torch.manual_seed(0)
    steps = [cell_flow.NNGraphLSTMStep(3, 4), cell_flow.NNGraphLSTMStep(4, 4)]
    lstm = modules.LSTM(3, 4, num_layers=2)
    for layer, step in enumerate(steps):
        step.copy_to(lstm, layer)
    x, h0, c0 = torch.randn(2, 3), torch.randn(2, 2, 4), torch.randn(2, 2, 4)
    top_h, next_s = cell_flow.nngraph_lstm_network(steps, x, [h0[0], c0[0], h0[1], c0[1]])
    output, (h_n, c_n) = lstm(x[None], (h0, c0))
    torch.testing.assert_close(top_h, output[0])
    torch.testing.assert_close(torch.stack(next_s[0::2]), h_n)
    torch.testing.assert_close(torch.stack(next_s[1::2]), c_n)


def test_only_peephole_gates_see_the_cell():
    torch.manual_seed(0)
    c_prev = np.linspace(-2, 2, 5)
    plain = cell_flow.gates_against_cell(modules.LSTM(2, 3), c_prev)
    assert np.ptp(plain.f, axis=0).max() == 0.0 and np.ptp(plain.o, axis=0).max() == 0.0
    lstm = modules.LSTM(2, 3, peephole=True)
    peep = cell_flow.gates_against_cell(lstm, c_prev)
    b = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().double().numpy()
    w_cf = lstm.weight_ch_l0[1].detach().double().numpy()
    expected_f = 1 / (1 + np.exp(-(b[3:6] + w_cf * c_prev[:, None])))
    np.testing.assert_allclose(peep.f, expected_f, rtol=1e-12)
