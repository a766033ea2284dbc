"""Lecture 11's widgets: the program view, the adder view, and that both build headless."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_course.analysis import carry as ca  # noqa: E402
from lstm_course.data import BinaryAddition  # noqa: E402
from lstm_course.data.programs import run_program  # noqa: E402
from lstm_course.experiments import binary_addition as ba  # noqa: E402
from lstm_course.experiments import execute as ex  # noqa: E402
from lstm_course.widgets import execute as wx  # noqa: E402

TINY = ex.ExecuteSetup(
    length=1,
    nesting=2,
    n_per_level=100,
    n_test=20,
    n_dev=10,
    embed_size=8,
    hidden_size=16,
    batch_size=16,
    steps=4,
    eval_every=2,
)


@pytest.fixture(scope="module")
def runs():
    return ex.compare_strategies(TINY, ("baseline", "mix"), progress=False)


@pytest.fixture(scope="module")
def wired():
    model = ba.wired_adder()
    x = BinaryAddition(100, 8, seed=1).x.transpose(0, 1)
    states, _ = ca.hidden_states(model, x)
    return model, ca.carry_direction(states, ca.carries(x)[1])


def test_program_view_is_seeded_by_its_controls(runs):
    view = wx.program_view(runs, 2, 3, 5)
    again = wx.program_view(runs, 2, 3, 5)
    assert view.program == again.program and view.answers == again.answers
    assert wx.program_view(runs, 2, 3, 6).program != view.program
    assert (view.program.length, view.program.nesting) == (2, 3)
    assert view.program.output == run_program(view.program.text)
    assert set(view.answers) == {"baseline", "mix"}
    assert view.answers["mix"] == ex.predictions(runs["mix"], [view.program])[0]
    text = wx.format_view(view)
    assert view.program.text in text and "true output" in text
    assert text.count("right") + text.count("wrong") == 2


def test_program_view_rejects_bad_controls(runs):
    with pytest.raises(ValueError, match="length"):
        wx.program_view(runs, 0, 1, 0)
    with pytest.raises(ValueError, match="index"):
        wx.program_view(runs, 1, 1, -1)
    with pytest.raises(ValueError, match="at least one"):
        wx.program_view({}, 1, 1, 0)


def test_adder_view_reads_the_carry(wired):
    model, direction = wired
    view = wx.adder_view(model, 11, 7, direction)  # 1011 + 0111 = 10010
    assert (view.true, view.predicted) == (18, 18)
    carry_out = np.array([row[5] for row in view.rows])
    assert carry_out.tolist() == [1, 1, 1, 1, 0]
    assert np.array_equal(view.carry_score > 0, carry_out == 1)
    table = wx.format_adder(view)
    assert "11 + 7 = 18" in table and "wrong bit" not in table
    fig, ax = plt.subplots()
    _, ax2 = wx.draw_carry(ax, view)
    assert len(ax.patches) == len(view.rows) and len(ax2.lines) >= 1
    plt.close(fig)
    with pytest.raises(ValueError, match="a must"):
        wx.adder_view(model, -1, 3, direction)


def test_widgets_build_headless_and_redraw(runs, wired, monkeypatch):
    pytest.importorskip("ipywidgets")
    calls = []
    real = wx.program_view

    def recording(*args):
        calls.append(args[1:])
        return real(*args)

    monkeypatch.setattr(wx, "program_view", recording)
    box = wx.program_explorer(runs)
    length, nesting, index = box.children[0].children
    length.value, index.value = 2, 7
    assert calls[-1] == (2, TINY.nesting, 7, None)
    box.children[1].value = True
    assert calls[-1][-1] is not None  # every operation
    adder = wx.adder_explorer(*wired)
    a, b = adder.children[0].children
    a.value = 1000
    assert b.value == 7
    plt.close("all")
    with pytest.raises(ValueError, match="at least one"):
        wx.program_explorer({})
