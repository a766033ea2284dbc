"""Loss plots: final_plot draws the expected lines; the live plot redraws in place in a notebook
and stays silent elsewhere; importing lstm_course.train loads no plotting library."""

import subprocess
import sys

import matplotlib
import pytest
import torch
from torch import nn

from lstm_course.train import History, LiveLossPlot, final_plot, fit
from lstm_course.train import live_plot as live_plot_module

matplotlib.use("Agg")


def _history(steps=5):
    history = History(clip_norm=1.0)
    for k in range(1, steps + 1):
        history.record_step(1.0 / k, 3.0 / k, 0.01 * k, {"acc": 0.1 * k})
        if k % 2 == 0:
            history.record_eval(k, {"val_loss": 1.5 / k})
    return history


def test_importing_the_package_loads_neither_matplotlib_nor_ipython():
    code = (
        "import sys, lstm_course.train; "
        "print(sorted(m for m in ('matplotlib', 'IPython') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_final_plot_draws_loss_eval_metrics_and_grad_norm():
    import matplotlib.pyplot as plt

    history = _history()
    fig = final_plot(history)
    try:
        loss_ax, norm_ax = fig.axes
        assert [line.get_label() for line in loss_ax.get_lines()] == ["loss", "val_loss"]
        assert list(loss_ax.get_lines()[0].get_ydata()) == history.loss
        assert list(loss_ax.get_lines()[1].get_xdata()) == [2, 4]
        assert loss_ax.get_yscale() == "log"
        assert [line.get_label() for line in norm_ax.get_lines()] == ["grad_norm", "clip_norm"]
        assert list(norm_ax.get_lines()[0].get_ydata()) == history.grad_norm
    finally:
        plt.close(fig)


def test_final_plot_options():
    import matplotlib.pyplot as plt

    history = _history()
    history.loss[0] = -1.0  # a log axis cannot show it
    fig = final_plot(history, metrics=("acc",), grad_norm=False)
    try:
        (ax,) = fig.axes
        assert [line.get_label() for line in ax.get_lines()] == ["loss", "acc"]
        assert ax.get_yscale() == "linear"
    finally:
        plt.close(fig)


def test_live_plot_outside_a_notebook_keeps_data_and_draws_nothing():
    import matplotlib.pyplot as plt

    figures = plt.get_fignums()
    assert live_plot_module._notebook_display() is None
    plot = LiveLossPlot(every=1)
    history = _history()
    plot.update(history)
    plot.update(history, final=True)
    assert plot.history is history and plot.redraws == 0
    assert plt.get_fignums() == figures
    with pytest.raises(ValueError, match="every"):
        LiveLossPlot(every=0)


class FakeHandle:
    def __init__(self):
        self.updates = []

    def update(self, obj):
        self.updates.append(obj)


def test_live_plot_in_a_notebook_redraws_one_image_in_place(monkeypatch):
    from IPython.display import Image

    shown, handle = [], FakeHandle()

    def display(obj, display_id=False):
        shown.append((obj, display_id))
        return handle

    monkeypatch.setattr(live_plot_module, "_notebook_display", lambda: (display, Image))
    plot = LiveLossPlot(every=2, metrics=("val_loss",))
    history = fit(
        nn.Linear(1, 1),
        [torch.ones(2, 1)],
        lambda m, x: m(x).pow(2).mean(),
        steps=5,
        device="cpu",
        progress=False,
        live_plot=plot,
    )
    assert plot.history is history
    assert len(shown) == 1 and shown[0][1] is True  # one display, then updates of it
    assert len(handle.updates) == 2  # after step 4, and the final picture after step 5
    assert plot.redraws == 3
    plot.update(history, final=True)  # that step is already on screen
    assert plot.redraws == 3
    assert shown[0][0].data[:4] == b"\x89PNG"
