"""Caption decoders: an LSTM started from the image (Show and Tell), and one that attends
to the feature grid at every word (Show, Attend and Tell). Lecture 9.

Both read the annotation vectors a_1..a_L of ``lstm_course.captioning.encoder`` (a (L, B, D))
and write words w_1..w_n <eos>, reading w_{t-1} at step t (w_0 = <bos>) as lecture 7's decoder.

``ShowTell`` (Vinyals et al., 2015, with the image as the initial state): the whole grid,
flattened into one image vector v = [a_1; ...; a_L] (B, L*D), sets the LSTM's state,

    h_0 = tanh(v W_vh + b_vh),   c_0 = tanh(v W_vc + b_vc)                           (9.3)
    h_t, c_t = LSTM(E[w_{t-1}], (h_{t-1}, c_{t-1})),   z_t = h_t W_y + b_y

and the image is never seen again: everything the caption needs must fit in (h_0, c_0).

``ShowAttendTell`` (Xu et al., 2015, soft attention): the state starts from the average
annotation, and before each word the decoder scores every position with its previous state,

    h_0 = tanh(mean_i(a_i) W_vh + b_vh),   c_0 = tanh(mean_i(a_i) W_vc + b_vc)
    e_ti = f_att(a_i, h_{t-1}) = v . tanh(h_{t-1} W_q + a_i W_k + b)
    alpha_ti = exp(e_ti) / sum_k exp(e_tk)          (softmax over the L positions)
    zhat_t = sum_i alpha_ti a_i                                                      (9.8)
    h_t, c_t = LSTMCell([E[w_{t-1}]; zhat_t], (h_{t-1}, c_{t-1})),   z_t = [h_t; zhat_t] W_y + b_y

f_att is ``lstm_course.modules.AdditiveAttention`` (lecture 8's eq. 8.1, with the grid as the
source). The average a_i carries no position (9.2's coordinates average out to 0), so where
the objects are reaches the decoder only through attention. (Xu et al. also gate zhat_t by a
scalar, and regularise sum_t alpha_ti towards 1; we leave both out.)

h_{t-1} was computed *before* the decoder read w_{t-1}, so the query of (9.8) does not know
the word just written. With ``query="hw"`` the query also holds that word,

    e_ti = f_att(a_i, [h_{t-1}; E[w_{t-1}]])                                         (9.9)

which matters when a scene has several right captions (lecture 9, section 5).

z_t (B, V) are the logits of p(w_t | w_<t, image). Both models share one interface:
``start(a) -> (state, memory)``, ``step(w_prev, state, memory) -> (logits, state, alpha)``
and ``forward(a, tgt_in) -> (logits (T, B, V), alphas (T, L, B) or None)``.
"""

import torch
from torch import nn

from lstm_course.modules import LSTM, AdditiveAttention, LSTMCell


def _check_a(a, feature_size, n_positions=None, where=""):
    if not isinstance(a, torch.Tensor) or a.dim() != 3 or a.shape[-1] != feature_size:
        got = tuple(a.shape) if isinstance(a, torch.Tensor) else type(a).__name__
        raise ValueError(f"{where}: a must have shape (L, B, D) with D = {feature_size}, got {got}")
    if n_positions is not None and a.shape[0] != n_positions:
        raise ValueError(
            f"{where}: a must have L = {n_positions} positions (the model's grid), "
            f"got shape {tuple(a.shape)}"
        )


def _check_tgt(tgt_in, B):
    if not isinstance(tgt_in, torch.Tensor) or tgt_in.dtype != torch.long:
        got = tgt_in.dtype if isinstance(tgt_in, torch.Tensor) else type(tgt_in).__name__
        raise TypeError(f"tgt_in must be an int64 tensor of word ids, got {got}")
    if tgt_in.dim() != 2 or tgt_in.shape[1] != B:
        raise ValueError(
            f"tgt_in must have shape (T, B) with the batch size of a, B = {B}, "
            f"got {tuple(tgt_in.shape)}"
        )


class ShowTell(nn.Module):
    """The image vector initialises the LSTM, eq. (9.3); no attention.

    Args:
        vocab_size: V (id 0 is padding). feature_size: D of each a_i. n_positions: L.
        embed_size: E. hidden_size: H. device, dtype: where the parameters live.
    """

    def __init__(
        self,
        vocab_size,
        feature_size,
        n_positions,
        embed_size=32,
        hidden_size=128,
        device=None,
        dtype=None,
    ):
        super().__init__()
        new = {"device": device, "dtype": dtype}
        self.feature_size, self.n_positions = feature_size, n_positions
        self.hidden_size = hidden_size
        self.embed = nn.Embedding(vocab_size, embed_size, padding_idx=0, **new)  # E
        self.init_h = nn.Linear(n_positions * feature_size, hidden_size, **new)  # W_vh, b_vh
        self.init_c = nn.Linear(n_positions * feature_size, hidden_size, **new)  # W_vc, b_vc
        self.lstm = LSTM(embed_size, hidden_size, **new)
        self.out = nn.Linear(hidden_size, vocab_size, **new)  # W_y, b_y
        self.attention = None

    def start(self, a):
        """(h_0, c_0) of eq. (9.3), each (1, B, H) as ``LSTM`` wants them, and the memory (None)."""
        _check_a(a, self.feature_size, self.n_positions, "ShowTell")
        v = a.permute(1, 0, 2).flatten(1)  # (B, L*D) the image vector [a_1; ...; a_L]
        return (torch.tanh(self.init_h(v))[None], torch.tanh(self.init_c(v))[None]), None

    def step(self, w_prev, state, memory=None):
        """One word: w_prev (B,) ids -> logits (B, V), the new state, and no weights (None)."""
        h_all, state = self.lstm(self.embed(w_prev)[None], state)  # (1, B, H)
        return self.out(h_all[0]), state, None

    def forward(self, a, tgt_in):
        """Teacher forcing: every input word is known, so one LSTM call runs all T steps.

        Args:
            a: (L, B, D) annotations. tgt_in: (T, B) <bos> w_1 .. w_{T-1}.
        Returns:
            logits (T, B, V); None (no attention weights).
        """
        state, _ = self.start(a)
        _check_tgt(tgt_in, a.shape[1])
        h_all, _ = self.lstm(self.embed(tgt_in), state)  # (T, B, H)
        return self.out(h_all), None


class ShowAttendTell(nn.Module):
    """Soft attention over the L grid positions at every word, eq. (9.8) or (9.9).

    Args:
        vocab_size: V. feature_size: D of each a_i. embed_size: E. hidden_size: H.
        attn_size: A, the width of f_att's tanh layer.
        query: "h" (f_att(a_i, h_{t-1}), Xu et al., eq. 9.8) or "hw" ([h_{t-1}; E[w_{t-1}]],
            eq. 9.9).
        device, dtype: where the parameters live.
    """

    QUERIES = ("h", "hw")

    def __init__(
        self,
        vocab_size,
        feature_size,
        embed_size=32,
        hidden_size=128,
        attn_size=64,
        query="h",
        device=None,
        dtype=None,
    ):
        super().__init__()
        if query not in self.QUERIES:
            raise ValueError(f"query must be one of {self.QUERIES}, got {query!r}")
        new = {"device": device, "dtype": dtype}
        D, H = feature_size, hidden_size
        self.feature_size, self.n_positions, self.hidden_size = D, None, H
        self.query = query
        self.embed = nn.Embedding(vocab_size, embed_size, padding_idx=0, **new)
        self.init_h = nn.Linear(D, H, **new)
        self.init_c = nn.Linear(D, H, **new)
        query_size = H + (embed_size if query == "hw" else 0)
        self.attention = AdditiveAttention(query_size, D, attn_size, **new)  # W_q, W_k, b, v
        self.cell = LSTMCell(embed_size + D, H, **new)
        self.out = nn.Linear(H + D, vocab_size, **new)

    def extra_repr(self):
        return f"query={self.query!r}"

    def start(self, a):
        """(h_0, c_0) from the mean annotation, each (B, H), and the memory (a, a W_k)."""
        _check_a(a, self.feature_size, where="ShowAttendTell")
        mean = a.mean(dim=0)  # (B, D)
        state = (torch.tanh(self.init_h(mean)), torch.tanh(self.init_c(mean)))
        return state, (a, self.attention.precompute(a))  # a W_k once per image, not per word

    def step(self, w_prev, state, memory):
        """One word, eq. (9.8) (or 9.9).

        Args:
            w_prev: (B,) ids. state: (h_{t-1}, c_{t-1}), each (B, H). memory: from ``start``.
        Returns:
            logits (B, V); the new state; alpha_t (L, B), summing to 1 over the L positions.
        """
        a, a_proj = memory
        h_prev, c_prev = state
        emb = self.embed(w_prev)  # (B, E) E[w_{t-1}]
        query = h_prev if self.query == "h" else torch.cat([h_prev, emb], dim=-1)
        zhat, alpha = self.attention(query, a, keys_proj=a_proj)  # (B, D), (L, B): e_ti inside
        h, c = self.cell(torch.cat([emb, zhat], dim=-1), (h_prev, c_prev))
        return self.out(torch.cat([h, zhat], dim=-1)), (h, c), alpha

    def forward(self, a, tgt_in):
        """Teacher forcing, one step at a time (each query is the state the last step made).

        Args:
            a: (L, B, D) annotations. tgt_in: (T, B) <bos> w_1 .. w_{T-1}.
        Returns:
            logits (T, B, V); attention weights (T, L, B).
        """
        state, memory = self.start(a)
        _check_tgt(tgt_in, a.shape[1])
        logits, alphas = [], []
        for w_prev in tgt_in.unbind(0):
            z, state, alpha = self.step(w_prev, state, memory)
            logits.append(z)
            alphas.append(alpha)
        return torch.stack(logits), torch.stack(alphas)
