"""Lecture 10's widgets: the addressing stages behind the sliders, the copy task's phases, the
step summary, and that both widgets redraw when a control moves."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_course import set_seed  # noqa: E402
from lstm_course.experiments import ntm as ex  # noqa: E402
from lstm_course.ntm.train import CopyRecipe, build_model  # noqa: E402
from lstm_course.widgets import ntm as widget  # noqa: E402

TINY = CopyRecipe(hidden_size=16, N=10, W=5, n_bits=4, max_len=3, batch_size=4)


@pytest.fixture(scope="module")
def tiny():
    set_seed(0)
    return build_model(TINY, device="cpu")


def entropy(w):
    w = w[w > 0]
    return float(-(w * np.log(w)).sum())


def test_content_addressing_finds_the_row_the_key_resembles():
    stages, w_prev = widget.toy_addressing(beta=20.0)
    assert stages.w_c.argmax() == widget.TOY_ROW and w_prev.argmax() == widget.TOY_PREV
    uniform, _ = widget.toy_addressing(beta=0.0)
    np.testing.assert_allclose(uniform.w_c, np.full(widget.TOY_N, 1 / widget.TOY_N))
    for stage in stages:
        assert stage.shape == (widget.TOY_N,) and np.isclose(stage.sum(), 1.0)


def test_gate_shift_and_sharpening_do_what_the_sliders_say():
    kept, _ = widget.toy_addressing(g=0.0, s_plus=1.0)  # ignore content, move on by one
    assert kept.w.argmax() == widget.TOY_PREV + 1 and np.isclose(kept.w.max(), 1.0)
    back, _ = widget.toy_addressing(g=0.0, s_minus=1.0)
    assert back.w.argmax() == widget.TOY_PREV - 1
    blurred, _ = widget.toy_addressing(beta=3.0, s_minus=0.2, s_plus=0.2, gamma=1.0)
    sharp, _ = widget.toy_addressing(beta=3.0, s_minus=0.2, s_plus=0.2, gamma=10.0)
    np.testing.assert_allclose(blurred.w, blurred.w_tilde)  # gamma = 1 changes nothing
    assert entropy(sharp.w) < entropy(blurred.w) / 2
    rescaled, _ = widget.toy_addressing(g=0.0, s_minus=0.9, s_plus=0.9)  # sum 1.8 -> 1
    np.testing.assert_allclose(rescaled.w[[widget.TOY_PREV - 1, widget.TOY_PREV + 1]], 0.5)
    with pytest.raises(ValueError, match="must be >= 0"):
        widget.toy_addressing(s_minus=-0.1)


def test_draw_stages_draws_four_panels_of_n_bars():
    stages, w_prev = widget.toy_addressing()
    fig, axes = plt.subplots(1, 4)
    widget.draw_stages(axes, stages, w_prev)
    assert [len(ax.patches) for ax in axes] == [widget.TOY_N] * 4
    assert axes[3].get_title() == "sharpened w (10.8)"
    plt.close(fig)


def test_phase_names_each_part_of_the_copy_task():
    assert [widget.phase(3, t) for t in (0, 1, 3, 4, 5, 7)] == [
        "start marker",
        "input vector 1 of 3",
        "input vector 3 of 3",
        "delimiter: now copy",
        "copy step 1 of 3",
        "copy step 3 of 3",
    ]
    with pytest.raises(ValueError, match=r"\[0, 8\)"):
        widget.phase(3, 8)


def test_step_summary_reports_both_heads_at_the_step(tiny):
    example = ex.copy_example(tiny, L=3)
    t = 5
    first, write_line, read_line = widget.step_summary(example, t).splitlines()
    wrong = int(((example.p[t] > 0.5) != example.y[t]).sum())
    assert first == f"t = 5 (copy step 1 of 3): {wrong} bits wrong"
    assert widget.step_summary(example, 2).splitlines()[0] == "t = 2 (input vector 2 of 3)"
    write_at = int(example.trace.write.w[t].argmax())
    read_at = int(example.trace.read.w[t].argmax())
    assert write_line.startswith(f"  write head at location {write_at:3d} (w = ")
    assert read_line.startswith(f"  read  head at location {read_at:3d} (w = ")
    g = float(example.trace.read_params.g[t, 0])
    assert f"g = {g:.2f}, max w^c = " in read_line and "gamma = " in read_line


def test_addressing_explorer_redraws_when_a_slider_moves(monkeypatch):
    pytest.importorskip("ipywidgets")
    calls = []
    real = widget.toy_addressing

    def recording(**values):
        calls.append(values)
        return real(**values)

    monkeypatch.setattr(widget, "toy_addressing", recording)
    box = widget.addressing_explorer()
    sliders = [*box.children[0].children, *box.children[1].children]
    assert [s.description for s in sliders] == ["beta", "g", "s(-1)", "s(+1)", "gamma"]
    sliders[4].value = 7.5
    assert calls[-1]["gamma"] == 7.5
    plt.close("all")


def test_step_explorer_follows_the_length_and_the_step(tiny, monkeypatch):
    pytest.importorskip("ipywidgets")
    calls = []
    real = widget.copy_example

    def recording(model, L, seed=0):
        calls.append(L)
        return real(model, L, seed=seed)

    monkeypatch.setattr(widget, "copy_example", recording)
    box = widget.step_explorer(tiny, lengths=(2, 3))
    length, step = box.children[0].children
    assert step.max == 2 * 2 + 1 and calls == [2]
    step.value = 5
    length.value = 3
    assert step.max == 2 * 3 + 1 and calls == [2, 3]
    length.value = 2  # cached: not traced again
    assert calls == [2, 3]
    plt.close("all")
