"""The unrolled RNN of lecture 1: the by-hand example, one unit's memory, drawings, the widget."""

import math

import matplotlib
import numpy as np
import pytest

from lstm_course.scratch.rnn import rnn_forward
from lstm_course.widgets import unrolling

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def test_by_hand_equals_rnn_forward(rng):
    T, D, H = 4, 2, 3
    X = rng.standard_normal((T, 1, D))
    h0 = rng.standard_normal((1, H))
    p = {
        "W_x": rng.standard_normal((D, H)),
        "W_h": rng.standard_normal((H, H)),
        "b": rng.standard_normal(H),
    }
    steps = unrolling.rnn_by_hand(
        X[:, 0].tolist(), h0[0].tolist(), p["W_x"].tolist(), p["W_h"].tolist(), p["b"].tolist()
    )
    H_all, _, _ = rnn_forward(X, h0, p)
    np.testing.assert_allclose([s["h"] for s in steps], H_all[:, 0], atol=1e-12, rtol=0)
    a_1 = X[0, 0] @ p["W_x"] + h0[0] @ p["W_h"] + p["b"]
    np.testing.assert_allclose(steps[0]["a"], a_1, atol=1e-12, rtol=0)


def test_state_trace_without_recurrence_is_tanh_of_the_input():
    x = unrolling.input_sequence("noise", 10, seed=2)
    np.testing.assert_allclose(unrolling.state_trace(x, 1.7, 0.0), np.tanh(1.7 * x), atol=1e-15)


def test_state_trace_starts_from_h0_and_adds_the_bias():
    h = unrolling.state_trace([0.5, -1.0], w_x=0.3, w_h=0.8, b=0.1, h0=0.4)
    h_1 = math.tanh(0.5 * 0.3 + 0.4 * 0.8 + 0.1)
    assert h[0] == pytest.approx(h_1) and h[1] == pytest.approx(math.tanh(-0.3 + 0.8 * h_1 + 0.1))


@pytest.mark.parametrize("w_h", [0.5, 0.9, -0.8])
def test_a_small_pulse_fades_like_w_h_to_the_power_t(w_h):
    """Eq. (1.4): with tanh(a) ~ a, h_t = w_h^(t-1) w_x for the pulse x_1 = 1."""
    w_x, T = 1e-4, 15
    h = unrolling.state_trace(unrolling.input_sequence("one pulse", T), w_x, w_h)
    np.testing.assert_allclose(h, w_x * w_h ** np.arange(T), rtol=1e-6)


@pytest.mark.parametrize("w_h", [1.1, 1.5, 3.0])
def test_latch_is_a_fixed_point_and_a_pulse_settles_on_it(w_h):
    h_star = unrolling.latch_value(w_h)
    assert 0 < h_star < 1 and abs(math.tanh(w_h * h_star) - h_star) < 1e-10
    h = unrolling.state_trace(unrolling.input_sequence("one pulse", 300), 1.0, w_h)
    assert h[-1] == pytest.approx(h_star, abs=1e-6)


@pytest.mark.parametrize("w_h", [-1.5, 0.0, 0.7, 1.0])
def test_no_latch_at_or_below_one(w_h):
    assert unrolling.latch_value(w_h) == 0.0


def test_input_sequences():
    pulse = unrolling.input_sequence("one pulse", 6)
    assert pulse.tolist() == [1, 0, 0, 0, 0, 0]
    assert unrolling.input_sequence("pulse, then opposite pulse", 6).tolist() == [1, 0, 0, -1, 0, 0]
    assert np.all(unrolling.input_sequence("constant 0.3", 4) == 0.3)
    np.testing.assert_array_equal(
        unrolling.input_sequence("noise", 5, 1), unrolling.input_sequence("noise", 5, 1)
    )
    with pytest.raises(ValueError):
        unrolling.input_sequence("sawtooth", 5)


@pytest.mark.parametrize(
    "inputs, outputs, boxes", [("all", "all", 6), ("first", "all", 4), ("all", "last", 4)]
)
def test_unrolled_drawing_has_one_node_per_input_state_and_output(inputs, outputs, boxes):
    fig, ax = plt.subplots()
    unrolling.draw_unrolled(ax, 3, inputs, outputs)
    kinds = [type(p).__name__ for p in ax.patches]
    assert kinds.count("Circle") == 4  # h_0..h_3
    assert kinds.count("FancyBboxPatch") == boxes
    plt.close(fig)
    with pytest.raises(ValueError):
        unrolling.draw_unrolled(ax, 3, inputs="last")


def test_patterns_step_and_folded_drawings():
    fig = plt.figure()
    assert [ax.get_title() for ax in unrolling.draw_patterns(fig)] == [
        "one-to-one",
        "one-to-many",
        "many-to-one",
        "many-to-many",
    ]
    x = unrolling.input_sequence("one pulse", 8)
    ax_graph, ax_trace = unrolling.draw_step(
        fig, x, unrolling.state_trace(x, 1.0, 1.5), 3, 1.0, 1.5
    )
    assert ax_trace.get_xlabel() == "time step t" and ax_trace.get_ylabel()
    fig2, ax = plt.subplots()
    unrolling.draw_folded(ax)
    assert len(ax.patches) == 6  # 3 nodes, 3 arrows
    plt.close("all")


def test_widget_builds_and_redraws_with_its_controls():
    box = unrolling.unrolling_widget(T=6)
    assert set(box.controls) == {"w_h", "w_x", "kind", "t"}
    box.controls["w_h"].value = 0.0
    np.testing.assert_allclose(box.h, np.tanh(unrolling.input_sequence("one pulse", 6)))
    plt.close("all")


def test_pulse_memory_draws_one_labelled_trace_per_weight():
    fig, ax = plt.subplots()
    traces = unrolling.draw_pulse_memory(ax, (0.5, 1.5), T=10)
    assert list(traces) == [0.5, 1.5] and all(v.shape == (10,) for v in traces.values())
    assert len(ax.get_lines()) == 3  # two traces and the zero line
    assert ax.get_xlabel() and ax.get_ylabel()
    plt.close(fig)
