"""Decoding a language model: temperature sampling, greedy search and beam search.

Framework-neutral: the search only sees a *step function*

    step(ids, state) -> (log_probs, new_state)
        ids: (K,) int64, the last token of each of K hypotheses (beams or batch rows).
        log_probs: (K, V), log p(next token | hypothesis), each row normalised.
        state: whatever the model carries (arrays, tensors, tuples of them, or None), with the
            K hypotheses along axis 0, so that ``reorder_state`` can follow the beams.

so the same code decodes a NumPy toy model, our PyTorch ``CharLM`` (``char_lm_step``) or a
seq2seq decoder. The maths is NumPy in float64. Equations (exercise 6), with z the logits,
tau the temperature and y = (y_1, ..., y_n) a generated sequence:

    p = softmax(z / tau),  p_v = exp(z_v / tau) / sum_u exp(z_u / tau)          (6.1)
    y_t ~ Categorical(p):  y_t = min{v : c_v > u},  c_v = p_0 + ... + p_v,  u ~ U[0, 1)   (6.2)
    log P(y) = sum_t log p(y_t | y_<t)                                        (6.3)
    beam step: keep the W best of {(b, v): log P(beam b) + log p(v | beam b)}  (6.4)
    score(y) = log P(y) / lp(n),  lp(n) = ((5 + n) / 6) ** alpha  (Wu et al. 2016)   (6.5)
"""

from lstm_course.decoding.char_lm import char_lm_step, generate, prompt_state
from lstm_course.decoding.sampling import sample_next, softmax_with_temperature
from lstm_course.decoding.search import (
    GreedyResult,
    Hypothesis,
    beam_search,
    greedy_decode,
    normalised_score,
    reorder_state,
)

__all__ = [
    "GreedyResult",
    "Hypothesis",
    "beam_search",
    "char_lm_step",
    "generate",
    "greedy_decode",
    "normalised_score",
    "prompt_state",
    "reorder_state",
    "sample_next",
    "softmax_with_temperature",
]
