"""Save a trained model with what rebuilds it, and load it back on any device.

A checkpoint is one ``torch.save`` of a plain dict::

    {"format": "lstm_course.checkpoint/1", "state_dict": ..., "config": {...},
     "optimizer": ... or None, "history": {...} or None,
     "versions": {"lstm_course": "0.1.0", "torch": "2.13.0"}}

It stores weights and plain data only, never a pickled class: the model is rebuilt by your own
``build_model(config)`` and then receives the weights. That is what lets ``load_checkpoint`` use
``torch.load(weights_only=True)``: that loader only accepts tensors and plain containers, so a
checkpoint downloaded from somewhere cannot run code on your machine when you open it (an
ordinary pickle can: unpickling may call any function the file names).
"""

import dataclasses
import os
from pathlib import Path

import torch

from lstm_course.train.history import History

FORMAT = "lstm_course.checkpoint/1"
# Exact types: weights_only refuses subclasses too (torch.__version__ is a str subclass).
_PLAIN = (type(None), bool, int, float, str)


class CheckpointError(RuntimeError):
    """A file that is not a readable checkpoint (corrupted, truncated, or something else)."""


def _plain_config(config) -> dict | None:
    """A config as a dict of plain values: a dataclass is converted with ``asdict``."""
    if config is None:
        return None
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict or a dataclass instance, got {type(config)}")
    config = dict(config)
    _check_plain(config, "config")
    return config


def _check_plain(value, where: str) -> None:
    """Fail now, at save time, on anything ``weights_only`` loading would later refuse."""
    if type(value) is dict:
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise TypeError(f"{where} has a key {key!r}; use str keys")
            _check_plain(item, f"{where}[{key!r}]")
    elif type(value) in (list, tuple):
        for index, item in enumerate(value):
            _check_plain(item, f"{where}[{index}]")
    elif type(value) not in _PLAIN and not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{where} is a {type(value).__name__}; a checkpoint stores plain values "
            "only (None, bool, int, float, str, lists, dicts, tensors)"
        )


def save_checkpoint(path, model, config, optimizer=None, history=None) -> Path:
    """Write the model's weights and everything needed to rebuild and resume it.

    The file is written next to ``path`` first and then renamed, so an interrupted save never
    leaves half a checkpoint in place of a good one.

    Args:
        path: where to write, e.g. ``"runs/adding/model.pt"``; missing folders are created.
        model: the trained ``torch.nn.Module``.
        config: what ``build_model`` needs to rebuild it: a dict or a dataclass instance of
            plain values (None, bool, int, float, str, lists, dicts).
        optimizer: its ``state_dict`` is stored too, to resume training (Adam's moments).
        history: a ``History`` (or its ``to_dict()``).
    Returns:
        the path written, as a ``Path``.
    """
    from lstm_course import __version__

    path = Path(path)
    if isinstance(history, History):
        history = history.to_dict()
    checkpoint = {
        "format": FORMAT,
        "state_dict": model.state_dict(),
        "config": _plain_config(config),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "history": history,
        "versions": {"lstm_course": __version__, "torch": str(torch.__version__)},  # see _PLAIN
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(checkpoint, partial)
    os.replace(partial, path)
    return path


def read_checkpoint(path, device=None) -> dict:
    """The raw checkpoint dict, with every tensor placed on ``device`` (default: the CPU).

    ``map_location`` moves tensors while loading, so a checkpoint saved on a GPU opens on a
    laptop without CUDA.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file at {path}")
    try:
        checkpoint = torch.load(path, map_location=device or "cpu", weights_only=True)
    except Exception as err:  # torch raises several types for the same problem: a bad file
        raise CheckpointError(
            f"{path} is not a readable checkpoint (corrupted, truncated, or "
            f"not written by save_checkpoint): {err}"
        ) from err
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} was not written by save_checkpoint (expected a dict with format {FORMAT!r})"
        )
    return checkpoint


def load_checkpoint(path, build_model, device=None) -> tuple:
    """Rebuild the model saved at ``path`` and load its weights.

    Args:
        path: a file written by ``save_checkpoint``.
        build_model: ``build_model(config) -> nn.Module``, given the saved config dict. For a
            dataclass config: ``lambda c: MyModel(MyConfig(**c))``.
        device: where the model goes; default ``lstm_course.device()``.
    Returns:
        (model, config, extra): the model on ``device`` in eval mode (call ``model.train()``
        to continue training), the config dict, and ``extra`` = {"optimizer": a state_dict or
        None, "history": a ``History`` or None, "versions": {...}}. To resume, build the same
        optimizer on ``model.parameters()`` and call its ``load_state_dict(extra["optimizer"])``.
    """
    from lstm_course.runtime import device as default_device

    device = torch.device(device) if device is not None else default_device()
    checkpoint = read_checkpoint(path, device)
    config = checkpoint["config"]
    model = build_model(config)
    model.load_state_dict(checkpoint["state_dict"])  # strict: a config mismatch fails loudly
    model.to(device)
    model.eval()
    history = checkpoint["history"]
    extra = {
        "optimizer": checkpoint["optimizer"],
        "history": History.from_dict(history) if history is not None else None,
        "versions": checkpoint["versions"],
    }
    return model, config, extra
