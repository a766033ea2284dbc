"""Lecture 7's beam widget: the report it shows, its table and plot, and that it redraws."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lstm_course.experiments import seq2seq as s2s  # noqa: E402
from lstm_course.widgets import beam  # noqa: E402

TINY = s2s.TaskSetup(
    task="copy",
    n_train=300,
    n_test=10,
    n_val=5,
    min_len=2,
    max_len=4,
    embed_size=8,
    hidden_size=16,
    steps=10,
    eval_every=10,
)


@pytest.fixture(scope="module")
def run():
    return s2s.train_task(TINY, progress=False)


def test_report_holds_the_beam_and_the_greedy_path(run):
    source, target = run.test[0]
    report = beam.beam_report(run, source, width=3, length_penalty=0.5)
    assert report.hypotheses == s2s.beam_hypotheses(run, source, 3, length_penalty=0.5)
    assert len(report.greedy_tokens) == len(report.p_eos) >= 1
    table = beam.format_hypotheses(report, target=report.hypotheses[0][0])
    lines = table.splitlines()
    assert len(lines) == 1 + min(10, len(report.hypotheses))
    assert lines[1].endswith("<- right")
    with pytest.raises(ValueError, match="source"):
        beam.beam_report(run, "")


def test_cut_hypotheses_are_marked(run):
    report = beam.beam_report(run, run.test[0][0], width=2, max_len=1)
    assert "cut by max_len" in beam.format_hypotheses(report)


def test_draw_eos_labels_each_bar_with_its_token(run):
    report = beam.beam_report(run, run.test[1][0])
    fig, ax = plt.subplots()
    beam.draw_eos(ax, report, max_len=3)
    assert [t.get_text() for t in ax.get_xticklabels()] == report.greedy_tokens
    assert len(ax.patches) == len(report.p_eos)
    beam.draw_eos(ax, report, logy=True)
    assert ax.get_yscale() == "log"
    plt.close(fig)


def test_explorer_redraws_when_a_control_moves(run, monkeypatch):
    pytest.importorskip("ipywidgets")
    calls = []
    real = beam.beam_report

    def recording(*args):
        calls.append(args[1:])
        return real(*args)

    monkeypatch.setattr(beam, "beam_report", recording)
    box = beam.beam_explorer({"tiny": run}, [s for s, _ in run.test[:3]])
    (name, source), (width, alpha, max_len) = (row.children for row in box.children[:2])
    width.value = 5
    alpha.value = 1.0
    source.value = "123"
    assert calls[-1] == ("123", 5, 1.0, max_len.value)
    assert source.options == tuple(s for s, _ in run.test[:3])
    plt.close("all")
    with pytest.raises(ValueError, match="at least one"):
        beam.beam_explorer({}, ["1"])
