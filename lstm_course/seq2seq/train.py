"""Training and scoring a ``Seq2Seq``: the teacher-forced loss, and exact-match accuracy.

The loss is the cross-entropy of every real target position, <eos> included (so the model is
taught where to stop), averaged over those positions:

    L = -(1 / N) sum_{b, i : mask} log p(y_i^b | y_<i^b, x^b)          (7.3)
"""

import collections

import torch
from torch.nn import functional

from lstm_course.seq2seq.decode import translate


def seq2seq_loss(model, batch):
    """The ``fit`` loss for a ``PairBatch``: (loss, {"token_acc": ...}), eq. (7.3)."""
    logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)  # (T, B, V)
    mask = batch.tgt_mask
    loss = functional.cross_entropy(logits[mask], batch.tgt_out[mask])
    token_acc = (logits.argmax(-1) == batch.tgt_out)[mask].float().mean()
    return loss, {"token_acc": token_acc}


def exact_match(model, pairs, dataset, max_len, beam_width=1, length_penalty=0.0):
    """The fraction of (source, target) pairs translated exactly right.

    Args:
        pairs: a list of (source str, target str). dataset: the training ``PairDataset``.
        max_len: most decoded tokens. beam_width: 1 is greedy.
        length_penalty: alpha of eq. (6.5) for the beam.
    """
    sources = [s for s, _ in pairs]
    predicted = translate(model, sources, dataset, max_len, beam_width, length_penalty)
    return sum(p == t for p, (_, t) in zip(predicted, pairs, strict=True)) / len(pairs)


def accuracy_by_length(model, pairs, dataset, max_len):
    """{source length: exact-match accuracy} over ``pairs`` (greedy decoding)."""
    predicted = translate(model, [s for s, _ in pairs], dataset, max_len)
    right, total = collections.Counter(), collections.Counter()
    for p, (s, t) in zip(predicted, pairs, strict=True):
        total[len(s)] += 1
        right[len(s)] += p == t
    return {n: right[n] / total[n] for n in sorted(total)}


def eval_fn(pairs, dataset, max_len, name="val_exact"):
    """An ``eval_fn`` for ``fit``: exact match on ``pairs``, recorded as ``name``."""

    def evaluate(model):
        with torch.no_grad():
            return {name: exact_match(model, pairs, dataset, max_len)}

    return evaluate
