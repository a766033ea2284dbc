"""From-scratch NumPy implementations: explicit forward, hand-written backward.

Time-major shapes (X is (T, B, D)), row-vector maths (x_t @ W_x), gates stacked in torch.nn's
order (LSTM i, f, g, o; GRU r, z, n). Every backward is checked against numeric gradients and
against torch autograd in tests/. Only NumPy is imported here; torch_params imports torch when
it is called.

    from lstm_course.scratch import lstm
    H_all, (h_T, c_T), cache = lstm.lstm_forward(X, None, p)
"""

from lstm_course.scratch import (
    activations,
    attention,
    gradcheck,
    gru,
    layers,
    losses,
    lstm,
    optim,
    rnn,
    tbptt,
    torch_params,
)

__all__ = [
    "activations",
    "attention",
    "gradcheck",
    "gru",
    "layers",
    "losses",
    "lstm",
    "optim",
    "rnn",
    "tbptt",
    "torch_params",
]
