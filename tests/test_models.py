"""SequenceModel and CharLM: shapes, readouts, lengths and carried state."""

import pytest
import torch

from lstm_course.models import CharLM, SequenceModel


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_sequence_model_readouts(kind):
    torch.manual_seed(0)
    x = torch.randn(7, 3, 4)
    last = SequenceModel(kind, 4, 5, 2, readout="last")
    y, state = last(x)
    assert y.shape == (3, 2)
    every = SequenceModel(kind, 4, 5, 2, readout="all")
    every.load_state_dict(last.state_dict())
    y_all, _ = every(x)
    assert y_all.shape == (7, 3, 2)
    torch.testing.assert_close(y_all[-1], y)


def test_last_readout_with_lengths_reads_each_sequence_at_its_end():
    torch.manual_seed(0)
    model = SequenceModel("LSTM", 4, 5, 1)
    x = torch.randn(6, 2, 4)
    y, _ = model(x, lengths=[6, 3])
    torch.testing.assert_close(y[1], model(x[:3, 1:2])[0][0])
    torch.testing.assert_close(y[0], model(x[:, 0:1])[0][0])


def test_char_lm_carries_its_state():
    torch.manual_seed(0)
    lm = CharLM(vocab_size=11, embed_size=4, hidden_size=6)
    x = torch.randint(0, 11, (8, 2))
    whole, _ = lm(x)
    first, state = lm(x[:5])
    rest, _ = lm(x[5:], state)
    assert whole.shape == (8, 2, 11)
    torch.testing.assert_close(torch.cat([first, rest]), whole)


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        SequenceModel("Transformer", 2, 3, 1)
    with pytest.raises(ValueError, match="readout must be"):
        SequenceModel("RNN", 2, 3, 1, readout="first")
