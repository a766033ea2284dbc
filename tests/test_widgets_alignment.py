"""Lecture 8's alignment widget: what it says and draws for a step, and that it redraws."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_course.experiments import attention as att  # noqa: E402
from lstm_course.experiments import seq2seq as s2s  # noqa: E402
from lstm_course.widgets import alignment as widget  # noqa: E402

AL = att.Alignment(
    "3 mar 98",
    "1998",
    [*"1998", "<eos>"],
    np.array(
        [
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.7, 0.3],
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 0.8],
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9, 0.1],
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            [0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        ]
    ),
)


def test_attended_lists_the_heaviest_source_characters():
    assert widget.attended(AL, 1, top=2) == [(7, "8", 0.8), (6, "9", 0.2)]
    assert widget.step_summary(AL, 0, top=1) == "step 1 writes '1'; it reads '9' at 7 (70%)"
    with pytest.raises(ValueError, match="step"):
        widget.attended(AL, 5)


def test_draw_source_weights_writes_every_character():
    fig, ax = plt.subplots()
    widget.draw_source_weights(ax, AL, 3)
    assert [t.get_text() for t in ax.texts] == ["3", "␣", "m", "a", "r", "␣", "9", "8"]
    assert "'8'" in ax.get_title()
    plt.close(fig)


def test_explorer_redraws_and_offers_each_models_examples(monkeypatch):
    pytest.importorskip("ipywidgets")
    setup = s2s.TaskSetup(
        task="reversal",
        n_train=200,
        n_test=6,
        n_val=3,
        min_len=2,
        max_len=4,
        embed_size=8,
        hidden_size=8,
        steps=2,
        eval_every=2,
        attention="dot",
    )
    runs = {
        "a": s2s.train_task(setup, progress=False),
        "b": s2s.train_task(s2s.with_budget(setup, attention="general"), progress=False),
    }
    calls = []
    real = widget.alignment

    def recording(run, source):
        calls.append(source)
        return real(run, source)

    monkeypatch.setattr(widget, "alignment", recording)
    box = widget.alignment_explorer(runs, {"a": ["12", "345"], "b": ["6789"]})
    name, source = box.children[0].children
    step = box.children[1]
    step.value = 3
    assert calls[-1] == "12"
    name.value = "b"
    assert source.options == ("6789",) and calls[-1] == "6789"
    plt.close("all")
    with pytest.raises(ValueError, match="at least one"):
        widget.alignment_explorer({}, [])
