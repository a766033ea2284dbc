"""The training loop of the course: forward, loss, backward, clip, step; and what it records.

One step is the five lines every PyTorch course writes::

    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    grad_norm = clip_grad_norm_(model.parameters(), clip_norm)   # measured before clipping
    optimizer.step()

``fit`` adds what a lecture needs around them: device moves, a progress bar, a ``History``,
evaluations, an early stop on a target, truncated BPTT with a carried state, a live plot and a
checkpoint at the end. No training framework: read it top to bottom.
"""

import math
import operator
import time

import torch

from lstm_course.runtime import device as default_device
from lstm_course.train.history import History

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def to_device(batch, device):
    """Move every tensor in a batch to ``device``: a tensor, or tuples/lists/dicts of them.

    Named tuples keep their type; anything that is not a tensor (ints, strings) is left as is.
    """
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {key: to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # a named tuple
        return type(batch)(*(to_device(value, device) for value in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(value, device) for value in batch)
    return batch


def detach_state(state):
    """Cut a recurrent state from the graph that produced it: a tensor ``h``, ``(h, c)`` or None.

    The values are kept; only the history (``grad_fn``) is dropped. See ``fit`` for why this is
    what truncates backpropagation through time.
    """
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(part) for part in state)
    raise TypeError(f"a state must be a tensor, a tuple of tensors or None, got {type(state)}")


def _tensors(batch):
    """Every tensor in a batch, in order."""
    if isinstance(batch, torch.Tensor):
        yield batch
    elif isinstance(batch, (dict, tuple, list)):
        for part in batch.values() if isinstance(batch, dict) else batch:
            yield from _tensors(part)


def batch_size(batch):
    """B of a time-major batch: dim 1 of its first tensor, (T, B, ...); dim 0 if it is 1-D."""
    for tensor in _tensors(batch):
        return tensor.shape[1] if tensor.dim() >= 2 else tensor.shape[0]
    return None


def _floats(values: dict) -> dict:
    """A dict of floats or scalar tensors as plain floats (a tensor may still carry a graph)."""
    return {
        name: value.detach().item() if isinstance(value, torch.Tensor) else float(value)
        for name, value in values.items()
    }


def _split_loss(out, stateful):
    """Normalise what loss_fn returned to (loss, metrics, state)."""
    if stateful:
        if not (isinstance(out, tuple) and len(out) == 3):
            raise TypeError(
                "with stateful=True, loss_fn(model, batch, state) must return "
                "(loss, metrics, new_state)"
            )
        loss, metrics, state = out
    elif isinstance(out, tuple):
        if len(out) != 2:
            raise TypeError("loss_fn(model, batch) must return loss or (loss, metrics)")
        loss, metrics, state = *out, None
    else:
        loss, metrics, state = out, None, None
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        raise ValueError(f"loss_fn must return a scalar tensor as the loss, got {loss!r:.80}")
    return loss, _floats(metrics or {}), state


def _make_target(target):
    """Turn ``(name, op, value)`` or a callable into ``check(now) -> reason or ""``."""
    if target is None:
        return None, lambda now: ""
    if callable(target):
        name = getattr(target, "__name__", "target")
        return None, lambda now: f"target met: {name}" if target(now) else ""
    name, op, value = target
    if op not in _OPS:
        raise ValueError(f"target op must be one of {list(_OPS)}, got {op!r}")

    def check(now):
        hit = name in now and _OPS[op](now[name], value)
        return f"target met: {name} = {now[name]:.4g} {op} {value:g}" if hit else ""

    return name, check


_END = object()


def _passes(batches):
    """Yield (first, last, batch) over ``batches`` again and again, forever.

    One batch of look-ahead tells whether a batch is the last of its pass, so an epoch is
    counted the moment its last step is done.
    """
    while True:
        iterator = iter(batches)
        upcoming = next(iterator, _END)
        if upcoming is _END:
            raise ValueError(
                "batches yielded nothing on this pass; pass something that can be "
                "iterated many times (a list, a DataLoader), not a used-up generator"
            )
        first = True
        while upcoming is not _END:
            batch, upcoming = upcoming, next(iterator, _END)
            yield first, upcoming is _END, batch
            first = False


def _evaluate(model, eval_fn):
    """Run eval_fn(model) in eval mode without building a graph, then go back to train mode."""
    model.eval()
    try:
        with torch.no_grad():
            results = eval_fn(model)
    finally:
        model.train()
    return _floats(results)


def fit(
    model,
    batches,
    loss_fn,
    *,
    steps=None,
    epochs=None,
    optimizer=None,
    lr=1e-3,
    scheduler=None,
    device=None,
    clip_norm=1.0,
    stateful=False,
    target=None,
    eval_fn=None,
    eval_every=100,
    progress=True,
    live_plot=None,
    checkpoint_path=None,
    config=None,
) -> History:
    """Train ``model`` on ``batches`` until ``steps`` steps or ``epochs`` passes are done.

    Args:
        model: a ``torch.nn.Module``; moved to ``device`` and put in train mode.
        batches: any iterable of batches, read again for every epoch (a list, a DataLoader).
            A batch is a tensor or a tuple/list/dict of tensors; each is moved to ``device``.
        loss_fn: ``loss_fn(model, batch) -> loss`` or ``-> (loss, metrics)``, with ``loss`` a
            scalar tensor and ``metrics`` a dict of floats or scalar tensors. With
            ``stateful=True`` it is ``loss_fn(model, batch, state) -> (loss, metrics, state)``.
        steps, epochs: when to stop; at least one, and the first reached wins.
        optimizer: default ``torch.optim.Adam(model.parameters(), lr=lr)`` (then ``lr`` is used).
        scheduler: learning-rate decay, as ``scheduler(optimizer) -> torch.optim.lr_scheduler``
            (a function, because the default optimizer is made here), stepped after every
            optimizer step, e.g. ``lambda opt: torch.optim.lr_scheduler.StepLR(opt, 500, 0.5)``.
            The learning rate is then recorded as the metric ``lr``.
        device: default ``lstm_course.device()``: CUDA, else MPS, else CPU.
        clip_norm: rescale the gradients so that their global L2 norm is at most this; None: no
            clipping. The norm *before* clipping is recorded in ``history.grad_norm``.
        stateful: truncated BPTT over consecutive windows of one long sequence. The state that
            window k ended in is passed to ``loss_fn`` for window k + 1, *detached*: its values
            go on (the forward pass is exact) but its ``grad_fn`` is dropped, so ``backward``
            stops at the window's first step instead of running back to the sequence start.
            That cut is the truncation (lecture 2). The state is None at the start of every
            epoch and whenever the batch size B changes (dim 1 of the first tensor, time-major),
            and ``loss_fn`` may return None to reset it itself.
        target: stop early once it is met. Either ``(name, op, value)`` with op one of
            ``< <= > >=``, e.g. ``("val_mse", "<", 0.01)``, or a callable ``target(now)``.
            ``now`` is the dict of what this step recorded: ``loss``, ``grad_norm``, the
            loss_fn metrics and, if an evaluation ran after this step, its results.
        eval_fn: ``eval_fn(model) -> dict of floats``, run every ``eval_every`` steps and after
            the last step, in eval mode under ``torch.no_grad()``. It must move its own data
            (``to_device(data, next(model.parameters()).device)``).
        progress: show a ``tqdm.auto`` bar with the running loss and the main metric.
        live_plot: a ``LiveLossPlot`` (or True for a default one), updated after every step.
        checkpoint_path, config: if a path is given, ``save_checkpoint`` at the end.
    Returns:
        the ``History``. Ctrl-C (a notebook's stop button) ends the run cleanly: the model keeps
        its trained weights and the history says ``"interrupted"``.
    """
    for name, value in (("steps", steps), ("epochs", epochs), ("eval_every", eval_every)):
        _check_count(name, value)
    if steps is None and epochs is None:
        raise ValueError("say when to stop: give steps=..., epochs=... or both")
    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer is None:
        optimizer = torch.optim.Adam(params, lr=lr)
    if scheduler is not None:
        scheduler = scheduler(optimizer)
    target_name, target_check = _make_target(target)
    if live_plot is True:
        from lstm_course.train.live_plot import LiveLossPlot

        live_plot = LiveLossPlot()
    from tqdm.auto import tqdm  # here, not at import: tqdm.auto looks for a notebook

    history = History(clip_norm=clip_norm)
    total = steps
    if epochs is not None and hasattr(batches, "__len__"):
        total = min(steps or math.inf, epochs * len(batches))
    bar = tqdm(total=total, disable=not progress, unit="step", dynamic_ncols=True)
    running, state, prev_B, start = None, None, None, time.perf_counter()
    try:
        for first, last, batch in _passes(batches):
            batch = to_device(batch, device)
            if stateful and (first or batch_size(batch) != prev_B):
                state, prev_B = None, batch_size(batch)  # a new stream: start from zeros

            loss, norm, metrics, state = _step(
                model, batch, state, loss_fn, optimizer, params, clip_norm, stateful
            )
            if scheduler is not None:
                metrics["lr"] = optimizer.param_groups[0]["lr"]  # the rate this step used
                scheduler.step()
            history.record_step(loss, norm, time.perf_counter() - start, metrics)
            if last:
                history.epochs += 1
            step = history.steps
            now = {"loss": loss, "grad_norm": norm, **metrics}  # what the target is tested on
            if eval_fn is not None and step % eval_every == 0:
                results = _evaluate(model, eval_fn)
                history.record_eval(step, results)
                now.update(results)
            _check_target_recorded(target_name, now, history, eval_fn)

            running = loss if running is None else 0.95 * running + 0.05 * loss
            bar.update(1)
            bar.set_postfix(_postfix(running, history, target_name), refresh=False)
            if live_plot is not None:
                live_plot.update(history)

            if not (math.isfinite(loss) and math.isfinite(norm)):
                history.stop_reason = f"loss or gradient not finite at step {step} (loss {loss:g})"
            elif reason := target_check(now):
                history.stop_reason = reason
            elif steps is not None and step >= steps:
                history.stop_reason = f"{steps} steps done"
            elif epochs is not None and history.epochs >= epochs:
                history.stop_reason = f"{epochs} epochs done"
            if history.stop_reason:
                break
        if eval_fn is not None and history.eval_steps[-1:] != [history.steps]:
            history.record_eval(history.steps, _evaluate(model, eval_fn))  # the final model
    except KeyboardInterrupt:
        history.stop_reason = f"interrupted after step {history.steps}"
    finally:
        bar.close()
    if live_plot is not None:
        live_plot.update(history, final=True)
    if checkpoint_path is not None:
        from lstm_course.train.checkpoint import save_checkpoint

        save_checkpoint(checkpoint_path, model, config, optimizer=optimizer, history=history)
    return history


def _step(model, batch, state, loss_fn, optimizer, params, clip_norm, stateful):
    """One training step. Returns (loss, grad_norm before clipping, metrics, detached state)."""
    optimizer.zero_grad(set_to_none=True)
    out = loss_fn(model, batch, state) if stateful else loss_fn(model, batch)
    loss, metrics, state = _split_loss(out, stateful)
    state = detach_state(state)  # keep the values, drop the graph: this is the truncation
    loss.backward()
    max_norm = math.inf if clip_norm is None else clip_norm  # inf: measure, never rescale
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    loss, norm = loss.item(), norm.item()
    if math.isfinite(loss) and math.isfinite(norm):
        optimizer.step()  # never step on inf/NaN: it would ruin every weight at once
    return loss, norm, metrics, state


def _check_count(name, value):
    """steps, epochs and eval_every are positive ints (or None)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int or None, got {value!r}")


def _check_target_recorded(target_name, now, history, eval_fn):
    """Fail fast on a target name that this run never records (a typo would never stop)."""
    if target_name is None or target_name in now:
        return
    if (eval_fn is None or history.eval_steps) and target_name not in history.names():
        raise ValueError(
            f"target {target_name!r} is never recorded; this run records {history.names()}"
        )


def _postfix(running, history, target_name):
    """The progress bar's text: the running loss and the main metric's latest value."""
    shown = {"loss": f"{running:.4g}"}
    names = [target_name] if target_name else [*history.evals, *history.metrics][:1]
    for name in names:
        if name and name in history.names() and name != "loss":
            try:
                shown[name] = f"{history.last(name):.4g}"
            except ValueError:  # no value yet (all NaN)
                pass
    return shown
