"""Lecture 1's experiments: the window floor, the window MLP, the four pattern recipes, plots.

The recipes run on small settings (a few hundred steps); assertions are on what the lecture
claims (the floor holds, W_h never moves at T = 1, the RNN learns each pattern), not on times.
"""

import matplotlib
import numpy as np
import pytest
import torch

from lstm_course.data import AddingProblem
from lstm_course.experiments import patterns

matplotlib.use("Agg")


# ----- the window floor and the window MLP -----


@pytest.mark.parametrize("T", [2, 7, 20])
def test_floor_runs_from_the_mean_baseline_to_zero_and_never_rises(T):
    floors = [patterns.adding_window_floor(T, w) for w in range(T + 1)]
    assert floors[0] == pytest.approx(AddingProblem.baseline_mse)
    assert floors[-1] == 0.0
    assert all(a >= b for a, b in zip(floors, floors[1:], strict=False))


@pytest.mark.parametrize("T, window", [(20, 5), (20, 15), (9, 6)])
def test_floor_equals_the_mse_of_the_best_guess_on_sampled_problems(T, window):
    """Answer the seen marked numbers exactly and 1/2 for each unseen one: that is the floor."""
    data = AddingProblem(40_000, T, seed=3)
    values = data.x[..., 0].double()  # (N, T)
    seen = data.positions >= T - window  # (N, 2)
    marked = values.gather(1, data.positions)  # (N, 2)
    guess = torch.where(seen, marked, torch.full_like(marked, 0.5)).sum(1)
    mse = ((guess - data.y[:, 0].double()) ** 2).mean().item()
    assert mse == pytest.approx(patterns.adding_window_floor(T, window), abs=0.004)


@pytest.mark.parametrize("T, window", [(1, 0), (10, -1), (10, 11)])
def test_floor_rejects_impossible_windows(T, window):
    with pytest.raises(ValueError):
        patterns.adding_window_floor(T, window)


def test_window_mlp_reads_exactly_its_window_in_order():
    torch.manual_seed(0)
    mlp = patterns.WindowMLP(window=4, input_size=2, hidden_size=8, output_size=3)
    x = torch.randn(4, 5, 2)
    assert mlp(x).shape == (5, 3)
    changed = x.clone()
    changed[0, 0] += 1.0  # the oldest step of sequence 0 only
    diff = (mlp(changed) - mlp(x)).abs().sum(1)
    assert diff[0] > 0 and torch.all(diff[1:] == 0)
    with pytest.raises(ValueError, match="exactly 4 steps"):
        mlp(torch.randn(8, 5, 2))


def test_window_experiment_mlp_stays_above_its_floor_and_the_rnn_goes_below_it():
    result = patterns.window_experiment(
        T=6, windows=(1, 6), steps=300, n_train=1024, progress=False
    )
    n = result.numbers
    assert n["floor"] == [patterns.adding_window_floor(6, 1), 0.0]
    assert n["mlp_mse"][0] > 0.9 * n["floor"][0]  # a model can't beat the floor (up to noise)
    assert n["rnn_mse"] < 0.5 * n["floor"][0]
    assert n["mlp_params"][0] < n["mlp_params"][1]  # the MLP grows with its window
    assert len(result.curves["mlps"]) == 2 and result.history.steps == 300


# ----- the four patterns -----


@pytest.fixture(scope="module")
def trained():
    """Each recipe once, small; shared by the tests below."""
    return {
        "one_to_one": patterns.one_to_one(steps=300, progress=False),
        "one_to_many": patterns.one_to_many(
            T=15, hidden_size=32, n_train=512, steps=300, progress=False
        ),
        "many_to_one": patterns.many_to_one(
            n_train=1024, steps=300, test_ranges=((4, 12), (13, 20)), progress=False
        ),
        "many_to_many": patterns.many_to_many(
            n_train=1024, steps=300, test_bits=(8, 24), example_bits=12, progress=False
        ),
    }


def test_one_to_one_fits_sine_and_never_moves_w_h(trained):
    result = trained["one_to_one"]
    assert result.numbers["W_h_change"] == 0.0  # h_0 = 0: W_h gets a zero gradient
    assert result.numbers["grid_mse"] < 0.02
    assert result.curves["y_pred"].shape == result.curves["x_grid"].shape


def test_sine_from_frequency_gives_the_frequency_once_and_the_wave_everywhere():
    data = patterns.sine_from_frequency(50, T=12, freq_range=(0.05, 0.1), seed=4)
    assert data.x.shape == (50, 12, 1) and data.y.shape == (50, 12, 1)
    assert torch.all(data.x[:, 1:] == 0) and torch.all(data.x[:, 0].abs() <= 1)
    f = torch.as_tensor(data.freq, dtype=torch.float32)
    expected = torch.sin(2 * torch.pi * f[:, None] * torch.arange(1, 13))
    torch.testing.assert_close(data.y[..., 0], expected, atol=1e-5, rtol=0)
    scaled = (f - 0.075) / 0.025
    torch.testing.assert_close(data.x[:, 0, 0], scaled, atol=1e-6, rtol=0)


def test_one_to_many_generates_waves_far_better_than_silence(trained):
    result = trained["one_to_many"]
    assert result.numbers["test_mse"] < 0.05 * result.numbers["silent_mse"]
    assert result.curves["y_pred"].shape == result.curves["y_true"].shape == (15, 3)


def test_review_data_labels_follow_the_word_counts():
    data = patterns.review_data(300, 3, 9, seed=5)
    scores = np.array(patterns.SCORES)
    for i in range(300):
        ids = data.ids[i][data.ids[i] >= 0]
        L = int(data.length[i])
        assert len(ids) == L and 3 <= L <= 9
        assert scores[ids].sum() != 0
        assert data.y[i, 0] == float(scores[ids].sum() > 0)
        assert torch.all(data.x[i, :L].sum(-1) == 1) and torch.all(data.x[i, L:] == 0)
        assert data.mask[i].nonzero().flatten().tolist() == [L - 1]
        assert len(patterns.review_text(data.ids[i]).split()) == L


def test_many_to_one_classifies_reviews_of_any_length(trained):
    result = trained["many_to_one"]
    assert result.numbers["accuracy"][0] > 0.95
    assert result.numbers["accuracy"][1] > 0.85  # longer than anything seen in training
    text, label, prob = result.curves["examples"][0]
    assert isinstance(text, str) and label in (0, 1) and 0 <= prob <= 1


def test_many_to_many_adds_longer_numbers_than_it_was_trained_on(trained):
    result = trained["many_to_many"]
    assert result.numbers["accuracy"] == [1.0, 1.0]
    c = result.curves
    assert c["predicted"] == c["a"] + c["b"]
    assert c["x"].shape == (13, 2) and c["p"].shape == (13,)


@pytest.mark.parametrize(
    "name", ["one_to_one", "one_to_many", "many_to_one", "many_to_many"], ids=str
)
def test_each_pattern_plot_labels_its_axes(trained, name):
    fig = getattr(patterns, f"plot_{name}")(trained[name])
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()
    matplotlib.pyplot.close(fig)


def test_window_plot_labels_its_axes():
    result = patterns.Trained(
        model=None,
        history=None,
        numbers=dict(
            T=4,
            windows=[1, 4],
            mlp_mse=[0.15, 0.02],
            rnn_mse=0.01,
            baseline=1 / 6,
            rnn_params=10,
            mlp_params=[20, 40],
        ),
    )
    fig = patterns.plot_window_experiment(result)
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    matplotlib.pyplot.close(fig)
