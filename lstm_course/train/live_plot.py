"""Loss curves while training runs (in a notebook) and once it is done.

matplotlib and IPython are imported inside the functions, so ``import lstm_course.train``
stays light and never touches a plotting backend.

The live plot redraws a single picture in place through an IPython display handle
(``display(..., display_id=True)`` then ``handle.update(...)``). ``clear_output(wait=True)``
would also work, but it clears the whole cell output, the ``tqdm`` progress bar included.
"""

import io
import math
import sys


def _notebook_display():
    """IPython's (display, Image) inside a notebook kernel, else None.

    Checking ``sys.modules`` first means a plain Python process never imports IPython.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "kernel", None) is None:  # terminal IPython: no kernel
        return None
    from IPython.display import Image, display

    return display, Image


def _use_log(values) -> bool:
    """A log axis only makes sense if every finite value is positive."""
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0


def draw_history(fig, history, metrics=None, logy=True, grad_norm=True):
    """Draw the loss (and metrics) and, optionally, the gradient norm into ``fig``.

    Args:
        fig: a matplotlib ``Figure``; it is cleared first.
        history: a ``History``.
        metrics: more series for the loss panel, e.g. ``("val_loss",)``; None: every
            evaluation series.
        logy: log scale for the loss panel (ignored if a value is <= 0).
        grad_norm: add a second panel with the pre-clip gradient norm and the clip threshold.
    Returns:
        the list of axes: [loss panel] or [loss panel, grad-norm panel].
    """
    fig.clear()
    metrics = list(history.evals) if metrics is None else list(metrics)
    axes = fig.subplots(1, 2 if grad_norm else 1, squeeze=False)[0]
    ax = axes[0]
    steps, loss = history.series("loss")
    ax.plot(steps, loss, label="loss", lw=1)
    shown = list(loss)
    for name in metrics:
        if name in history.names():
            x, y = history.series(name)
            ax.plot(x, y, label=name, marker="o" if name in history.evals else None, ms=3)
            shown += y
    if logy and _use_log(shown):
        ax.set_yscale("log")
    ax.set(xlabel="step", title="loss")
    ax.legend(loc="upper right")
    if grad_norm:
        ax = axes[1]
        steps, norms = history.series("grad_norm")
        ax.plot(steps, norms, label="grad_norm", lw=1, color="tab:red")
        if history.clip_norm is not None:
            ax.axhline(history.clip_norm, ls="--", color="gray", label="clip_norm")
        if _use_log(norms):
            ax.set_yscale("log")  # exploding gradients span decades
        ax.set(xlabel="step", title="gradient norm before clipping")
        ax.legend(loc="upper right")
    fig.tight_layout()
    return list(axes)


def final_plot(history, metrics=None, logy=True, grad_norm=True, figsize=(10, 3.5)):
    """The loss curve (and gradient norm) of a finished run, as a new pyplot figure.

    In a notebook the figure is shown at the end of the cell; if it is also the cell's last
    value it is shown twice, so write ``final_plot(history);`` or ``fig = final_plot(history)``.
    Arguments as in ``draw_history``.

    Returns:
        the ``matplotlib.figure.Figure``.
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize)
    draw_history(fig, history, metrics=metrics, logy=logy, grad_norm=grad_norm)
    return fig


class LiveLossPlot:
    """A loss plot redrawn in place every ``every`` steps while ``fit`` runs.

    Use: ``fit(..., live_plot=LiveLossPlot(every=50, metrics=("val_loss",)))``. Outside a
    notebook it draws nothing and only keeps the latest history (``self.history``).

    Args:
        every: redraw after every ``every`` steps (drawing costs about 0.1 s).
        metrics, logy, grad_norm, figsize: as in ``final_plot``.
    """

    def __init__(self, every=25, metrics=None, logy=True, grad_norm=True, figsize=(10, 3.5)):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int, got {every!r}")
        self.every, self.metrics, self.logy = every, metrics, logy
        self.grad_norm, self.figsize = grad_norm, figsize
        self.history = None
        self.redraws = 0
        self._figure = None
        self._handle = None
        self._drawn_at = 0  # the step of the picture on screen: not drawn twice

    def update(self, history, final=False) -> None:
        """Called by ``fit`` after each step, and with ``final=True`` once at the end."""
        if history is not self.history:  # a new run: a new picture under the running cell
            self._handle, self._drawn_at = None, 0
        self.history = history
        if not history.steps or history.steps == self._drawn_at:
            return
        if not final and history.steps % self.every:
            return
        notebook = _notebook_display()
        if notebook is None:
            return
        display, Image = notebook
        if self._figure is None:
            # A bare Figure, not pyplot's: the notebook would otherwise show it again when the
            # cell ends, and pyplot keeps every figure it made alive.
            from matplotlib.figure import Figure

            self._figure = Figure(figsize=self.figsize)
        draw_history(self._figure, history, self.metrics, self.logy, self.grad_norm)
        png = io.BytesIO()
        self._figure.savefig(png, format="png", dpi=80)
        image = Image(data=png.getvalue(), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)
        self.redraws += 1
        self._drawn_at = history.steps
