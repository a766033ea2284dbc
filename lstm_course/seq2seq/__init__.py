"""Sequence to sequence: an encoder-decoder with optional attention, its decoding and training.

Lectures 7 (encoder-decoder, reversed sources, greedy vs beam search) and 8 (attention).
Data: ``lstm_course.data.pairs`` (vocabulary and batches) and ``lstm_course.data.translation``
(dates to ISO, reversing strings).
"""

from lstm_course.seq2seq.decode import beam, encode_sources, greedy, log_prob, translate
from lstm_course.seq2seq.model import ATTENTIONS, FORMS, Memory, Seq2Seq
from lstm_course.seq2seq.train import accuracy_by_length, eval_fn, exact_match, seq2seq_loss

__all__ = [
    "ATTENTIONS",
    "FORMS",
    "Memory",
    "Seq2Seq",
    "accuracy_by_length",
    "beam",
    "encode_sources",
    "eval_fn",
    "exact_match",
    "greedy",
    "log_prob",
    "seq2seq_loss",
    "translate",
]
