"""Writing captions with a trained decoder: greedy (batched, with the attention weights) and
beam search (one image at a time, ``lstm_course.decoding.beam_search``).

With no reference caption to feed, the decoder reads back its own previous word,

    w_t = argmax_v p(v | w_<t, image)                                  greedy, as eq. (7.6)

until it writes <eos> or reaches ``max_len`` words; beam search keeps the W best partial
captions by log P instead (lecture 6, eq. 6.4).
"""

import torch

from lstm_course.data.scenes import WordVocab
from lstm_course.decoding import beam_search


class _EvalMode:
    """No gradients and eval mode while decoding; the training mode is restored after."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.was_training = self.model.training
        self.model.eval()
        self.no_grad = torch.no_grad()
        self.no_grad.__enter__()

    def __exit__(self, *exc):
        self.no_grad.__exit__(*exc)
        self.model.train(self.was_training)


def greedy(model, a, max_len=12):
    """Greedy decoding of a batch of images.

    Args:
        model: ``ShowTell`` or ``ShowAttendTell``. a: (L, B, D) annotations. max_len: most words.
    Returns:
        ids (n, B) int64 (each column ends with <eos> or is cut at max_len; after <eos> a column
        is padded with <eos>), and the attention weights (n, L, B), or None without attention.
    """
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
        raise ValueError(f"max_len must be an int >= 1, got {max_len!r}")
    a = _on_model(model, a, "a")
    with _EvalMode(model):
        state, memory = model.start(a)
        w = torch.full((a.shape[1],), WordVocab.bos_id, dtype=torch.long, device=a.device)
        done = torch.zeros_like(w, dtype=torch.bool)
        ids, alphas = [], []
        for _ in range(max_len):
            logits, state, alpha = model.step(w, state, memory)
            w = torch.where(done, WordVocab.eos_id, logits.argmax(-1))
            ids.append(w)
            alphas.append(alpha)
            done |= w == WordVocab.eos_id
            if done.all():
                break
    return torch.stack(ids), None if alphas[0] is None else torch.stack(alphas)


def _on_model(model, a, name):
    """``a`` on the model's device (cached features may live elsewhere)."""
    if not isinstance(a, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of annotation vectors, got {type(a).__name__}")
    return a.to(next(model.parameters()).device)


def captions(model, a, vocab, max_len=12, batch_size=500):
    """Greedy captions (str) for every image of ``a`` (L, N, D), ``batch_size`` at a time."""
    out = []
    for start in range(0, a.shape[1], batch_size):
        ids, _ = greedy(model, a[:, start : start + batch_size], max_len)
        out += [vocab.decode(ids[:, b]) for b in range(ids.shape[1])]
    return out


def _batch_first(state):
    """Move the batch of every (1, B, H) / (L, B, D) tensor to axis 0, as beam search wants."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.transpose(0, 1)
    return tuple(_batch_first(s) for s in state)


def beam(model, a_one, beam_width, max_len=12, length_penalty=0.0):
    """Beam search for one image.

    Args:
        model: ``ShowTell`` or ``ShowAttendTell``. a_one: (L, D) annotations of one image.
        beam_width: W. max_len: most words. length_penalty: alpha of eq. (6.5).
    Returns:
        a ``lstm_course.decoding.Hypothesis`` (ids end with <eos> when finished).
    """
    if not isinstance(a_one, torch.Tensor) or a_one.dim() != 2:
        got = tuple(a_one.shape) if isinstance(a_one, torch.Tensor) else type(a_one).__name__
        raise ValueError(f"a_one must have shape (L, D) (one image), got {got}")
    a_one = _on_model(model, a_one, "a_one")
    # ShowTell keeps (1, B, H) states and no memory; ShowAttendTell (B, H) states and a memory
    # with the batch on axis 1. Beam search reorders axis 0, so both are turned batch-first.
    recurrent_first = model.attention is None
    with _EvalMode(model):
        state, memory = model.start(a_one[:, None, :])

        def to_model(carried):
            state, memory = carried
            state = _batch_first(state) if recurrent_first else state
            return state, _batch_first(memory)

        def to_search(state, memory):
            return (_batch_first(state) if recurrent_first else state), _batch_first(memory)

        def step(ids, carried):
            state, memory = to_model(carried)
            w = torch.as_tensor(ids, dtype=torch.long, device=a_one.device)
            logits, state, _ = model.step(w, state, memory)
            log_p = torch.log_softmax(logits.double(), dim=-1).cpu().numpy()
            return log_p, to_search(state, memory)

        return beam_search(
            step,
            to_search(state, memory),
            WordVocab.bos_id,
            beam_width,
            max_len,
            eos_id=WordVocab.eos_id,
            length_penalty=length_penalty,
        )


def beam_captions(model, a, vocab, beam_width, max_len=12, length_penalty=0.0):
    """Beam-search captions (str) for every image of ``a`` (L, N, D)."""
    return [
        vocab.decode(list(beam(model, a[:, k], beam_width, max_len, length_penalty).ids))
        for k in range(a.shape[1])
    ]
