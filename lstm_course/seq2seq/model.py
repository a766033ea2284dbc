"""Encoder-decoder networks (Sutskever et al., 2014), with or without attention (Bahdanau et al.,
2015; Luong et al., 2015). Lectures 7 and 8.

Encoder, over the source x_1..x_S (embedded by E_x):

    h_j = LSTM(E_x[x_j], h_{j-1}),   j = 1..S                     (7.1) annotations H (S, B, H)

Decoder without attention: the encoder's final state is all it knows of the source,

    s_0 = h_S,   s_i = LSTM(E_y[y_{i-1}], s_{i-1}),   z_i = s_i W_y + b_y        (7.2)

Decoder with attention, Bahdanau's form (``form="bahdanau"``, the default): before each step
it reads the annotations again, with its *previous* state as the query (eqs. 8.1-8.3 of
``lstm_course.modules.attention``),

    c_i = sum_j alpha_ij h_j,   alpha_i = softmax_j(score(s_{i-1}, h_j))
    s_i = LSTM([E_y[y_{i-1}]; c_i], s_{i-1}),   z_i = [s_i; c_i] W_y + b_y     (8.4)

with the additive score of (8.1), or Luong et al.'s dot and general scores (8.5).

Luong's form (``form="luong"``): the step comes first and its *new* state is the query, so the
context only reaches the output layer,

    s_i = LSTM(E_y[y_{i-1}], s_{i-1}),   c_i = sum_j alpha_ij h_j,
    alpha_i = softmax_j(score(s_i, h_j)),   z_i = [s_i; c_i] W_y + b_y          (8.6)

(Luong et al. put a tanh layer before W_y and optionally feed the context back as input; we
keep the readout of (8.4) so that the two forms differ only in where the query comes from.)
Why offer both: in (8.4) the input of step i depends on s_{i-1}, so even with teacher forcing
the decoder must loop over the target one step at a time. In (8.6) every decoder input is
known in advance, so the LSTM runs over all T steps in one call and the T queries attend at
once: several times faster to train on a CPU.

z_i (B, V) are the logits of p(y_i | y_<i, x); y_0 = <bos>. Training uses teacher forcing
(the true y_{i-1} goes in); decoding feeds the model's own previous output back
(``lstm_course.seq2seq.decode``).

Shapes: src (S, B) ids, src_lengths (B,), tgt_in (T, B) ids; time-major as everywhere.
"""

from typing import NamedTuple

import torch
from torch import nn

from lstm_course.models import recurrent_layer
from lstm_course.modules import AdditiveAttention, LuongAttention

ATTENTIONS = (None, "additive", "dot", "general")
FORMS = ("bahdanau", "luong")


class Memory(NamedTuple):
    """What the encoder hands the decoder.

    Fields:
        keys: (S, B, H) the annotations h_1..h_S (zero after each source's end).
        mask: (S, B) bool, True at real source positions.
        keys_proj: (S, B, A) h_j W_k for additive attention (computed once), else None.
        state: the encoder's final state: (h, c) for an LSTM, h for a GRU, each (1, B, H).
    """

    keys: torch.Tensor
    mask: torch.Tensor
    keys_proj: torch.Tensor | None
    state: object


class Seq2Seq(nn.Module):
    """An LSTM (or GRU) encoder and decoder over token ids, with optional attention.

    Args:
        src_vocab_size, tgt_vocab_size: V_x, V_y (id 0 is padding in both).
        embed_size: size of the embeddings E_x, E_y. hidden_size: H, encoder and decoder.
        attention: None (eq. 7.2), "additive" (Bahdanau), "dot" or "general" (Luong).
        attn_size: A, the additive attention's hidden size (default H).
        form: "bahdanau" (query s_{i-1}, eq. 8.4) or "luong" (query s_i, eq. 8.6); any score
            goes with either form. Ignored without attention.
        kind: "LSTM" (default) or "GRU".
        device, dtype: where the parameters live.
    """

    def __init__(
        self,
        src_vocab_size,
        tgt_vocab_size,
        embed_size=32,
        hidden_size=128,
        attention=None,
        attn_size=None,
        form="bahdanau",
        kind="LSTM",
        device=None,
        dtype=None,
    ):
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {form!r}")
        if kind not in ("LSTM", "GRU"):
            raise ValueError(f"kind must be 'LSTM' or 'GRU', got {kind!r}")
        new = {"device": device, "dtype": dtype}
        H = hidden_size
        self.attention_kind, self.kind, self.hidden_size = attention, kind, H
        self.form = form if attention is not None else None
        self.src_embed = nn.Embedding(src_vocab_size, embed_size, padding_idx=0, **new)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, embed_size, padding_idx=0, **new)
        self.encoder = recurrent_layer(kind, embed_size, H, **new)
        context = 0 if attention is None else H
        fed_back = context if self.form == "bahdanau" else 0  # (8.4) feeds c_i to the LSTM
        self.decoder = recurrent_layer(kind, embed_size + fed_back, H, **new)
        if attention == "additive":
            self.attention = AdditiveAttention(H, H, attn_size or H, **new)
        elif attention in ("dot", "general"):
            self.attention = LuongAttention(H, H, score=attention, **new)
        else:
            self.attention = None
        self.out = nn.Linear(H + context, tgt_vocab_size, **new)

    def extra_repr(self):
        return f"attention={self.attention_kind!r}, form={self.form!r}, kind={self.kind!r}"

    def encode(self, src, src_lengths):
        """Eq. (7.1): src (S, B) ids, src_lengths (B,) -> ``Memory``."""
        _check_ids("src", src)
        S, B = src.shape
        src_lengths = torch.as_tensor(src_lengths, dtype=torch.long).cpu()
        if src_lengths.shape != (B,) or src_lengths.min() < 1 or src_lengths.max() > S:
            raise ValueError(
                f"src_lengths must be (B,) = ({B},) lengths in [1, S = {S}], "
                f"got {tuple(src_lengths.shape)} with values {src_lengths.tolist()[:8]}"
            )
        keys, state = self.encoder(self.src_embed(src), lengths=src_lengths)  # (S, B, H)
        mask = torch.arange(S)[:, None] < src_lengths[None, :]  # (S, B)
        mask = mask.to(src.device)
        keys_proj = self.attention.precompute(keys) if self.attention_kind == "additive" else None
        return Memory(keys, mask, keys_proj, state)

    def query(self, state):
        """s (B, H): the top layer's hidden state of a decoder state, the attention query."""
        h = state[0] if self.kind == "LSTM" else state
        return h[-1]

    def attend(self, query, memory):
        """Eqs. (8.1)-(8.3): context (..., B, H) and weights (..., S, B) for a query.

        Args:
            query: (B, H) one decoder state per sequence, or (T, B, H) for T steps at once.
            memory: from ``encode``.
        """
        if self.attention_kind == "additive":
            return self.attention(query, memory.keys, memory.mask, memory.keys_proj)
        return self.attention(query, memory.keys, memory.mask)

    def decode_step(self, y_prev, state, memory):
        """One decoder step, eq. (7.2), (8.4) or (8.6).

        Args:
            y_prev: (B,) ids of y_{i-1}. state: s_{i-1}. memory: from ``encode``.
        Returns:
            logits (B, V), the new state s_i, and the attention weights (S, B) (None without
            attention).
        """
        e = self.tgt_embed(y_prev)  # (B, E)
        if self.attention is None:
            s_all, state = self.decoder(e[None], state)  # (1, B, H)
            return self.out(s_all[0]), state, None
        if self.form == "luong":
            s_all, state = self.decoder(e[None], state)
            context, weights = self.attend(s_all[0], memory)  # query s_i, eq. (8.6)
            return self.out(torch.cat([s_all[0], context], dim=-1)), state, weights
        context, weights = self.attend(self.query(state), memory)  # query s_{i-1}, eq. (8.4)
        s_all, state = self.decoder(torch.cat([e, context], dim=-1)[None], state)
        return self.out(torch.cat([s_all[0], context], dim=-1)), state, weights

    def forward(self, src, src_lengths, tgt_in):
        """Teacher forcing: logits (T, B, V) for every target step, and weights (T, S, B).

        Args:
            src: (S, B) source ids. src_lengths: (B,). tgt_in: (T, B) <bos> y_1 .. y_{T-1}.
        Returns:
            logits (T, B, V); attention weights (T, S, B), or None without attention.
        """
        _check_ids("tgt_in", tgt_in)
        if tgt_in.shape[1] != src.shape[1]:
            raise ValueError(
                f"tgt_in must have the batch size of src, B = {src.shape[1]}, "
                f"got shape {tuple(tgt_in.shape)}"
            )
        memory = self.encode(src, src_lengths)
        if self.form != "bahdanau":  # every input is known: one call runs all T steps
            s_all, _ = self.decoder(self.tgt_embed(tgt_in), memory.state)  # (T, B, H)
            if self.attention is None:
                return self.out(s_all), None
            context, weights = self.attend(s_all, memory)  # T queries at once: (T, B, H)
            return self.out(torch.cat([s_all, context], dim=-1)), weights
        state, logits, weights = memory.state, [], []
        for y_prev in tgt_in.unbind(0):  # each step's query is the state the last one made
            z, state, alpha = self.decode_step(y_prev, state, memory)
            logits.append(z)
            weights.append(alpha)
        return torch.stack(logits), torch.stack(weights)


def _check_ids(name, ids):
    if not isinstance(ids, torch.Tensor) or ids.dtype != torch.long or ids.dim() != 2:
        got = (
            f"{ids.dtype}, shape {tuple(ids.shape)}"
            if isinstance(ids, torch.Tensor)
            else type(ids).__name__
        )
        raise ValueError(f"{name} must be a (T, B) int64 tensor of token ids, got {got}")
