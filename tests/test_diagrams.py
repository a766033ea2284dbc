"""diagrams: the layout of unrolled, stacked and bidirectional RNNs, what draw_rnn draws (boxes,
arrows, the h_n labels in torch's order) and the side-by-side source table."""

import matplotlib
import pytest

from lstm_course.diagrams import draw_rnn, rnn_layout, side_by_side
from lstm_course.scratch import gru, lstm

matplotlib.use("Agg")


def _count(ax, gid):
    return sum(1 for artist in ax.get_children() if artist.get_gid() == gid)


@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, False), (2, True)])
def test_layout(num_layers, bidirectional):
    T, D = 4, 2 if bidirectional else 1
    lay = rnn_layout(T, num_layers, bidirectional)
    assert len(lay["x"]) == len(lay["y"]) == T
    expected = [(layer, d) for layer in range(1, num_layers + 1) for d in range(D)]
    assert sorted(lay["cells"]) == expected
    assert len(lay["merge"]) == (num_layers if bidirectional else 0)
    heights = [row[0][1] for _, row in sorted(lay["cells"].items())]
    assert heights == sorted(heights) and len(set(heights)) == len(heights)  # rows go upward
    assert all(lay["x"][0][1] < h < lay["y"][0][1] for h in heights)
    for row in lay["cells"].values():  # time runs left to right in every row
        assert [x for x, _ in row] == sorted(x for x, _ in row)


@pytest.mark.parametrize(
    ("T", "num_layers", "bidirectional"), [(3, 1, False), (3, 2, True), (5, 3, False)]
)
def test_draw_rnn_counts(T, num_layers, bidirectional):
    D = 2 if bidirectional else 1
    ax = draw_rnn(T=T, num_layers=num_layers, bidirectional=bidirectional)
    assert _count(ax, "box-x") == _count(ax, "box-y") == T
    assert _count(ax, "box-f") == T * num_layers
    assert _count(ax, "box-b") == (T * num_layers if bidirectional else 0)
    rows = num_layers * D
    # per row: T inputs, T - 1 recurrent, h_0 in, h_n out (+ T into each concatenation); + T to y
    expected = rows * (T + T - 1 + 2 + (T if bidirectional else 0)) + T
    assert _count(ax, "arrow") == expected
    texts = [t.get_text() for t in ax.texts]
    assert [f"$h_n[{k}]$" in texts for k in range(rows)] == [True] * rows
    assert f"$h_n[{rows}]$" not in texts
    matplotlib.pyplot.close("all")


def test_backward_final_state_is_drawn_at_the_first_step():
    ax = draw_rnn(T=3, bidirectional=True)
    label = next(t for t in ax.texts if t.get_text() == "$h_n[1]$")
    first_backward_cell = rnn_layout(3, 1, True)["cells"][1, 1][0]
    assert label.get_position()[0] < first_backward_cell[0]  # left of t = 1
    assert label.get_position()[1] == first_backward_cell[1]
    matplotlib.pyplot.close("all")


def test_side_by_side_shows_both_sources_escaped():
    page = side_by_side(lstm._cell, gru._cell, titles=["LSTM", "GRU <3 gates>"])
    assert page.count("<td") == 2
    assert "c = f * c_prev + i * g" in page and "h = (1.0 - z) * n + z * h_prev" in page
    assert "GRU &lt;3 gates&gt;" in page
    assert "lstm_course.scratch.gru._cell" in side_by_side(gru._cell)
