"""Checkpoints: a round trip gives the same model, optimizer and history; bad files fail clearly."""

import dataclasses

import pytest
import torch
from torch import nn

from lstm_course import set_seed
from lstm_course.train import (
    CheckpointError,
    History,
    fit,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)


@dataclasses.dataclass
class Config:
    D: int = 2
    H: int = 8
    layers: int = 1
    name: str = "tiny"


class Tagger(nn.Module):
    """torch.nn.LSTM + Linear: (T, B, D) -> (T, B, 1)."""

    def __init__(self, config: Config):
        super().__init__()
        self.lstm = nn.LSTM(config.D, config.H, num_layers=config.layers)
        self.head = nn.Linear(config.H, 1)

    def forward(self, X):
        return self.head(self.lstm(X)[0])


def build(config: dict) -> nn.Module:
    return Tagger(Config(**config))


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(3, 6, 4, 2, generator=g)  # 3 batches of (T, B, D) = (6, 4, 2)
    return [(x, x.sum(-1, keepdim=True).cumsum(0)) for x in X]


def _loss(model, batch):
    X, Y = batch
    return (model(X) - Y).pow(2).mean()


def _one_more_step(model, optimizer, batch):
    optimizer.zero_grad()
    _loss(model, batch).backward()
    optimizer.step()


@pytest.fixture
def trained(tmp_path):
    set_seed(0)
    config = Config()
    model = Tagger(config)
    adam = torch.optim.Adam(model.parameters(), lr=1e-2)
    path = tmp_path / "runs" / "tagger.pt"  # the folder does not exist yet
    history = fit(
        model,
        _data(),
        _loss,
        steps=6,
        optimizer=adam,
        device="cpu",
        progress=False,
        checkpoint_path=path,
        config=config,
    )
    return model, adam, history, path


def test_round_trip_gives_the_same_outputs_config_history_and_optimizer(trained):
    model, adam, history, path = trained
    loaded, config, extra = load_checkpoint(path, build, device="cpu")
    assert config == dataclasses.asdict(Config())
    assert not loaded.training
    X = _data(seed=1)[0][0]
    model.eval()
    assert torch.equal(loaded(X), model(X))
    assert isinstance(extra["history"], History)
    assert extra["history"].to_dict() == history.to_dict()
    assert extra["versions"]["torch"] == torch.__version__
    # Resuming: Adam's moments come back, so one more step matches the original run exactly.
    loaded.train()
    model.train()
    resumed = torch.optim.Adam(loaded.parameters(), lr=1e-2)
    resumed.load_state_dict(extra["optimizer"])
    _one_more_step(model, adam, _data()[0])
    _one_more_step(loaded, resumed, _data()[0])
    for p, q in zip(model.parameters(), loaded.parameters(), strict=True):
        assert torch.equal(p, q)


def test_without_the_optimizer_state_resuming_differs(trained):
    model, adam, _, path = trained
    loaded, _, _ = load_checkpoint(path, build, device="cpu")
    fresh = torch.optim.Adam(loaded.parameters(), lr=1e-2)
    _one_more_step(model, adam, _data()[0])
    _one_more_step(loaded, fresh, _data()[0])
    assert not all(
        torch.equal(p, q) for p, q in zip(model.parameters(), loaded.parameters(), strict=True)
    )


def test_loads_on_the_cpu_with_plain_weights_only_torch_load(trained):
    _, _, _, path = trained
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert set(raw) == {"format", "state_dict", "config", "optimizer", "history", "versions"}
    assert all(t.device.type == "cpu" for t in raw["state_dict"].values())
    model, _, _ = load_checkpoint(path, build, device="cpu")
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    assert not list(path.parent.glob("*.partial"))  # written aside, then renamed


def test_a_plain_dict_config_and_no_extras(tmp_path):
    model = nn.Linear(3, 2)
    save_checkpoint(tmp_path / "lin.pt", model, {"sizes": [3, 2]})
    loaded, config, extra = load_checkpoint(
        tmp_path / "lin.pt", lambda c: nn.Linear(*c["sizes"]), device="cpu"
    )
    assert config == {"sizes": [3, 2]} and extra["optimizer"] is None and extra["history"] is None
    assert torch.equal(loaded.weight, model.weight)


class Payload:
    """Any class: a pickle of it could run code when loaded."""


def test_a_checkpoint_with_arbitrary_objects_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "lstm_course.checkpoint/1", "payload": Payload()}, path)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        read_checkpoint(path)
    with pytest.raises(TypeError, match=r"config\['act'\] is a ReLU"):
        save_checkpoint(tmp_path / "x.pt", nn.Linear(1, 1), {"act": nn.ReLU()})
    with pytest.raises(TypeError, match=r"config\['torch'\] is a TorchVersion"):
        save_checkpoint(tmp_path / "x.pt", nn.Linear(1, 1), {"torch": torch.__version__})
    with pytest.raises(TypeError, match="dict or a dataclass"):
        save_checkpoint(tmp_path / "x.pt", nn.Linear(1, 1), "H=8")


def test_missing_corrupted_and_foreign_files_fail_clearly(trained, tmp_path):
    _, _, _, path = trained
    with pytest.raises(FileNotFoundError, match="no checkpoint file at .*nowhere.pt"):
        load_checkpoint(tmp_path / "nowhere.pt", build)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="truncated.pt is not a readable checkpoint"):
        load_checkpoint(truncated, build, device="cpu")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(garbage, build, device="cpu")
    foreign = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), foreign)
    with pytest.raises(CheckpointError, match="not written by save_checkpoint"):
        load_checkpoint(foreign, build, device="cpu")


def test_a_config_that_builds_a_different_model_fails_loudly(trained):
    _, _, _, path = trained
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_checkpoint(path, lambda c: Tagger(Config(**{**c, "H": 4})), device="cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_gpu_checkpoint_loads_on_the_cpu(tmp_path):
    model = Tagger(Config()).cuda()
    save_checkpoint(tmp_path / "gpu.pt", model, Config())
    loaded, _, _ = load_checkpoint(tmp_path / "gpu.pt", build, device="cpu")
    assert {p.device.type for p in loaded.parameters()} == {"cpu"}
    assert torch.equal(loaded.head.weight, model.head.weight.cpu())
