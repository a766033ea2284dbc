"""Training works end to end: our modules, our datasets and fit() drive real losses down.

Short seeded runs on small fixed batches; the assertions are on the metric, never the time.
"""

import pytest
import torch
from torch import nn

from lstm_course import modules, set_seed
from lstm_course.data import (
    AddingProblem,
    Vocab,
    make_loader,
    stdlib_docstring_corpus,
    stream_batches,
)
from lstm_course.train import fit


class LastStepRegressor(nn.Module):
    """A recurrent layer read out at its last step: y = h_T w + b (the adding problem)."""

    def __init__(self, kind, hidden_size=32):
        super().__init__()
        self.rnn = getattr(modules, kind)(2, hidden_size)
        self.out = nn.Linear(hidden_size, 1)

    def forward(self, x):  # x: (T, B, 2)
        H_all, _ = self.rnn(x)
        return self.out(H_all[-1])  # (B, 1)


def mse(model, batch):
    loss = nn.functional.mse_loss(model(batch.x), batch.y)
    return loss, {"mse": loss}


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_each_recurrent_module_learns_the_adding_problem_on_a_fixed_batch(kind):
    set_seed(0)
    batch = next(iter(make_loader(AddingProblem(64, T=10, seed=1), batch_size=64, seed=0)))
    model = LastStepRegressor(kind)
    before = mse(model, batch)[0].item()
    history = fit(model, [batch], mse, steps=300, lr=1e-2, device="cpu", progress=False)
    assert history.last("mse") < 0.05 * before, (before, history.last("mse"))


class CharLM(nn.Module):
    """Embedding -> LSTM -> logits over the vocabulary, carrying (h, c) between windows."""

    def __init__(self, V, hidden_size=64):
        super().__init__()
        self.embed = nn.Embedding(V, 32)
        self.lstm = modules.LSTM(32, hidden_size)
        self.out = nn.Linear(hidden_size, V)

    def forward(self, x, state=None):  # x: (T, B) ids
        H_all, state = self.lstm(self.embed(x), state)
        return self.out(H_all), state  # (T, B, V)


def test_char_lm_with_truncated_bptt_learns_real_text():
    set_seed(0)
    text = stdlib_docstring_corpus()[:6000]
    vocab = Vocab.from_text(text)
    windows = list(stream_batches(vocab.encode(text), batch_size=8, seq_len=25))
    model = CharLM(len(vocab))

    def loss_fn(model, batch, state):
        x, y = batch
        logits, state = model(x, state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        return loss, {"bits_per_char": loss / torch.log(torch.tensor(2.0))}, state

    history = fit(
        model, windows, loss_fn, epochs=6, lr=1e-2, device="cpu", stateful=True, progress=False
    )
    first, last = history.loss[0], history.loss[-1]
    assert first > 3.5  # about log(V): knows nothing
    assert last < 0.6 * first, (first, last)
