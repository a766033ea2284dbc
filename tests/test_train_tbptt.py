"""fit(stateful=True): truncated BPTT passes the detached state on and cuts the gradient there."""

import pytest
import torch
from torch import nn

from lstm_course import set_seed
from lstm_course.train import fit


class Tagger(nn.Module):
    """torch.nn.LSTM + Linear with the state in and out: (T, B, D) -> (T, B), (h, c)."""

    def __init__(self, D=1, H=4):
        super().__init__()
        self.lstm = nn.LSTM(D, H)
        self.head = nn.Linear(H, 1)

    def forward(self, X, state=None):
        H_all, state = self.lstm(X, state)  # (T, B, H); h, c: (1, B, H)
        return self.head(H_all).squeeze(-1), state


class LinearRNN(nn.Module):
    """h_t = w h_{t-1} + x_t with a scalar w: each window's gradient is known by hand."""

    def __init__(self, w=0.5):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=torch.float64))

    def forward(self, X, h):  # X (T, B), h (B,)
        for x_t in X:
            h = self.w * h + x_t
        return h


def _stateful_run(windows, epochs=1):
    """Train LinearRNN with lr=0 (w stays fixed) and record every state in and every dL/dw."""
    model = LinearRNN()
    states_in, grads = [], []
    model.w.register_hook(lambda g: grads.append(g.item()))

    def loss_fn(model, X, state):
        states_in.append(state)
        h0 = torch.zeros(X.shape[1], dtype=X.dtype) if state is None else state
        h = model(X, h0)
        return h.sum(), {}, h

    sgd = torch.optim.SGD(model.parameters(), lr=0.0)
    fit(
        model,
        windows,
        loss_fn,
        epochs=epochs,
        optimizer=sgd,
        clip_norm=None,
        stateful=True,
        device="cpu",
        progress=False,
    )
    return model, states_in, grads


def test_stateful_passes_the_detached_final_state_and_truncates_the_gradient():
    g = torch.Generator().manual_seed(3)
    X = torch.randn(8, 3, generator=g, dtype=torch.float64)  # one stream, T=8, B=3
    windows = list(X.split(2))  # 4 windows of 2 steps
    model, states_in, grads = _stateful_run(windows)
    w = model.w.item()
    assert states_in[0] is None
    h = torch.zeros(3, dtype=torch.float64)
    for k, window in enumerate(windows):
        s = h  # the state window k starts from
        if k > 0:
            assert torch.allclose(states_in[k], s, rtol=0, atol=1e-12)  # the forward is exact
            assert not states_in[k].requires_grad and states_in[k].grad_fn is None
        # L = sum(h_2), h_2 = w^2 s + w x_1 + x_2, with s a constant: dL/dw = sum(2 w s + x_1).
        assert grads[k] == pytest.approx((2 * w * s + window[0]).sum().item(), abs=1e-12)
        h = w * (w * s + window[0]) + window[1]


def test_state_resets_at_each_epoch_and_when_the_batch_size_changes():
    g = torch.Generator().manual_seed(4)
    windows = [torch.randn(2, B, generator=g, dtype=torch.float64) for B in (3, 3, 2, 2)]
    _, states_in, _ = _stateful_run(windows, epochs=2)
    fresh = [k for k, state in enumerate(states_in) if state is None]
    assert fresh == [0, 2, 4, 6]


def test_stateful_lstm_state_is_a_tuple_of_detached_tensors():
    set_seed(5)
    model, seen, returned = Tagger(H=4), [], []

    def loss_fn(model, batch, state):
        seen.append(state)
        X, Y = batch
        Y_hat, state = model(X, state)
        returned.append(state)
        mse = (Y_hat - Y).pow(2).mean()
        return mse, {"mse": mse}, state

    g = torch.Generator().manual_seed(5)
    stream = torch.randn(9, 2, 1, generator=g)  # T=9, B=2, D=1, cut into 3 windows
    windows = [(x, x[..., 0].cumsum(0)) for x in stream.split(3)]
    history = fit(
        model,
        windows,
        loss_fn,
        steps=3,
        stateful=True,
        device="cpu",
        progress=False,
    )
    assert seen[0] is None
    for (h, c), (h_end, c_end) in zip(seen[1:], returned, strict=False):
        assert isinstance(seen[1], tuple) and h.shape == c.shape == (1, 2, 4)
        assert torch.equal(h, h_end) and torch.equal(c, c_end)  # the same values...
        assert h_end.grad_fn is not None and h.grad_fn is None and c.grad_fn is None  # no graph
    assert len(history.metrics["mse"]) == 3
