"""Training toolkit of the course: the loop (``fit``), its ``History``, checkpoints, loss plots.

Everything a notebook needs to train a model and show it learning::

    from lstm_course.train import LiveLossPlot, fit, final_plot, load_checkpoint, save_checkpoint

    history = fit(model, batches, loss_fn, steps=2000, eval_fn=evaluate, eval_every=100,
                  target=("val_mse", "<", 0.01), live_plot=LiveLossPlot(every=50))
    final_plot(history);

No training framework: ``loop.py`` is meant to be read. Importing this package does not import
matplotlib, IPython or tqdm; they are loaded when a plot or a progress bar is first needed.
"""

from lstm_course.train.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from lstm_course.train.history import History
from lstm_course.train.live_plot import LiveLossPlot, draw_history, final_plot
from lstm_course.train.loop import batch_size, detach_state, fit, to_device

__all__ = [
    "CheckpointError",
    "History",
    "LiveLossPlot",
    "batch_size",
    "detach_state",
    "draw_history",
    "final_plot",
    "fit",
    "load_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
    "to_device",
]
