"""Decoding our PyTorch ``CharLM``: its step function, reading a prompt, and ``generate``."""

import contextlib

import numpy as np

from lstm_course.decoding._checks import check_int, check_positive
from lstm_course.decoding.sampling import sample_next


def _swap_batch_axis(state):
    """(L, B, H) <-> (B, L, H) for every tensor of a state: torch.nn keeps B on axis 1."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(_swap_batch_axis(part) for part in state)
    return state.transpose(0, 1).contiguous()


@contextlib.contextmanager
def _eval_mode(model):
    """Dropout off while decoding (it would make every step random), then back as it was."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _model_device(model, device):
    if device is not None:
        return device
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else "cpu"


def char_lm_step(model, device=None):
    """The step function of a ``CharLM`` (or any model mapping (T, B) ids to (T, B, V) logits).

    One character per hypothesis goes in, log_softmax of the logits (in float64) comes out.
    The model's state (h_n, c_n), each (L, B, H) in torch.nn's layout, is handed to the search
    as (B, L, H) tensors, so that the hypotheses are on axis 0 as ``reorder_state`` expects.
    Runs under ``torch.no_grad()``; put the model in eval mode first (``generate`` does).

    Args:
        model: ``model(x (T, B), state) -> (logits (T, B, V), state)``.
        device: where the inputs go; default: the device of the model's parameters.
    Returns:
        ``step(ids (K,), state) -> (log_probs (K, V) NumPy float64, state)``.
    """
    import torch

    device = _model_device(model, device)

    def step(ids, state):
        x = torch.as_tensor(np.asarray(ids), dtype=torch.long, device=device).view(1, -1)
        with torch.no_grad():
            logits, state = model(x, _swap_batch_axis(state))  # (1, K, V)
            log_p = torch.log_softmax(logits[0].double(), dim=-1)  # (K, V)
        return log_p.cpu().numpy(), _swap_batch_axis(state)

    return step


def prompt_state(model, vocab, prompt, device=None):
    """Read a prompt into the model: the state after all but its last character, and that one.

    The decoders then start from ``start_id`` with ``state``: their first step feeds the
    prompt's last character and predicts what follows the whole prompt.

    Args:
        model: a ``CharLM``. vocab: its ``Vocab``. prompt: a non-empty str.
        device: default: the device of the model's parameters.
    Returns:
        (start_id, state): an int, and the state for one hypothesis in ``char_lm_step``'s
        batch-first layout (None for a one-character prompt: the model starts from zeros).
    """
    import torch

    if not isinstance(prompt, str) or not prompt:
        raise ValueError(
            f"prompt must be a non-empty str (the model needs an input), got {prompt!r}"
        )
    device = _model_device(model, device)
    ids = vocab.encode(prompt).to(device)  # (n,)
    state = None
    if len(prompt) > 1:
        with torch.no_grad():
            _, state = model(ids[:-1].view(-1, 1), None)  # (n-1, 1) in, state of batch 1 out
        state = _swap_batch_axis(state)
    return int(ids[-1]), state


def generate(model, vocab, prompt, length, temperature=1.0, seed=0, device=None, sampler=None):
    """Continue ``prompt`` by ``length`` characters sampled at ``temperature``, eqs. (6.1)-(6.2).

    Args:
        model: a trained ``CharLM`` (switched to eval mode while generating, then restored).
        vocab: the ``Vocab`` it was trained with. prompt: a non-empty str.
        length: characters to add (>= 0). temperature: tau > 0; small tau approaches greedy.
        seed: seeds the ``numpy.random.Generator`` the sampler draws from: same seed, same text.
        device: default: the device of the model's parameters.
        sampler: ``sampler(logits (1, V), temperature, rng) -> ids (1,)``; default
            ``sample_next`` (an exercise passes the student's own). It is given the model's
            log-probabilities as logits (softmax(log p / tau) is p sharpened by tau), with
            ``<unk>`` at -inf: that id stands for characters the vocabulary lacks, and would
            print as the five characters "<unk>".
    Returns:
        str: the prompt followed by the ``length`` generated characters.
    """
    length = check_int("length", length, 0)
    check_positive("temperature", temperature)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    sampler = sample_next if sampler is None else sampler
    with _eval_mode(model):
        last, state = prompt_state(model, vocab, prompt, device)
        step = char_lm_step(model, device)
        out = []
        for _ in range(length):
            log_p, state = step(np.array([last]), state)  # (1, V): log p is a valid logit
            log_p[:, vocab.unk_id] = -np.inf
            ids = np.asarray(sampler(log_p, temperature, rng))
            if ids.shape != (1,) or not 0 <= int(ids[0]) < log_p.shape[1]:
                raise ValueError(
                    f"sampler must return one id in [0, {log_p.shape[1]}) per row, shape (1,), "
                    f"got {ids!r}"
                )
            last = int(ids[0])
            out.append(last)
    return prompt + vocab.decode(np.array(out, dtype=np.int64))
