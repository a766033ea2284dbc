"""The language models the beam-search check runs a student's search on.

Each one's step also checks how the search calls it (``check_call``), so that a wrong call
is reported where it happens, in words a student can act on.
"""

import numpy as np

from lstm_course.checks._common import CheckError

# Tokens 0, 1, 2, start 0. Greedy takes 1 (p 0.5), then at best 0.34: (1, 0), P = 0.17.
# Token 2 (p 0.4) then 2 (p 0.9) is better: (2, 2), P = 0.36; a beam of 2 keeps both.
TRAP = np.array([[0.1, 0.5, 0.4], [0.34, 0.33, 0.33], [0.05, 0.05, 0.9]])
# Token 0 is EOS, start 1: EOS at once (p 0.6) is the best sequence. A search that extends
# EOS like any other token prefers (0, 0, 0, 0) among its 4-token hypotheses.
EOS_CHAIN = np.array([[0.6, 0.2, 0.2], [0.6, 0.1, 0.3], [0.6, 0.3, 0.1]])


def check_call(ids, K, V, max_width):
    """How the search called a step: ids (K,) ints in [0, V), at most max_width of them."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise CheckError(
            f"beam_search called step with ids of shape {ids.shape} and dtype {ids.dtype}: step "
            "expects an int array (K,), the last token of each of the K hypotheses"
        )
    if K is not None and len(ids) != K:
        raise CheckError(
            f"beam_search called step with {len(ids)} ids but a state of {K} "
            f"{'hypothesis' if K == 1 else 'hypotheses'}: after "
            "choosing the survivors, move the state with them, state = reorder_state(state, "
            "origin), so that row k of the state belongs to hypothesis k"
        )
    if len(ids) > max_width:
        raise CheckError(
            f"beam_search called step with {len(ids)} hypotheses, more than beam_width = "
            f"{max_width}: keep only the beam_width best candidates after each step"
        )
    if np.any((ids < 0) | (ids >= V)):
        raise CheckError(f"beam_search called step with ids {ids.tolist()} outside [0, V={V})")
    return ids


class ToyLM:
    """A seeded language model in which every prefix has its own random next-token distribution.

    The state is a tuple (code, n), as an LSTM's is a tuple (h, c): ``code`` (K,) numbers the
    whole prefix of each hypothesis, n (K,) counts its tokens. A search that does not move
    both with its beams asks the model about the wrong prefixes. The distributions are
    Dirichlet(0.5) draws, peaked but often misleading: greedy choices regularly lose. The
    token ``rare`` (the EOS of the test) is made 4 times less likely, so that hypotheses of
    several tokens compete with ones that end at once.
    """

    def __init__(self, V, seed, max_width, rare=None):
        self.V, self.seed, self.max_width = V, seed, max_width
        self.weight = np.ones(V)
        if rare is not None:
            self.weight[rare] = 0.25
        self.state0 = (np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))

    def step(self, ids, state):
        code, n = state  # (K,), (K,)
        ids = check_call(ids, len(code), self.V, self.max_width)
        code = code * (self.V + 1) + ids + 1  # (K,) a different number for every prefix
        log_p = np.stack([self._log_p(int(c)) for c in code]).reshape(len(code), self.V)
        return log_p, (code, n + 1)

    def _log_p(self, code):
        p = np.random.default_rng([self.seed, code]).dirichlet(np.full(self.V, 0.5))  # (V,)
        p = (0.02 / self.V + 0.98 * p) * self.weight  # no probability is 0
        return np.log(p / p.sum())

    def log_prob(self, start_id, ids):
        """log P(ids | start), feeding one token at a time, eq. (6.3)."""
        state, last, total = self.state0, start_id, 0.0
        for token in ids:
            log_p, state = self.step(np.array([last]), state)
            total, last = total + log_p[0, token], token
        return total


class Markov:
    """A first-order Markov chain as a language model: P[i, j] = p(next j | last i), no state."""

    def __init__(self, P, max_width):
        self.log_P, self.max_width = np.log(P), max_width
        self.state0 = None

    def step(self, ids, state):
        ids = check_call(ids, None, len(self.log_P), self.max_width)
        return self.log_P[ids], state

    def log_prob(self, start_id, ids):
        return float(sum(self.log_P[i, j] for i, j in zip((start_id, *ids[:-1]), ids, strict=True)))
