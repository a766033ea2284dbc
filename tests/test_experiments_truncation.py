"""The echo experiment (lecture 2): the task, the truncation's reach, a small run of each side."""

import matplotlib
import pytest
import torch

from lstm_course.experiments import truncation as tr
from lstm_course.models import SequenceModel
from lstm_course.train import detach_state

matplotlib.use("Agg")


def test_echo_stream_targets_the_input_d_steps_back():
    x, y = tr.echo_stream(50, 3, d=7, n_symbols=3, seed=5)
    assert x.shape == (50, 3, 3) and y.shape == (50, 3)
    assert (x.sum(-1) == 1).all()
    assert (y[:7] == -1).all()
    assert torch.equal(y[7:], x[:-7].argmax(-1))
    x2, _ = tr.echo_stream(50, 3, d=7, n_symbols=3, seed=5)
    assert torch.equal(x, x2)
    with pytest.raises(ValueError):
        tr.echo_stream(5, 1, d=5)


def test_windows_cover_the_stream_in_order():
    x, y = tr.echo_stream(10, 2, d=1)
    parts = tr.windows(x, y, 4)
    assert [len(p[0]) for p in parts] == [4, 4, 2]
    assert torch.equal(torch.cat([p[0] for p in parts]), x)
    assert torch.equal(torch.cat([p[1] for p in parts]), y)


def test_echo_loss_ignores_steps_without_target():
    torch.manual_seed(0)
    model = SequenceModel("GRU", 2, 4, 2, readout="all")
    x, y = tr.echo_stream(6, 2, d=4)
    loss, _, state = tr.echo_loss(model, (x[:4], y[:4]), None)  # no target at all
    assert loss.item() == 0.0 and loss.requires_grad
    loss, _, _ = tr.echo_loss(model, (x, y), None)
    logits, _ = model(x)
    expected = torch.nn.functional.cross_entropy(logits[4:].flatten(0, 1), y[4:].flatten())
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("K, reaches", [(3, False), (4, False), (5, True), (8, True)])
def test_the_loss_reaches_its_source_only_when_the_window_is_longer_than_d(K, reaches):
    """With detached windows, dE/dx_{t-d} is non-zero for some t only if K > d (eq. 2.8)."""
    d = 4
    torch.manual_seed(0)
    model = SequenceModel("LSTM", 2, 4, 2, readout="all")
    x, y = tr.echo_stream(24, 1, d=d)
    x.requires_grad_(True)
    state = None
    for i, (xw, yw) in enumerate(tr.windows(x, y, K)):
        logits, new_state = model(xw, state)
        for t in range(len(xw)):  # each step's loss alone, so each path is seen
            if yw[t, 0] < 0:
                continue
            x.grad = None
            loss = torch.nn.functional.cross_entropy(logits[t], yw[t])
            loss.backward(retain_graph=True)
            source = x.grad[i * K + t - d]  # the input the target at step i K + t echoes
            if source.abs().sum() > 0:
                assert reaches, f"K = {K}: a gradient path of length {d} exists"
                return
        state = detach_state(new_state)
    assert not reaches, f"K = {K}: no loss reached the input {d} steps back"


def test_short_runs_show_both_sides():
    config = tr.EchoConfig(
        d=2, hidden_size=12, batch_size=16, stream_len=256, epochs=6, eval_every_steps=256
    )
    threads = torch.get_num_threads()
    results = tr.run_truncation_experiment([2, 6], config, progress=False)
    assert torch.get_num_threads() == threads  # the one-thread run restores the setting
    assert results[6].final_accuracy > 0.95
    assert results[2].final_accuracy < 0.75
    r = results[6]
    assert len(r.steps_seen) == len(r.accuracy) and r.steps_seen[-1] == 6 * 256
    axes = tr.plot_echo_curves(results, config)
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and len(ax.get_lines()) == 3
    matplotlib.pyplot.close("all")
