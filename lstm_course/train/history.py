"""What a training run leaves behind: per-step loss and gradient norm, metrics, evaluations.

A ``History`` holds plain Python lists of floats, so it prints, pickles, goes to JSON and into a
checkpoint (``torch.load(weights_only=True)`` accepts it) without any special code.

Step numbers start at 1: ``loss[0]`` is the loss of step 1, the first optimizer update.
"""

import math
from dataclasses import asdict, dataclass, field

# Per-step series every run records; metric names may not reuse them.
_RESERVED = ("loss", "grad_norm", "time")


def _append_row(table: dict, row: dict, length: int) -> None:
    """Append one row to a dict of equally long lists, padding missing entries with NaN.

    ``length`` is the number of rows before this one; a name seen for the first time is
    back-filled with NaN so that every list stays aligned with its step numbers.
    """
    for name, value in row.items():
        table.setdefault(name, [math.nan] * length).append(float(value))
    for name, values in table.items():
        if name not in row:
            values.append(math.nan)


@dataclass
class History:
    """The record of one ``fit`` run.

    Attributes:
        loss: the training loss of each step (before that step's update).
        grad_norm: the global L2 norm of all parameter gradients at each step, measured *before*
            clipping, so exploding gradients show up here even when clipping hid them.
        time: seconds since the start of the run, at the end of each step.
        metrics: name -> one float per step, the extra values ``loss_fn`` returned (NaN where a
            step did not return that name).
        evals: name -> one float per evaluation, what ``eval_fn`` returned.
        eval_steps: the step after which each evaluation ran.
        steps: optimizer steps done. The run stopped after step ``steps``.
        epochs: complete passes over the batches.
        stop_reason: why the run ended, e.g. ``"target met: val_mse = 0.0091 < 0.01"``.
        clip_norm: the clipping threshold used (None: no clipping), drawn on the grad-norm plot.
    """

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    time: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    evals: dict = field(default_factory=dict)
    eval_steps: list = field(default_factory=list)
    steps: int = 0
    epochs: int = 0
    stop_reason: str = ""
    clip_norm: float | None = None

    # ----- recording (used by fit) -----

    def record_step(self, loss: float, grad_norm: float, seconds: float, metrics: dict) -> None:
        """Append one training step: its loss, pre-clip gradient norm, time and metrics."""
        for name in metrics:
            if name in _RESERVED or name in self.evals:
                raise ValueError(
                    f"loss_fn returned a metric named {name!r}; that name is "
                    f"reserved for the loop's own series {_RESERVED} or taken by an evaluation"
                )
        _append_row(self.metrics, metrics, len(self.loss))
        self.loss.append(float(loss))
        self.grad_norm.append(float(grad_norm))
        self.time.append(float(seconds))
        self.steps = len(self.loss)

    def record_eval(self, step: int, results: dict) -> None:
        """Append one evaluation made after ``step``.

        Evaluation names must differ from the per-step names: call the validation loss
        ``"val_loss"``, not ``"loss"``, so that ``last("loss")`` is never ambiguous.
        """
        for name in results:
            if name in _RESERVED or name in self.metrics:
                raise ValueError(
                    f"eval_fn returned {name!r}, which is already a per-step series;"
                    f" give evaluation results their own names, e.g. 'val_{name}'"
                )
        _append_row(self.evals, results, len(self.eval_steps))
        self.eval_steps.append(int(step))

    # ----- reading -----

    @property
    def stopped_at(self) -> int:
        """The step the run stopped after (the same number as ``steps``)."""
        return self.steps

    @property
    def wall_time(self) -> float:
        """Seconds the steps took in total (0.0 before the first step)."""
        return self.time[-1] if self.time else 0.0

    def names(self) -> list:
        """Every series name: ``loss``, ``grad_norm``, ``time``, then metrics, then evals."""
        return [*_RESERVED, *self.metrics, *self.evals]

    def series(self, name: str) -> tuple:
        """The step numbers and values of one series.

        Returns:
            (steps, values), two lists of equal length.
        """
        if name in _RESERVED or name in self.metrics:
            values = getattr(self, name) if name in _RESERVED else self.metrics[name]
            return list(range(1, len(values) + 1)), list(values)
        if name in self.evals:
            return list(self.eval_steps), list(self.evals[name])
        raise KeyError(f"no series named {name!r}; this history has {self.names()}")

    def last(self, name: str) -> float:
        """The most recent recorded (non-NaN) value of a series."""
        _, values = self.series(name)
        for value in reversed(values):
            if not math.isnan(value):
                return value
        raise ValueError(f"series {name!r} has no value yet")

    def best(self, name: str, mode: str = "min") -> tuple:
        """The best value of a series and the step it was reached at (the first one on ties).

        Args:
            name: a series name, e.g. ``"val_mse"``.
            mode: ``"min"`` for losses and errors, ``"max"`` for accuracies.
        Returns:
            (step, value).
        """
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        pairs = [(s, v) for s, v in zip(*self.series(name), strict=True) if not math.isnan(v)]
        if not pairs:
            raise ValueError(f"series {name!r} has no value yet")
        pick = min if mode == "min" else max
        return pick(pairs, key=lambda pair: pair[1])

    # ----- plain data in and out -----

    def to_dict(self) -> dict:
        """A dict of plain lists, floats, ints and strings (JSON- and checkpoint-safe)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        """The inverse of ``to_dict``."""
        return cls(**{key: _copy(value) for key, value in data.items()})


def _copy(value):
    """Copy lists and dicts one level down so a History never shares lists with its source."""
    if isinstance(value, dict):
        return {key: list(values) for key, values in value.items()}
    if isinstance(value, list):
        return list(value)
    return value
