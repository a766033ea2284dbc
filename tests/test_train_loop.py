"""fit: it learns, reproducibly; clipping, truncated BPTT, early stop, evaluation, accounting."""

import copy
import math
from collections import namedtuple

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 (the universal spelling)
from torch import nn

from lstm_course import set_seed
from lstm_course.train import batch_size, detach_state, fit, to_device


class Regressor(nn.Module):
    """torch.nn.LSTM + Linear: (T, B, D) inputs -> (T, B) predictions."""

    def __init__(self, D=1, H=16):
        super().__init__()
        self.lstm = nn.LSTM(D, H)
        self.head = nn.Linear(H, 1)

    def forward(self, X, state=None):
        H_all, state = self.lstm(X, state)  # (T, B, H)
        return self.head(H_all).squeeze(-1), state  # (T, B)


def delay_batches(n=4, T=12, B=16, seed=0):
    """y_t = x_{t-2}: the network must remember two steps back."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, T, B, 1, generator=g)
    Y = torch.zeros(n, T, B)
    Y[:, 2:] = X[:, :-2, :, 0]
    return [(X[i], Y[i]) for i in range(n)]


def mse(model, batch):
    X, Y = batch
    Y_hat, _ = model(X)
    return F.mse_loss(Y_hat, Y)


def tiny_run(**kwargs):
    """A 1-parameter model on 4 batches: for accounting tests where learning does not matter."""
    model = nn.Linear(1, 1)
    batches = [torch.full((2, 1), float(i)) for i in range(4)]
    kwargs.setdefault("progress", False)
    return fit(model, batches, lambda m, x: m(x).pow(2).mean(), device="cpu", **kwargs)


def train_delay_task():
    set_seed(0)
    model = Regressor()
    history = fit(model, delay_batches(), mse, steps=150, lr=1e-2, device="cpu", progress=False)
    return model, history


def test_a_short_seeded_run_learns_and_repeats_bit_for_bit():
    model_a, a = train_delay_task()
    model_b, b = train_delay_task()
    assert a.loss[-1] < 0.1 * a.loss[0]
    assert a.steps == 150 and a.stop_reason == "150 steps done"
    assert a.loss == b.loss and a.grad_norm == b.grad_norm
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_progress_bar_shows_the_running_loss_and_main_metric(capsys):
    tiny_run(steps=3, progress=True, eval_fn=lambda m: {"val_loss": 1.0}, eval_every=1)
    err = capsys.readouterr().err
    assert "loss=" in err and "val_loss=1" in err
    tiny_run(steps=3, progress=False)
    assert capsys.readouterr().err == ""


def _grad_norm_by_hand(model, batch):
    model = copy.deepcopy(model)
    mse(model, batch).backward()
    return math.sqrt(sum(p.grad.pow(2).sum().item() for p in model.parameters()))


def _update_norm(clip_norm):
    set_seed(1)
    model = Regressor()
    batch = delay_batches(n=1)[0]
    before = copy.deepcopy(model)
    expected = _grad_norm_by_hand(model, batch)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    history = fit(
        model,
        [batch],
        mse,
        steps=1,
        optimizer=sgd,
        clip_norm=clip_norm,
        device="cpu",
        progress=False,
    )
    moved = math.sqrt(
        sum(
            (p - q).pow(2).sum().item()
            for p, q in zip(model.parameters(), before.parameters(), strict=True)
        )
    )
    return history.grad_norm[0], expected, moved


def test_grad_norm_is_recorded_before_clipping_and_clipping_shrinks_the_update():
    recorded, expected, moved_clipped = _update_norm(clip_norm=1e-3)
    assert expected > 1e-2  # so a threshold of 1e-3 really clips
    assert recorded == pytest.approx(expected, rel=1e-5)  # the pre-clip norm
    assert moved_clipped == pytest.approx(0.1 * 1e-3, rel=1e-3)  # SGD: lr * clipped norm
    recorded, expected, moved_free = _update_norm(clip_norm=None)
    assert recorded == pytest.approx(expected, rel=1e-5)
    assert moved_free == pytest.approx(0.1 * expected, rel=1e-3)
    assert moved_clipped < moved_free / 10


def test_early_stop_on_a_train_metric_a_callable_and_an_eval_metric():
    count = iter(range(1, 100))

    def countdown(model, x):
        return model(x).pow(2).mean(), {"countdown": 10 - next(count)}

    history = fit(
        nn.Linear(1, 1),
        [torch.ones(2, 1)],
        countdown,
        steps=50,
        target=("countdown", "<=", 3),
        device="cpu",
        progress=False,
    )
    assert history.steps == history.stopped_at == 7
    assert history.stop_reason == "target met: countdown = 3 <= 3"

    def reached_zero(now):
        return now["countdown"] == 0

    history = fit(
        nn.Linear(1, 1),
        [torch.ones(2, 1)],
        countdown,
        steps=50,
        target=reached_zero,
        device="cpu",
        progress=False,
    )
    assert history.steps == 3  # the counter goes on from 7: 10 - 10 == 0 at the third step
    assert history.stop_reason == "target met: reached_zero"

    scores = iter([5.0, 4.0, 3.0, 2.0])
    history = tiny_run(
        steps=50,
        eval_fn=lambda m: {"val_score": next(scores)},
        eval_every=3,
        target=("val_score", "<", 3.5),
    )
    assert history.steps == 9 and history.eval_steps == [3, 6, 9]
    assert history.stop_reason.startswith("target met: val_score = 3 < 3.5")


def test_a_target_that_is_never_recorded_is_an_error():
    with pytest.raises(ValueError, match="never recorded"):
        tiny_run(steps=5, target=("val_mes", "<", 0.1))
    with pytest.raises(ValueError, match="op"):
        tiny_run(steps=5, target=("loss", "=<", 0.1))


def test_eval_runs_every_eval_every_steps_in_eval_mode_without_grad():
    modes, calls = [], []

    def loss_fn(model, x):
        modes.append(model.training)
        return model(x).pow(2).mean()

    def eval_fn(model):
        calls.append((model.training, torch.is_grad_enabled()))
        return {"val_loss": torch.tensor(1.5)}

    model = nn.Linear(1, 1)
    batches = [torch.ones(2, 1)] * 4
    history = fit(
        model,
        batches,
        loss_fn,
        steps=10,
        eval_fn=eval_fn,
        eval_every=3,
        device="cpu",
        progress=False,
    )
    assert history.eval_steps == [3, 6, 9, 10]  # and once more after the last step
    assert calls == [(False, False)] * 4
    assert modes == [True] * 10 and model.training
    assert history.evals["val_loss"] == [1.5] * 4


@pytest.mark.parametrize(
    ("kwargs", "steps", "epochs", "reason"),
    [
        ({"epochs": 3}, 12, 3, "3 epochs done"),
        ({"steps": 10}, 10, 2, "10 steps done"),
        ({"steps": 8}, 8, 2, "8 steps done"),
        ({"steps": 100, "epochs": 2}, 8, 2, "2 epochs done"),
        ({"steps": 3, "epochs": 2}, 3, 0, "3 steps done"),
    ],
)
def test_steps_and_epochs_accounting(kwargs, steps, epochs, reason):
    history = tiny_run(**kwargs)
    assert (history.steps, history.epochs, history.stop_reason) == (steps, epochs, reason)
    assert len(history.loss) == len(history.grad_norm) == len(history.time) == steps
    assert history.time == sorted(history.time)


def test_bad_stopping_arguments_and_used_up_generators_are_errors():
    with pytest.raises(ValueError, match="when to stop"):
        tiny_run()
    with pytest.raises(ValueError, match="positive int"):
        tiny_run(steps=0)
    loss = lambda m, x: m(x).pow(2).mean()  # noqa: E731
    with pytest.raises(ValueError, match="generator"):
        fit(
            nn.Linear(1, 1),
            (torch.ones(2, 1) for _ in range(2)),
            loss,
            epochs=2,
            device="cpu",
            progress=False,
        )
    with pytest.raises(ValueError, match="scalar"):
        fit(
            nn.Linear(1, 1),
            [torch.ones(2, 1)],
            lambda m, x: m(x),
            steps=1,
            device="cpu",
            progress=False,
        )


def test_non_finite_loss_stops_without_touching_the_weights():
    model = nn.Linear(1, 1)
    step = iter(range(1, 100))

    def loss_fn(model, x):
        loss = model(x).pow(2).mean()
        return loss * math.inf if next(step) == 3 else loss

    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, [torch.ones(2, 1)], loss_fn, steps=2, optimizer=sgd, device="cpu", progress=False)
    after_two = copy.deepcopy(model.state_dict())
    history = fit(
        model, [torch.ones(2, 1)], loss_fn, steps=10, optimizer=sgd, device="cpu", progress=False
    )
    assert history.steps == 1 and "not finite" in history.stop_reason
    for name, value in model.state_dict().items():
        assert torch.equal(value, after_two[name])


def test_ctrl_c_ends_the_run_cleanly():
    step = iter(range(1, 100))

    def loss_fn(model, x):
        if next(step) == 3:
            raise KeyboardInterrupt
        return model(x).pow(2).mean()

    history = fit(
        nn.Linear(1, 1), [torch.ones(2, 1)], loss_fn, steps=10, device="cpu", progress=False
    )
    assert history.steps == 2 and history.stop_reason == "interrupted after step 2"


def test_to_device_detach_state_and_batch_size_keep_the_structure():
    Pair = namedtuple("Pair", "x y")
    x = torch.ones(5, 3, 2, requires_grad=True) * 2  # (T, B, D), with a grad_fn
    batch = {"pair": Pair(x, [x, 7]), "name": "abc"}
    moved = to_device(batch, "cpu")
    assert isinstance(moved["pair"], Pair) and moved["pair"].y[1] == 7 and moved["name"] == "abc"
    assert batch_size(batch) == 3 and batch_size(torch.zeros(4)) == 4
    h, c = detach_state((x, x))
    assert h.grad_fn is None and c.grad_fn is None and torch.equal(h, x)
    assert detach_state(None) is None
    with pytest.raises(TypeError, match="state"):
        detach_state("h")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_moves_model_and_cpu_batches_to_cuda(tmp_path):
    set_seed(0)
    model = Regressor()
    history = fit(
        model,
        delay_batches(),
        mse,
        steps=5,
        device="cuda",
        progress=False,
        checkpoint_path=tmp_path / "gpu.pt",
        config={"H": 16},
    )
    assert next(model.parameters()).device.type == "cuda" and history.steps == 5
    from lstm_course.train import load_checkpoint

    cpu_model, _, _ = load_checkpoint(tmp_path / "gpu.pt", lambda c: Regressor(H=c["H"]), "cpu")
    X = delay_batches(n=1)[0][0]
    model.eval()
    expected = model(X.cuda())[0].cpu()
    assert torch.allclose(cpu_model(X)[0], expected, atol=1e-5)


def test_scheduler_decays_the_learning_rate_and_records_it():
    model = torch.nn.Linear(2, 1)
    batch = (torch.ones(4, 2), torch.zeros(4, 1))

    def loss_fn(model, batch):
        x, y = batch
        return torch.nn.functional.mse_loss(model(x), y)

    history = fit(
        model,
        [batch],
        loss_fn,
        steps=6,
        lr=0.1,
        device="cpu",
        progress=False,
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
    )
    assert history.series("lr")[1] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
