"""Small sequence models the lectures train: a recurrent layer plus a linear readout.

    y_t = h_t W_y + b_y            (the slides' output layer; softmax is in the loss)

``SequenceModel`` reads the last step (many-to-one: classify or regress a whole sequence) or
every step (many-to-many: tag each step); ``CharLM`` adds an embedding for token inputs.
Both carry the recurrent state in and out, so truncated BPTT and generation can continue a
sequence. Time-major: inputs (T, B, ...), outputs (T, B, O) or (B, O).
"""

import torch
from torch import nn

from lstm_course import modules

KINDS = ("RNN", "LSTM", "GRU")


def recurrent_layer(kind, input_size, hidden_size, **kwargs):
    """``lstm_course.modules.RNN``, ``LSTM`` or ``GRU`` by name, with torch.nn's arguments."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return getattr(modules, kind)(input_size, hidden_size, **kwargs)


class SequenceModel(nn.Module):
    """A recurrent layer and a linear readout of its last step or of every step.

    Args:
        kind: "RNN", "LSTM" or "GRU".
        input_size: D. hidden_size: H. output_size: O.
        readout: "last" (many-to-one, output (B, O)) or "all" (many-to-many, (T, B, O)).
        **rnn_kwargs: passed to the recurrent layer (num_layers, nonlinearity, dropout, ...).
    """

    def __init__(self, kind, input_size, hidden_size, output_size, readout="last", **rnn_kwargs):
        super().__init__()
        if readout not in ("last", "all"):
            raise ValueError(f"readout must be 'last' or 'all', got {readout!r}")
        self.readout = readout
        self.rnn = recurrent_layer(kind, input_size, hidden_size, **rnn_kwargs)
        self.out = nn.Linear(self.rnn.hidden_size * self.rnn.num_directions, output_size)

    def forward(self, x, state=None, lengths=None):
        """x: (T, B, D) -> (y, state); y is (B, O) for readout="last", else (T, B, O).

        With ``lengths``, "last" reads each sequence at its own last step.
        """
        H_all, state = self.rnn(x, state, lengths=lengths)  # (T, B, H)
        if self.readout == "all":
            return self.out(H_all), state
        if lengths is None:
            return self.out(H_all[-1]), state
        last = torch.as_tensor(lengths, dtype=torch.long, device=x.device) - 1  # (B,)
        index = last.view(1, -1, 1).expand(1, *H_all.shape[1:])  # (1, B, H)
        return self.out(H_all.gather(0, index)[0]), state


class CharLM(nn.Module):
    """Character language model: embedding, recurrent layer, logits over the vocabulary.

        e_t = E[x_t];  h_t = RNN(e_t, h_{t-1});  logits_t = h_t W_y + b_y   (softmax in the loss)

    Args:
        vocab_size: V. embed_size: size of E's rows. hidden_size: H.
        kind: "LSTM" (default), "GRU" or "RNN". **rnn_kwargs: e.g. num_layers, dropout.
    """

    def __init__(self, vocab_size, embed_size=32, hidden_size=128, kind="LSTM", **rnn_kwargs):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.rnn = recurrent_layer(kind, embed_size, hidden_size, **rnn_kwargs)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None):
        """x: (T, B) token ids -> logits (T, B, V), state (carry it to continue the text)."""
        H_all, state = self.rnn(self.embed(x), state)
        return self.out(H_all), state
