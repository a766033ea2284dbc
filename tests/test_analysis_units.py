"""Interpretable units: the text signals, the correlation search (eq. 6.12), the picture."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lstm_course.analysis import units  # noqa: E402
from lstm_course.data import Vocab  # noqa: E402
from lstm_course.models import CharLM  # noqa: E402


def on(text, signal):
    """The characters where a signal is 1, as one string (easy to read in an assert)."""
    return "".join(ch for ch, s in zip(text, signal, strict=True) if s)


def test_line_position_restarts_after_each_newline():
    np.testing.assert_array_equal(units.line_position("ab\ncd\n\ne"), [0, 1, 2, 0, 1, 2, 0, 0])


def test_inside_brackets_counts_nesting_and_closes_at_a_blank_line():
    text = "f(g(x)) y (a\n\nb) c)"
    s = units.inside_brackets(text)
    assert on(text, s) == "(g(x)(a\n"  # the closing bracket is outside; the blank line resets
    assert s[-1] == 0  # a stray ")" does not open anything
    with pytest.raises(ValueError, match="differ"):
        units.inside_brackets(text, "'", "'")


def test_inside_quotes_skips_apostrophes_and_treats_a_run_as_one_delimiter():
    text = "say 'hi' don't ``lit`` \"x 'y' z\" end 'open\nnext"
    s = units.inside_quotes(text)
    assert on(text, s) == "'hi``lit\"x 'y' z'open"
    assert on("it's", units.inside_quotes("it's")) == ""
    with pytest.raises(ValueError, match="quotes"):
        units.inside_quotes("a", "")


def test_text_signals_have_one_value_per_character():
    signals = units.text_signals("a (b) 'c'\nd")
    assert set(signals) == {"position in line", "inside ( )", "inside quotes"}
    assert all(s.shape == (11,) for s in signals.values())


def test_unit_correlations_match_numpy_and_give_zero_for_constant_units(rng):
    a = rng.standard_normal((50, 4))
    a[:, 2] = 3.0  # a unit that never changes
    s = rng.standard_normal(50)
    r = units.unit_correlations(a, s)
    for j in (0, 1, 3):
        assert r[j] == pytest.approx(np.corrcoef(a[:, j], s)[0, 1])
    assert r[2] == 0.0
    with pytest.raises(ValueError, match=r"\(T, H\)"):
        units.unit_correlations(a, s[:10])


def test_find_units_finds_a_planted_unit_and_held_out_r_measures_it_again(rng):
    T, H = 400, 6
    signal = (rng.random(T) < 0.3).astype(float)
    states = {"c": rng.standard_normal((T, H)), "h": rng.standard_normal((T, H))}
    states["c"][:, 4] = -2.0 * signal + 0.3 * rng.standard_normal(T)  # tracks it, negatively
    matches = units.find_units(states, {"quote": signal})
    best = matches[0]
    assert (best.signal, best.state, best.unit) == ("quote", "c", 4)
    assert best.r < -0.9 and best.runner_up < 0.3
    assert abs(matches[0].r) >= abs(matches[1].r)
    fresh = (rng.random(T) < 0.3).astype(float)
    other = {"c": np.tile(-fresh[:, None], (1, H)), "h": states["h"]}
    assert units.held_out_r(best, other, {"quote": fresh}) == pytest.approx(-1.0)


def test_busiest_window_finds_where_the_signal_varies():
    signal = np.zeros(100)
    signal[60:80:2] = 1.0  # on and off, ten times
    start = units.busiest_window(signal, 20)
    assert 55 <= start <= 65
    with pytest.raises(ValueError, match="length"):
        units.busiest_window(signal, 101)


def test_record_states_gives_the_lstm_states_of_one_stream():
    torch.manual_seed(0)
    vocab = Vocab("abc ")
    model = CharLM(len(vocab), embed_size=3, hidden_size=5)
    ids = vocab.encode("ab ca bc")
    states = units.record_states(model, ids)
    assert states["c"].shape == states["h"].shape == (8, 5)
    with torch.no_grad():
        H_all, (h_n, c_n) = model.rnn(model.embed(ids.view(-1, 1)))
    np.testing.assert_allclose(states["h"], H_all[:, 0].double().numpy(), atol=1e-6)
    np.testing.assert_allclose(states["c"][-1], c_n[0, 0].double().numpy(), atol=1e-6)
    assert np.abs(states["h"]).max() < 1 and model.training  # train mode restored


def test_draw_unit_text_colours_each_character_by_its_value():
    text = "ab\ncd"
    values = np.array([1.0, -2.0, 0.0, 0.5, 2.0])
    fig, ax = plt.subplots()
    image = units.draw_unit_text(ax, text, values, width=4)
    grid = image.get_array()
    assert grid.shape == (2, 4)
    np.testing.assert_allclose(grid[0, :2], [1.0, -2.0])
    np.testing.assert_allclose(grid[1, :2], [0.5, 2.0])  # the newline is not drawn
    assert image.get_clim() == (-2.0, 2.0)
    assert [t.get_text() for t in ax.texts] == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="values"):
        units.draw_unit_text(ax, text, values[:3])
    plt.close(fig)


def test_draw_unit_passages_draws_one_panel_per_match(rng):
    text = "x (ab) 'q' y\n" * 30
    signals = units.text_signals(text)
    states = {"c": rng.standard_normal((len(text), 3)), "h": rng.standard_normal((len(text), 3))}
    states["c"][:, 1] = signals["inside ( )"]
    matches = units.find_units(states, signals)[:2]
    fig = units.draw_unit_passages(matches, text, states, signals, length=60, width=20)
    assert len(fig.axes) == 2
    assert "inside ( ): c unit 1, r = +1.00" in fig.axes[0].get_title(loc="left")
    plt.close(fig)
