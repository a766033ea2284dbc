"""Decoding a ``Seq2Seq``: greedy (batched, with the attention weights), beam search, and
the log-probability of a given output.

The model gives the probability of a whole output y = y_1 .. y_n <eos> one factor at a time,

    log P(y | x) = sum_{i=1}^{n+1} log p(y_i | y_<i, x),   y_{n+1} = <eos>          (7.5)

At test time there is no target to feed: the decoder reads back its own previous output,

    y_i = argmax_v p(v | y_<i, x)                                     (7.6) greedy

or keeps the W best partial outputs by (7.5) (beam search, ``lstm_course.decoding``), until
it emits <eos> or reaches ``max_len``.
"""

import torch
from torch.nn import functional

from lstm_course.data.pairs import PairVocab, pair_collate
from lstm_course.decoding import beam_search
from lstm_course.seq2seq.model import Memory


class _EvalMode:
    """Dropout off and no gradients while decoding; the training mode is restored after."""

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


def greedy(model, src, src_lengths, max_len):
    """Greedy decoding of a batch.

    Args:
        model: a ``Seq2Seq``. src: (S, B) ids. src_lengths: (B,). max_len: most tokens.
    Returns:
        ids (L, B) int64 (each column ends with <eos> or is cut at max_len; after <eos> the
        column is padded with <eos>), and the attention weights (L, S, B) or None.
    """
    with _EvalMode(model):
        memory = model.encode(src, src_lengths)
        state = memory.state
        y = torch.full((src.shape[1],), PairVocab.bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros_like(y, dtype=torch.bool)
        ids, weights = [], []
        for _ in range(max_len):
            logits, state, alpha = model.decode_step(y, state, memory)
            y = torch.where(done, PairVocab.eos_id, logits.argmax(-1))
            ids.append(y)
            weights.append(alpha)
            done |= y == PairVocab.eos_id
            if done.all():
                break
    return torch.stack(ids), None if weights[0] is None else torch.stack(weights)


def _batch_first(state):
    """(1, B, H) tensors (and (S, B, ...) memory) -> batch on axis 0, as beam search wants."""
    if isinstance(state, torch.Tensor):
        return state.transpose(0, 1)
    if state is None:
        return None
    return (
        type(state)(*(_batch_first(s) for s in state))
        if hasattr(state, "_fields")
        else tuple(_batch_first(s) for s in state)
    )


def _time_major(state):
    return _batch_first(state)  # the same swap, undone


def beam(model, source_ids, beam_width, max_len, length_penalty=0.0, return_all=False):
    """Beam search for one source sequence.

    Args:
        model: a ``Seq2Seq``. source_ids: (S,) ids of one source (already reversed if the
            model was trained on reversed sources). beam_width, max_len, length_penalty,
            return_all: as ``lstm_course.decoding.beam_search``.
    Returns:
        a ``Hypothesis`` (ids end with <eos> when finished), or a list with ``return_all``.
    """
    source_ids = torch.as_tensor(source_ids, dtype=torch.long)
    device = next(model.parameters()).device
    with _EvalMode(model):
        memory = model.encode(source_ids.to(device)[:, None], torch.tensor([len(source_ids)]))

        def step(ids, carried):
            state, mem = _time_major(carried)
            y = torch.as_tensor(ids, dtype=torch.long, device=device)
            logits, state, _ = model.decode_step(y, state, Memory(*mem))
            log_p = torch.log_softmax(logits.double(), dim=-1).cpu().numpy()
            return log_p, _batch_first((state, tuple(mem)))

        start = _batch_first((memory.state, tuple(memory)))
        return beam_search(
            step,
            start,
            PairVocab.bos_id,
            beam_width,
            max_len,
            eos_id=PairVocab.eos_id,
            length_penalty=length_penalty,
            return_all=return_all,
        )


def encode_sources(sources, dataset):
    """Source strings -> a list of (S_b,) id tensors, reversed if ``dataset`` reverses them."""
    if isinstance(sources, str) or not all(isinstance(s, str) and s for s in sources):
        raise ValueError("sources must be a list of non-empty str")
    flip = dataset.reverse_source
    return [torch.tensor(dataset.src_vocab.encode(s[::-1] if flip else s)) for s in sources]


def translate(model, sources, dataset, max_len, beam_width=1, length_penalty=0.0, batch_size=256):
    """Decode source strings into target strings.

    Args:
        model: a trained ``Seq2Seq``. sources: a list of str.
        dataset: the ``PairDataset`` it was trained on (for its vocabularies and whether it
            reverses sources). max_len: most target tokens. beam_width: 1 is greedy.
        length_penalty: alpha of eq. (6.5), for beam_width > 1.
    Returns:
        a list of str (an output cut by ``max_len`` is returned as far as it got).
    """
    device = next(model.parameters()).device
    tgt_vocab = dataset.tgt_vocab
    encoded = encode_sources(sources, dataset)
    if beam_width > 1:
        return [
            tgt_vocab.decode(beam(model, ids, beam_width, max_len, length_penalty).ids)
            for ids in encoded
        ]
    out = []
    for start in range(0, len(encoded), batch_size):
        chunk = encoded[start : start + batch_size]
        batch = pair_collate([(ids, torch.tensor([0])) for ids in chunk])  # targets unused
        ids, _ = greedy(model, batch.src.to(device), batch.src_lengths, max_len)
        out.extend(tgt_vocab.decode(ids[:, b]) for b in range(ids.shape[1]))
    return out


def log_prob(model, pairs, dataset, batch_size=256):
    """Eq. (7.5): log P(target <eos> | source) of each (source, target) pair, by teacher forcing.

    Args:
        model: a ``Seq2Seq``. pairs: a list of (source str, target str); the target may be
            any string over the target vocabulary, e.g. a decoder's output.
        dataset: the training ``PairDataset`` (vocabularies, reversed sources).
    Returns:
        a list of float (float64 sums; the <eos> factor included).
    """
    device = next(model.parameters()).device
    sources = encode_sources([s for s, _ in pairs], dataset)
    targets = [torch.tensor(dataset.tgt_vocab.encode(t), dtype=torch.long) for _, t in pairs]
    out = []
    with _EvalMode(model):
        for start in range(0, len(pairs), batch_size):
            chunk = list(zip(sources, targets, strict=True))[start : start + batch_size]
            batch = pair_collate(chunk).to(device)
            logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)  # (T, B, V)
            log_p = functional.log_softmax(logits.double(), dim=-1)
            picked = log_p.gather(-1, batch.tgt_out[..., None])[..., 0]  # (T, B)
            out.extend((picked * batch.tgt_mask).sum(0).tolist())
    return out
