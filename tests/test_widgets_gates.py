"""lstm_course.widgets.gates: the gate arithmetic behind the lecture 4 sliders, and the plots."""

import math

import matplotlib
import numpy as np
import pytest

from lstm_course.widgets import gates

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_gate_flow_splits_the_update_into_kept_written_and_read():
    flow = gates.gate_flow(c_prev=2.0, f=0.25, i=0.5, g=-0.6, o=0.8)
    assert flow.kept == pytest.approx(0.5)
    assert flow.written == pytest.approx(-0.3)
    assert flow.c == pytest.approx(0.2)
    assert flow.h == pytest.approx(0.8 * math.tanh(0.2))


def test_gate_flow_broadcasts_over_arrays():
    f = np.array([[0.0, 1.0]])  # (1, 2)
    flow = gates.gate_flow(np.array([[3.0], [-1.0]]), f, 0.0, 0.0, 1.0)  # c_prev (2, 1)
    np.testing.assert_allclose(flow.c, [[0.0, 3.0], [0.0, -1.0]])


@pytest.mark.parametrize("name", ["f", "i", "o"])
def test_gate_flow_rejects_gates_outside_the_unit_interval(name):
    values = {"c_prev": 0.0, "f": 0.5, "i": 0.5, "g": 0.0, "o": 0.5, name: 1.2}
    with pytest.raises(ValueError, match=f"gate {name}"):
        gates.gate_flow(**values)


def test_hold_gates_follows_the_closed_form():
    c0, f, i, g, o, T = 1.5, 0.8, 0.6, -0.5, 0.3, 12
    c, h = gates.hold_gates(c0, f, i, g, o, T)
    t = np.arange(T + 1)
    np.testing.assert_allclose(c, f**t * c0 + i * g * (1 - f**t) / (1 - f), atol=1e-12)
    np.testing.assert_allclose(h, o * np.tanh(c))


def test_hold_gates_settles_at_the_fixed_point():
    c, _ = gates.hold_gates(-2.0, 0.5, 1.0, 0.8, 1.0, 60)
    assert c[-1] == pytest.approx(gates.fixed_point(0.5, 1.0, 0.8)) == pytest.approx(1.6)
    assert gates.fixed_point(1.0, 0.5, 0.4) == math.inf
    assert gates.fixed_point(1.0, 0.0, 0.4) == 0.0


def test_half_life_is_where_f_to_the_t_reaches_one_half():
    assert gates.half_life(0.5) == pytest.approx(1.0)
    assert 0.99 ** gates.half_life(0.99) == pytest.approx(0.5)
    assert gates.half_life(0.0) == 0.0
    assert gates.half_life(1.0) == math.inf


def test_draw_gate_flow_labels_both_panels():
    fig = plt.figure()
    ax_step, ax_hold = gates.draw_gate_flow(fig, gates.gate_flow(1.0, 0.9, 0.5, 0.8, 0.7), T=10)
    assert ax_step.get_ylabel() and ax_hold.get_xlabel() and ax_hold.get_ylabel()
    assert len(ax_step.patches) == 5  # c_prev, kept, written, c, h
    assert "6.58" in ax_hold.get_title()  # half-life of f = 0.9


def test_gate_explorer_redraws_when_a_slider_moves():
    box = gates.gate_explorer(("c_prev", "f"), i=0.0)
    assert set(box.sliders) == {"c_prev", "f"}
    assert box.flow.written == 0.0  # i fixed at 0: nothing is written
    box.sliders["f"].value = 0.5
    box.sliders["c_prev"].value = -2.0
    assert box.flow.c == pytest.approx(-1.0)


def test_gate_explorer_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown"):
        gates.gate_explorer(("forget",))


def test_marked_unit_finds_the_unit_that_opens_at_the_markers():
    rng = np.random.default_rng(0)
    T, B, H = 20, 8, 5
    i = rng.uniform(0.2, 0.6, size=(T, B, H))
    markers = np.zeros((T, B))
    markers[3], markers[15] = 1, 1
    i[:, :, 2] = 0.05
    i[3, :, 2] = i[15, :, 2] = 0.95
    unit, on, off = gates.marked_unit(i, markers)
    assert (unit, on, off) == (2, pytest.approx(0.95), pytest.approx(0.05))
    with pytest.raises(ValueError, match="markers"):
        gates.marked_unit(i, np.ones((T, B)))


def test_draw_gate_traces_has_one_panel_per_gate_plus_input_and_unit():
    T, H = 12, 3
    x = np.zeros((T, 2))
    x[[2, 8], 1] = 1.0
    recorded = {name: np.full((T, H), 0.5) for name in "ifoc"}
    fig = plt.figure()
    axes = gates.draw_gate_traces(fig, x, recorded, unit=1)
    assert len(axes) == 6
    assert axes[-1].get_xlabel() == "step t"
    assert all(ax.get_ylabel() for ax in axes)
    fig.canvas.draw()
    spans = {(round(ax.get_position().x0, 6), round(ax.get_position().x1, 6)) for ax in axes}
    assert len(spans) == 1  # every panel spans the same width, so step t lines up
