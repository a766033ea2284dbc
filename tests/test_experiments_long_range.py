"""Lecture 3's recipes on tiny settings: budgets, seeds, clipping and the remedies' inits."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lstm_course.experiments import long_range  # noqa: E402

TINY = long_range.AddingSetup(
    T=12, hidden_size=8, n_train=256, n_val=64, max_steps=30, eval_every=10
)


def test_adding_data_has_a_fixed_validation_set_apart_from_the_training_set():
    train, val = long_range.adding_data(TINY)
    batch = next(iter(train))
    assert batch.x.shape == (12, 64, 2) and val.x.shape == (12, 64, 2)
    assert val.y.shape == (64, 1)
    assert not torch.equal(long_range.adding_data(TINY)[1].x, batch.x)
    assert torch.equal(long_range.adding_data(TINY)[1].x, val.x)  # the same every call


def test_the_lstm_stops_at_the_target_and_the_rnn_gets_exactly_as_many_steps():
    setup = long_range.AddingSetup(**{**TINY.__dict__, "target_mse": 10.0})  # met at the first eval
    runs = long_range.lstm_vs_rnn(setup, progress=False)
    assert runs["LSTM"].history.steps == 10
    assert runs["LSTM"].history.stop_reason.startswith("target met")
    assert runs["RNN"].history.steps == 10
    assert runs["RNN"].history.stop_reason == "10 steps done"
    assert long_range.final_val_mse(runs["RNN"]) == runs["RNN"].history.evals["val_mse"][-1]


def test_training_is_seeded():
    a = long_range.train_adding("RNN", TINY, progress=False).history
    b = long_range.train_adding("RNN", TINY, progress=False).history
    assert a.loss == b.loss and a.steps == TINY.max_steps


def test_smooth_is_a_trailing_mean():
    np.testing.assert_allclose(long_range.smooth([1, 3, 5, 7], window=2), [1, 2, 4, 6])


def test_clipping_rescues_the_exploding_run():
    """The lecture's claim, at the lecture's own setting (about 2 s)."""
    runs = long_range.clipping_runs(clip_norm=0.5, progress=False)
    wild, clipped = runs["no clipping"].history, runs["clip_norm = 0.5"].history
    assert wild.clip_norm is None and clipped.clip_norm == 0.5
    assert "not finite" in wild.stop_reason and wild.steps < 100
    assert max(g for g in wild.grad_norm if np.isfinite(g)) > 1e10
    assert clipped.steps == long_range.ClipSetup().steps
    assert clipped.loss[-1] < 0.02 < clipped.loss[0]
    assert max(clipped.grad_norm) > 0.5  # the threshold was reached: clipping did act


def test_remedy_initialisations():
    irnn = long_range.make_remedy("IRNN: ReLU, W_h = I", 2, 6)
    assert irnn.nonlinearity == "relu"
    assert torch.equal(irnn.weight_hh_l0, torch.eye(6))
    assert not irnn.bias_hh_l0.any() and not irnn.bias_ih_l0.any()
    ortho = long_range.make_remedy("tanh RNN, orthogonal W_h", 2, 6).weight_hh_l0.detach().numpy()
    np.testing.assert_allclose(np.linalg.svd(ortho, compute_uv=False), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="name"):
        long_range.make_remedy("ResNet", 2, 6)


def test_gradient_flow_at_init_orders_the_remedies():
    torch.manual_seed(0)
    X = torch.rand(30, 3, 2)
    flows = long_range.gradient_flow_at_init(X, hidden_size=16)
    assert set(flows) == set(long_range.REMEDIES)
    assert all(norms.shape == (30, 3) for norms in flows.values())
    final = {name: np.median(norms[-1]) for name, norms in flows.items()}
    assert np.all(flows["IRNN: ReLU, W_h = I"] <= 1 + 1e-5)  # relu' in {0, 1}, ||I|| = 1
    assert final["tanh RNN (default init)"] < final["tanh RNN, orthogonal W_h"]
    assert final["tanh RNN (default init)"] < 1e-3 < final["IRNN: ReLU, W_h = I"]


def test_plots_label_their_axes():
    fig, axes = plt.subplots(1, 4)
    runs = {"RNN": long_range.train_adding("RNN", TINY, progress=False)}
    long_range.plot_learning_curves(axes[0], runs, TINY)
    long_range.plot_clipping(axes[1:3], {"no clipping": runs["RNN"]})
    long_range.plot_gradient_flow(axes[3], {"a": np.ones((5, 2))}, extra={"b": np.ones((5, 2))})
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_yscale() == "log"
    plt.close(fig)
